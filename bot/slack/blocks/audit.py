"""``/credits admin audit``: a page of the audit trail, newest first, with a "More" button for the next page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.services.workspace.audit_trail import SYSTEM_ACTOR, AuditLine, AuditPage
from bot.slack.blocks.format import credits, when
from bot.slack.ids import ActionId, BlockId

ACTION_WORDS = {
    "approve": "approved",
    "deny": "denied",
    "expire": "expired",
    "withdraw": "withdrawn",
    "release_stale": "released unreported",
    "overrun_flagged": "overrun flagged",
    "adjust": "adjusted",
    "topup": "top-up",
    "budget": "budget set",
    "bought": "bought and added",
    "charge_conflict": "skipped: it differs from the one recorded",  # the target says "charge …"
    "charged_without_approval": "charged without approval",
}


class AuditCursor(BaseModel):
    """What the "More" button carries: the same query, continued below the last id shown."""

    team: str | None
    days: int
    since: float
    before: int


def _who(actor: str) -> str:
    return "the bot" if actor == SYSTEM_ACTOR else f"<@{actor}>"


def _figure(value: object) -> str:
    """A detail as people read it: ``5,000``; a before/after pair ``5,000 / 1,000``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return " / ".join("none" if item is None else _figure(item) for item in value)
    return str(value)


def _details(line: AuditLine) -> str:
    """``80 credits · request task · requester @alice``; before and after of admin changes."""
    parts = []
    for key, value in line.details.items():
        if value is None or value == "":
            continue
        if key == "credits" and isinstance(value, int):
            parts.append(credits(value))
        elif key == "requester":
            parts.append(f"requester <@{value}>")
        else:
            parts.append(f"{key.replace('_', ' ')} {_figure(value)}")
    text = " · ".join(parts)
    return text if len(text) <= 200 else text[:199] + "…"


def audit_line(line: AuditLine, zone: ZoneInfo) -> str:
    """``Tue 24 Nov 11:05 · design · task #12 approved by @bob · credits 80``."""
    team = f" · {line.team}" if line.team else ""
    what = ACTION_WORDS.get(line.action, line.action)
    details = _details(line)
    return f"*{when(line.at, zone)}*{team} · {line.target} *{what}* by {_who(line.actor)}" + (
        f"\n{details}" if details else ""
    )


def audit_text(page: AuditPage) -> str:
    """Fallback text."""
    return f"Audit trail: {len(page.lines)} entries"


def audit_blocks(page: AuditPage, zone: ZoneInfo, *, first: bool) -> list[Block]:
    """One section per entry, a header saying what is shown, and "More" while there are older entries."""
    scope = f"team {page.team}" if page.team else "all teams"
    more = "" if first else "older "
    header = f"Audit trail, {scope}, last {page.days} days ({zone.key}), {more}newest first:"
    if not page.lines:
        empty = "Nothing recorded." if first else "No older entries."
        return [ContextBlock(elements=[MarkdownTextObject(text=header)]), SectionBlock(text=empty)]
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=header)])]
    blocks += [
        SectionBlock(block_id=f"{BlockId.AUDIT_LINES}_{line.id}", text=MarkdownTextObject(text=audit_line(line, zone)))
        for line in page.lines
    ]
    if page.next_before is not None:
        cursor = AuditCursor(team=page.team, days=page.days, since=page.since.timestamp(), before=page.next_before)
        blocks.append(
            ActionsBlock(
                block_id=BlockId.AUDIT_MORE,
                elements=[ButtonElement(text="More", action_id=ActionId.AUDIT_MORE, value=cursor.model_dump_json())],
            )
        )
    return blocks
