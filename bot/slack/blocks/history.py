"""``/credits history``: a page of the charge history with a "More" button; its CSV; the feed's one-liners."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.keter_charges import Reconciliation
from bot.services.charges.history import HistoryLine, HistoryPage
from bot.services.tasks.settling import ChargeDifference
from bot.slack.blocks.format import credits, plural, when
from bot.slack.ids import ActionId, BlockId


class HistoryCursor(BaseModel):
    """What the "More" button carries: the same slice, continued below the last line shown."""

    member: str | None
    tool: str | None
    project: str | None
    days: int
    since: float
    at: float
    id: int


def amount(line: HistoryLine) -> str:
    """Spend as ``32 credits`` (a refund ``−32``); credits added ``+500``, taken ``−40``."""
    if line.spend:
        return credits(line.credits) if line.credits >= 0 else f"−{credits(-line.credits)}"
    return f"+{credits(line.credits)}" if line.credits >= 0 else f"−{credits(-line.credits)}"


def history_line(line: HistoryLine, zone: ZoneInfo) -> str:
    """``*Tue 24 Nov 11:05* · @alice · task #12 image · high · 4 variants · Nike spring · *32 credits*``."""
    who = f"<@{line.member}>" if line.member else "no member"
    project = f" · {line.project}" if line.project else ""
    return f"*{when(line.at, zone)}* · {who} · {line.what}{project} · *{amount(line)}*"


def _scope(page: HistoryPage) -> str:
    parts = [f"team {page.team}", f"last {page.days} days"]
    if page.member:
        parts.append(f"<@{page.member}>")
    if page.tool:
        parts.append(page.tool)
    if page.project:
        parts.append(f"project {page.project}")
    return ", ".join(parts)


def footer(page: HistoryPage) -> str:
    """``Spent in this slice: 1,234 credits · retries 96 credits (8 %)``."""
    share = f" ({page.retries * 100 // page.total} %)" if page.total > 0 and page.retries else ""
    return (
        f"Spent in this slice: {credits(page.total)} · cost of retries {credits(page.retries)}{share} · "
        f"{plural(page.count, 'line')}"
    )


def history_text(page: HistoryPage) -> str:
    """Fallback text."""
    return f"Charge history, {_scope(page)}: {plural(len(page.lines), 'line')}. {footer(page)}"


def history_blocks(page: HistoryPage, zone: ZoneInfo, *, first: bool) -> list[Block]:
    """A header, one line per entry (15 a page), the slice's footer, and "More" while older lines remain."""
    older = "" if first else "older, "
    header = f"Charge history, {_scope(page)} ({zone.key}), {older}newest first:"
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=header)])]
    if not page.lines:
        blocks.append(SectionBlock(text="Nothing recorded." if first else "No older lines."))
    else:
        text = "\n".join(history_line(line, zone) for line in page.lines)
        blocks.append(SectionBlock(block_id=BlockId.HISTORY_LINES, text=MarkdownTextObject(text=text)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer(page))]))
    if page.cursor is not None:
        at, entry_id = page.cursor
        cursor = HistoryCursor(
            member=page.member,
            tool=page.tool,
            project=page.project,
            days=page.days,
            since=page.since.timestamp(),
            at=at.timestamp(),
            id=entry_id,
        )
        blocks.append(
            ActionsBlock(
                block_id=BlockId.HISTORY_MORE,
                elements=[ButtonElement(text="More", action_id=ActionId.HISTORY_MORE, value=cursor.model_dump_json())],
            )
        )
    return blocks


CSV_COLUMNS = (
    "local_time",
    "member_id",
    "member",
    "what",
    "tool",
    "quality",
    "task",
    "retries",
    "charge_kind",
    "project",
    "credits",
    "kind",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP CSV injection)


def csv_cell(value: str | int) -> str | int:
    """A text cell a spreadsheet would read as a formula gets a leading ``'``; numbers stay numbers (-40 too)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_header(zone: ZoneInfo) -> tuple[str, ...]:
    """The columns, ``local_time`` naming its timezone: ``local_time (Europe/Berlin)``."""
    return (f"local_time ({zone.key})", *CSV_COLUMNS[1:])


def history_csv(
    lines: Iterable[HistoryLine], zone: ZoneInfo, names: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """The slice as CSV (every row, newest first) and its number of rows; no text cell is a formula.

    ``names``: members' display names beside their ids (``bot.slack.outbound.names``).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(zone))
    count = 0
    for line in lines:
        local = line.at.astimezone(zone)
        member = (names or {}).get(line.member, "") if line.member else ""
        row: tuple[str | int, ...] = (
            local.strftime("%Y-%m-%d %H:%M"),
            line.member or "",
            "" if member.startswith("<@") else member,
            line.what,
            line.tool or "",
            line.quality or "",
            line.task_number if line.task_number is not None else "",
            line.retries if line.retries is not None else "",
            line.charge_kind,
            line.project or "",
            line.credits,
            "spend" if line.spend else "credits",
        )
        writer.writerow([csv_cell(cell) for cell in row])
        count += 1
    return out.getvalue(), count


def difference_text(difference: ChargeDifference) -> str:
    """One line to the member whose reported cost Keter Labs' charges corrected."""
    change = difference.charged - difference.reported
    way = f"{credits(change)} more" if change > 0 else f"{credits(-change)} back"
    return (
        f"Task #{difference.task_number}: Keter Labs charged {difference.charged:,}, you reported "
        f"{difference.reported:,}; the charges count ({way}, recorded as an adjustment)."
    )


def reconciliation_line(seen: Reconciliation, zone: ZoneInfo) -> str:
    """``Keter Labs says 1,234 plan + 500 extra at 10:05 · the bot agrees`` (or ``… 16 credits apart``)."""
    verdict = "the bot agrees" if seen.difference == 0 else f"{credits(abs(seen.difference))} apart"
    return (
        f"Keter Labs says {seen.plan_credits:,} plan + {seen.extra_credits:,} extra at "
        f"{when(seen.as_of, zone)} · {verdict}"
    )


def balance_alert_text(seen: Reconciliation, zone: ZoneInfo) -> str:
    """The admins' alert when Keter Labs' balance and the bot's differ beyond the tolerance."""
    side = "more" if seen.difference > 0 else "less"
    return (
        f"⚠️ Team {seen.team}: Keter Labs shows {credits(abs(seen.difference))} {side} than the bot "
        f"({reconciliation_line(seen, zone)}). `/credits history` shows what the bot recorded; "
        f"`/credits admin adjust {seen.team} <+N/-N> <reason>` corrects it."
    )
