"""The ``/credits balance`` answer: plan and extra credits, holds, spend, burn rate and run-out day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.forecast import CycleOutlook, Outlook, round_half_up
from bot.domain.ledger import Balance
from bot.services.balances.team_balances import BalanceReport
from bot.slack.blocks.budgets import project_lines
from bot.slack.blocks.format import credits, day_seen_from, number, on_day, plural
from bot.slack.ids import BlockId


def counting_holds(balance: Balance) -> str:
    """`` (1,213 counting the 13 held for pending tasks)`` when holds deepen the overdraft, else empty.

    The overdraft is what was charged beyond the plan and extra credits; the available figure also takes
    off what is held, so the two differ by the holds: one screen names both, never two bare figures.
    """
    return f" ({_with_holds(balance)})" if balance.held and balance.available < 0 else ""


def _with_holds(balance: Balance) -> str:
    return f"{-balance.available:,} counting the {balance.held:,} held for pending tasks"


def _short_now(available: int, balance: Balance | None) -> str:
    if available >= 0:
        return ""
    if balance is None or not balance.held:
        return f" (overdrawn by {credits(-available)})"
    if balance.overdrawn_by:
        return f" (overdrawn by {credits(balance.overdrawn_by)}; {_with_holds(balance)})"
    return f" ({credits(-available)} short of what is held for pending tasks)"


def outlook_lines(
    outlook: CycleOutlook, monthly_credits: int, zone: ZoneInfo | None = None, balance: Balance | None = None
) -> list[str]:
    """Whether the credits last to the renewal at this pace; if not, what it takes, now and next cycle.

    Never a day past the renewal: unused plan credits lapse then, so a later date would not be true.
    ``balance`` (the same moment's) names an overdraft the way the figures do: what was charged beyond
    the credits, and what it comes to counting the holds (the outlook's ``available``).
    """
    renews = on_day(outlook.renews_on, zone, outlook.today)
    more = f"{outlook.needed:,} more credit" + ("" if outlook.needed == 1 else "s")
    need = f"At this pace you need about {more} before {renews}."
    next_cycle = f"Next cycle at this pace: about {credits(outlook.next_cycle_need)} for a {monthly_credits:,} plan."
    if outlook.outlook is Outlook.NO_SPEND:
        return [f":large_green_circle: No spending in the last 7 days; the plan renews on {renews}."]
    if outlook.outlook is Outlook.LASTS:
        return [f":large_green_circle: Lasts to the renewal on {renews} at this pace; unused plan credits lapse then."]
    if outlook.outlook is Outlook.OUT_NOW:
        short = _short_now(outlook.available, balance)
        lines = [f":red_circle: *No credits available now*{short}; the plan renews on {renews}."]
        if outlook.needed:
            lines.append(need)
        if outlook.burn_per_day > 0:
            lines.append(next_cycle)
        return lines
    assert outlook.run_out_on is not None
    early = (outlook.renews_on - outlook.run_out_on).days
    return [
        f":red_circle: *Runs out around {on_day(outlook.run_out_on, zone, outlook.today)}*, "
        f"{plural(early, 'day')} before the plan renews on {renews}.",
        need,
        next_cycle,
    ]


def forecast_line(report: BalanceReport, zone: ZoneInfo | None = None) -> str:
    """The burn rate in whole credits, then the outlook within the cycle."""
    burn = f"*Burn rate*: {credits(report.outlook.burn_whole)}/day (last 7 days: {credits(report.spent_last_window)})"
    lines = [burn, *outlook_lines(report.outlook, report.monthly_credits, zone, report.balance)]
    return "\n".join([*lines, *outlier_lines(report, zone)])


def outlier_lines(report: BalanceReport, zone: ZoneInfo | None = None) -> list[str]:
    """One spend that is most of the pace: what it was, and the pace and next cycle without it."""
    one = report.outlier
    if one is None:
        return []
    what = f"One task, #{one.task_number}," if one.task_number is not None else "One charge"
    return [
        f"{what} of {credits(one.amount)} on {on_day(one.day, zone, report.today)} is "
        f"{one.percent}% of this pace; without it, about {credits(round_half_up(one.burn_without))}/day, "
        f"and next cycle about {credits(one.next_cycle_without)}."
    ]


def balance_figures(report: BalanceReport, zone: ZoneInfo | None = None) -> list[str]:
    """Plan, extra, held, available and spent, one line each (also the Home tab's Team section)."""
    b = report.balance
    renews = on_day(report.renews_on, zone, report.today)
    overdrawn = (
        [
            f":red_circle: *Overdrawn by {credits(b.overdrawn_by)}*{counting_holds(b)}: more was charged than "
            "the plan and extra credits held; no new task can start until an admin adds credits (the next plan "
            "grant pays it first)."
        ]
        if b.overdrawn_by
        else []
    )
    figures = [
        *overdrawn,
        f"*Plan credits left* ({report.plan_name}, {number(report.monthly_credits)}/month): {credits(b.plan)}, "
        f"renews {renews}",
        f"*Extra credits*: {credits(b.extra)} " + ("(the deficit)" if b.extra < 0 else "(do not lapse)"),
        f"*Held for pending tasks*: {credits(b.held)}",
        f"*Available now*: *{credits(b.available)}*",
        f"*Spent this cycle* (since {day_seen_from(report.cycle_start, report.today)}): {credits(b.spent)}",
    ]
    return figures


def balance_blocks(report: BalanceReport, zone: ZoneInfo | None = None) -> list[Block]:
    """The whole balance message; ``zone`` (the team's) makes the renewal a date token."""
    listed = project_lines(report.projects)
    projects = [SectionBlock(block_id=BlockId.BALANCE_PROJECTS, text=MarkdownTextObject(text=listed))] if listed else []
    figures = balance_figures(report, zone)
    return [
        HeaderBlock(text=f"Balance: team {report.team}"),
        SectionBlock(block_id=BlockId.BALANCE_FIGURES, text=MarkdownTextObject(text="\n".join(figures))),
        SectionBlock(block_id=BlockId.BALANCE_FORECAST, text=MarkdownTextObject(text=forecast_line(report, zone))),
        *projects,
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Plan credits are spent first and lapse at renewal; extra credits are spent after them."
                )
            ]
        ),
    ]


def balance_text(report: BalanceReport) -> str:
    """Notification fallback text."""
    if report.balance.overdrawn_by:
        return f"Team {report.team}: overdrawn by {credits(report.balance.overdrawn_by)}"
    return f"Team {report.team}: {credits(report.balance.available)} available"
