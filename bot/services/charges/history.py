"""``/credits history``: the team's charge history, newest first, a page at a time, or all of it as rows.

Members see their own team's history; filters (a member, a tool, a project, the last days) combine.
Each line says when, who, what (task #12 image · high · 4 variants, retry, refund, unplanned,
adjustment, plan grant, extra credits), the project and the credits; the slice's total and what its
retries cost come with every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.credits_file import CreditsConfig
from bot.domain.errors import UserFacingError, unknown_name
from bot.domain.keter_charges import ChargeKind
from bot.domain.ledger import EntryKind
from bot.domain.wording import task_shape
from bot.services.workspace.members import Member
from bot.store import history as store
from bot.store.db import Database

PAGE_SIZE = 15
MAX_DAYS = 366


@dataclass(frozen=True)
class HistoryLine:
    """One line as a member reads it."""

    id: int
    at: datetime
    member: str | None
    what: str
    project: str | None
    credits: int  # spent (a refund negative), or credits added (+) / taken (−) for grants and corrections
    spend: bool  # True: ``credits`` is spend; False: credits added to or taken from the team
    # The same line in columns, for the CSV (a spreadsheet filters by them):
    tool: str | None = None
    quality: str | None = None
    task_number: int | None = None
    retries: int | None = None  # a task's retries reported with ``done``; a retry charge is 1
    charge_kind: str = ""  # attempt, retry, refund (Keter Labs' charges); capture, adjustment, grant, extra


@dataclass(frozen=True)
class HistoryPage:
    """A page of a slice; ``cursor`` names the next (older) page, None on the last."""

    team: str
    since: datetime
    days: int
    member: str | None
    tool: str | None
    project: str | None
    lines: list[HistoryLine]
    total: int
    retries: int
    count: int
    cursor: tuple[datetime, int] | None


def what_of(row: store.HistoryRow) -> str:
    """``task #12 image · high · 4 variants``, ``task #12 retry image``, ``unplanned video``, ``refund …``."""
    kind = row.kind
    if kind == EntryKind.GRANT:
        return "plan grant"
    if kind == EntryKind.EXTRA:
        return "extra credits" + (f" ({row.note})" if row.note and row.note != "opening extra credits" else "")
    if kind == EntryKind.ADJUSTMENT:
        on = f" task #{row.task_number}" if row.task_number is not None else ""
        return f"adjustment{on}" + (f": {row.note}" if row.note else "")
    task = f"task #{row.task_number} " if row.task_number is not None else ""
    if kind == EntryKind.CAPTURE:
        shape = task_shape(row.tool or "task", row.task_quality, row.task_variants, row.task_duration_seconds)
        return f"{task}{shape}".strip()
    shape = row.note or row.tool or "charge"
    if row.charge_kind == ChargeKind.REFUND or kind == EntryKind.REFUND:
        return f"refund {task}{shape}".replace("  ", " ")
    if row.task_number is None:
        return f"unplanned {shape}" + (" · retry" if row.charge_kind == ChargeKind.RETRY else "")
    return f"{task}{'retry ' if row.charge_kind == ChargeKind.RETRY else ''}{shape}"


def _line(row: store.HistoryRow) -> HistoryLine:
    spend = row.spent != 0
    retries = 1 if row.charge_kind == "retry" else row.task_retries if row.kind == EntryKind.CAPTURE.value else None
    return HistoryLine(
        row.id,
        row.at,
        row.member,
        what_of(row),
        row.project,
        row.spent if spend else row.credits_moved,
        spend,
        tool=row.tool,
        quality=row.task_quality,
        task_number=row.task_number,
        retries=retries,
        charge_kind=row.charge_kind or row.kind,
    )


def _filter(
    config: CreditsConfig,
    workspace_id: str,
    viewer: Member,
    *,
    days: int,
    since: datetime | None,
    now: datetime,
    member: str | None,
    tool: str | None,
    project: str | None,
) -> store.HistoryFilter:
    if not 1 <= days <= MAX_DAYS:
        raise UserFacingError(f"`days={days}` is out of range; give 1 to {MAX_DAYS}, e.g. `days=30`.")
    if tool is not None and tool not in config.pricing.tools:
        raise unknown_name("tool", tool, config.pricing.tools)
    # Whole UTC days, so the footer's totals come from the per-day rollup and match the lines exactly.
    start = since or datetime.combine((now - timedelta(days=days)).astimezone(UTC).date(), time(0), tzinfo=UTC)
    return store.HistoryFilter(workspace_id, viewer.team, start, member, tool, project)


def read_history(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    viewer: Member,
    days: int,
    now: datetime,
    member: str | None = None,
    tool: str | None = None,
    project: str | None = None,
    since: datetime | None = None,
    before: tuple[datetime, int] | None = None,
) -> HistoryPage:
    """One page of the viewer's team's history (keyset ``before``), with the whole slice's totals."""
    f = _filter(
        config, workspace_id, viewer, days=days, since=since, now=now, member=member, tool=tool, project=project
    )
    with db.read() as session:
        rows = store.history_page(session, f, before=before, limit=PAGE_SIZE + 1)
        total, retries, count = store.history_totals(session, f)
    lines = [_line(r) for r in rows[:PAGE_SIZE]]
    cursor = (lines[-1].at, lines[-1].id) if len(rows) > PAGE_SIZE and lines else None
    return HistoryPage(viewer.team, f.since, days, member, tool, project, lines, total, retries, count, cursor)


def every_line(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    viewer: Member,
    days: int,
    now: datetime,
    member: str | None = None,
    tool: str | None = None,
    project: str | None = None,
) -> Iterator[HistoryLine]:
    """Every line of the slice, newest first, read a thousand at a time (for the CSV upload)."""
    f = _filter(config, workspace_id, viewer, days=days, since=None, now=now, member=member, tool=tool, project=project)
    before: tuple[datetime, int] | None = None
    while True:
        with db.read() as session:
            rows = store.history_page(session, f, before=before, limit=1000)
        for row in rows:
            yield _line(row)
        if len(rows) < 1000:
            return
        before = (rows[-1].at, rows[-1].id)
