"""Project budgets in words: the lines the balance and the digest list, and the 80 % / 100 % alert."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.domain.budgets import ProjectUse
from bot.services.balances.project_budgets import ProjectAlert
from bot.slack.blocks.format import credits, number, on_day


def project_line(use: ProjectUse) -> str:
    """``acme: budget 1,000 · spent 660 · held 40 · left 300 credits`` (``over by`` once exceeded)."""
    left = use.left or 0
    held = f" · held {number(use.held)}" if use.held else ""
    rest = f"left {credits(left)}" if left >= 0 else f":red_circle: over by {credits(-left)}"
    return f"{use.project}: budget {number(use.budget or 0)} · spent {number(use.spent)}{held} · {rest}"


def project_lines(projects: Sequence[ProjectUse]) -> str | None:
    """``*Project budgets this cycle*`` and one line per project with a budget; None when there are none."""
    if not projects:
        return None
    return "\n".join(["*Project budgets this cycle*", *(project_line(use) for use in projects)])


def project_alert_text(alert: ProjectAlert, zone: ZoneInfo | None = None) -> str:
    """``🟡 Project acme (team design) has used 82 % of its 1,000-credit budget (820 spent) …``.

    ``zone`` (the team's) makes the renewal a date token (the blocks); without it, plain (the notification).
    """
    use = alert.use
    icon = ":red_circle:" if alert.threshold >= 100 else ":large_yellow_circle:"
    percent = use.spent * 100 // (use.budget or 1)
    left = (use.budget or 0) - use.spent
    rest = (
        f"{credits(left)} left until the renewal on {on_day(alert.renews_on, zone, alert.today)}"
        if left > 0
        else "any new task for it needs an approver"
    )
    return (
        f"{icon} Project {use.project} (team {alert.team}) has used {percent} % of its "
        f"{number(use.budget or 0)}-credit budget ({number(use.spent)} spent); {rest}."
    )


def project_alert_blocks(alert: ProjectAlert, zone: ZoneInfo | None = None) -> list[Block]:
    """The alert as one section."""
    return [SectionBlock(text=MarkdownTextObject(text=project_alert_text(alert, zone)))]
