"""The ``/credits balance`` answer: plan and extra credits, holds, spend, burn rate and run-out day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.services.balances import BalanceReport
from bot.slack.blocks.format import credits, day, number, on_day
from bot.slack.ids import BlockId


def forecast_line(report: BalanceReport, zone: ZoneInfo | None = None) -> str:
    """When the credits run out at the current pace, compared with the renewal day (a date token in ``zone``)."""
    forecast = report.forecast
    renews = on_day(report.renews_on, zone) if zone else day(report.renews_on)
    burn = (
        f"*Burn rate*: {number(forecast.burn_per_day)} credits/day (last 7 days: {credits(report.spent_last_window)})"
    )
    if forecast.run_out_on is None:
        outlook = f":large_green_circle: No spending in the last 7 days; the plan renews on {renews}."
    elif forecast.runs_out_before_renewal:
        days_early = (report.renews_on - forecast.run_out_on).days
        outlook = (
            f":red_circle: *Runs out around {day(forecast.run_out_on)}*, {days_early} days before the "
            f"plan renews on {renews}."
        )
    else:
        outlook = (
            f":large_green_circle: Lasts past the renewal on {renews} at this pace "
            f"(runs out around {day(forecast.run_out_on)})."
        )
    return f"{burn}\n{outlook}"


def balance_figures(report: BalanceReport, zone: ZoneInfo | None = None) -> list[str]:
    """Plan, extra, held, available and spent, one line each (also the Home tab's Team section)."""
    b = report.balance
    renews = on_day(report.renews_on, zone) if zone else day(report.renews_on)
    return [
        f"*Plan credits left* ({report.plan_name}, {number(report.monthly_credits)}/month): {credits(b.plan)}, "
        f"renews {renews}",
        f"*Extra credits*: {credits(b.extra)} (do not lapse)",
        f"*Held for pending tasks*: {credits(b.held)}",
        f"*Available now*: *{credits(b.available)}*",
        f"*Spent this cycle* (since {day(report.cycle_start)}): {credits(b.spent)}",
    ]


def balance_blocks(report: BalanceReport, zone: ZoneInfo | None = None) -> list[Block]:
    """The whole balance message; ``zone`` (the team's) makes the renewal a date token."""
    figures = balance_figures(report, zone)
    return [
        HeaderBlock(text=f"Balance: team {report.team}"),
        SectionBlock(block_id=BlockId.BALANCE_FIGURES, text=MarkdownTextObject(text="\n".join(figures))),
        SectionBlock(block_id=BlockId.BALANCE_FORECAST, text=MarkdownTextObject(text=forecast_line(report, zone))),
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
    return f"Team {report.team}: {credits(report.balance.available)} available"
