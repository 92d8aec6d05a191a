"""The ``/credits balance`` answer: plan and extra credits, holds, spend, burn rate and run-out day."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.balances import BalanceReport
from bot.slack.blocks.format import credits, day, number
from bot.slack.ids import BlockId


def forecast_line(report: BalanceReport) -> str:
    """When the credits run out at the current pace, compared with the renewal day."""
    forecast = report.forecast
    burn = (
        f"*Burn rate*: {number(forecast.burn_per_day)} credits/day (last 7 days: {credits(report.spent_last_window)})"
    )
    if forecast.run_out_on is None:
        outlook = f":large_green_circle: No spending in the last 7 days; the plan renews on {day(report.renews_on)}."
    elif forecast.runs_out_before_renewal:
        days_early = (report.renews_on - forecast.run_out_on).days
        outlook = (
            f":red_circle: *Runs out around {day(forecast.run_out_on)}*, {days_early} days before the "
            f"plan renews on {day(report.renews_on)}."
        )
    else:
        outlook = (
            f":large_green_circle: Lasts past the renewal on {day(report.renews_on)} at this pace "
            f"(runs out around {day(forecast.run_out_on)})."
        )
    return f"{burn}\n{outlook}"


def balance_blocks(report: BalanceReport) -> list[Block]:
    """The whole balance message."""
    b = report.balance
    overdrawn = (
        [
            f":red_circle: *Overdrawn by {credits(b.overdrawn_by)}*: more was charged than the plan and extra "
            "credits held; no new task can start until an admin adds credits (the next plan grant pays it first)."
        ]
        if b.overdrawn_by
        else []
    )
    figures = [
        *overdrawn,
        f"*Plan credits left* ({report.plan_name}, {number(report.monthly_credits)}/month): {credits(b.plan)}, "
        f"renews {day(report.renews_on)}",
        f"*Extra credits*: {credits(b.extra)} " + ("(the deficit)" if b.extra < 0 else "(do not lapse)"),
        f"*Held for pending tasks*: {credits(b.held)}",
        f"*Available now*: *{credits(b.available)}*",
        f"*Spent this cycle* (since {day(report.cycle_start)}): {credits(b.spent)}",
    ]
    return [
        HeaderBlock(text=f"Balance: team {report.team}"),
        SectionBlock(block_id=BlockId.BALANCE_FIGURES, text=MarkdownTextObject(text="\n".join(figures))),
        SectionBlock(block_id=BlockId.BALANCE_FORECAST, text=MarkdownTextObject(text=forecast_line(report))),
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
