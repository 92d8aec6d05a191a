"""Derived per-hour and per-day totals that keep a quote's reads independent of the team's history.

Three rollups, all written in the transaction that changes their source rows, so a retry or a crash
can neither lose nor double a figure (a rolled-back write rolls its rollup back with it):

- ``member_usage``: each member's held plus spent deltas of the usage kinds per UTC hour, moved by
  ``bot.store.ledger_writes`` beside every entry it appends (the only two ways entries are written).
- ``task_rollup``: finished tasks per UTC day of finishing, tool and price shape, and
  ``task_rollup_week`` the same per UTC week (from Monday), both moved by a ``before_flush`` hook
  on every session: whatever path finishes, re-costs or reopens a task (a member's report, Keter
  Labs' charges, an overrun's approval, a stale hold), the flush that writes the task also moves its
  day's and its week's rows. The old contribution is read from the database row, so an
  expired or partly loaded object cannot skew it. Tasks must therefore change through the ORM (no
  bulk ``UPDATE task``), as everywhere in ``bot``; ``check_rollups`` would name a row that drifted.

A window ``[since, ∞)`` is read as the source rows in ``[since, next boundary)`` plus the rollup
rows from that boundary on, which is exactly the rows the plain query would sum, in any timezone; a
tool's 30 days as whole weeks, plus or minus a few days, plus or minus a few hours of tasks
(``window_parts``), so a busy tool's quote groups about eight rows per price shape, not thirty.
``check_rollups`` recomputes all three from their source rows for ``db check``; ``rebuild_rollups`` does
it for rows loaded in bulk (benchmarks), bypassing the store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, case, event, func, literal, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from bot.domain.estimates import FinishedShape, KeepHistory
from bot.domain.ledger import EntryKind
from bot.domain.lifecycle import TaskStatus
from bot.domain.pricing import RetryHistory
from bot.store.constants import one_of
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.rollups import MemberUsage, TaskRollup, TaskRollupWeek
from bot.store.tables.tasks import Task

NONE = -1  # stands for no duration, retries or cost in ``task_rollup``'s key


USAGE_KINDS = (
    EntryKind.HOLD.value,
    EntryKind.CAPTURE.value,
    EntryKind.RELEASE.value,
    EntryKind.CHARGE.value,  # a Keter Labs charge counts for the member's week, planned or not
    EntryKind.REFUND.value,
    EntryKind.ADJUSTMENT.value,  # charges correcting a reported cost (an admin's adjust counts for no one's week)
)
"""Entry kinds that count for the member's week."""


UsageKey = tuple[str, str, str, datetime]  # workspace, team, member, UTC hour


ShapeKey = tuple[str, str, str, date, str, int, int, int, int]  # workspace, team, tool, day, shape…


def hour_of(at: datetime) -> datetime:
    """The UTC hour ``at`` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _next_hour(at: datetime) -> datetime:
    start = hour_of(at)
    return start if start == at.astimezone(UTC) else start + timedelta(hours=1)


Rollup = MemberUsage | TaskRollup | TaskRollupWeek


def _upsert(session: Session, model: type[Rollup], keys: list[str], sums: list[str]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert_ = dialect.insert(model)
    table = model.__table__.c  # type: ignore[union-attr]
    return insert_.on_conflict_do_update(
        index_elements=keys, set_={name: table[name] + insert_.excluded[name] for name in sums}
    )


_USAGE_KEYS = ["workspace_id", "team", "member", "hour"]


def add_member_usage(session: Session, amounts: dict[UsageKey, int]) -> None:
    """Move the members' hourly usage in the caller's transaction (one upsert)."""
    rows = [
        {"workspace_id": w, "team": t, "member": m, "hour": h, "amount": amount}
        for (w, t, m, h), amount in sorted(amounts.items())  # one lock order for concurrent writers
        if amount
    ]
    if rows:
        session.connection().execute(_upsert(session, MemberUsage, _USAGE_KEYS, ["amount"]), rows)


def usage_key(workspace_id: str, team: str, kind: str, member: str | None, at: datetime) -> UsageKey | None:
    """Where an entry counts in ``member_usage`` (None: it does not count for anyone's week)."""
    if member is None or kind not in USAGE_KINDS:
        return None
    return (workspace_id, team, member, hour_of(at))


_USAGE_ROLLED = sa_select(func.coalesce(func.sum(MemberUsage.amount), 0)).where(
    col(MemberUsage.workspace_id) == bindparam("workspace_id"),
    col(MemberUsage.team) == bindparam("team"),
    col(MemberUsage.member) == bindparam("member"),
    col(MemberUsage.hour) >= bindparam("boundary"),
)


# An entry's part in its member's week: held + spent, unless it says otherwise (``week_usage``: closing
# a hold reserved before the week counts only what it spent above that hold).
WEEK_PART = func.coalesce(col(LedgerEntry.week_usage), col(LedgerEntry.held_delta) + col(LedgerEntry.spent_delta))


_USAGE_RAW = sa_select(func.coalesce(func.sum(WEEK_PART), 0)).where(
    col(LedgerEntry.workspace_id) == bindparam("workspace_id"),
    col(LedgerEntry.team) == bindparam("team"),
    col(LedgerEntry.member) == bindparam("member"),
    col(LedgerEntry.created_at) >= bindparam("since"),
    col(LedgerEntry.created_at) < bindparam("boundary"),
    one_of(col(LedgerEntry.kind), USAGE_KINDS),
)


_USAGE = sa_select(_USAGE_ROLLED.scalar_subquery() + _USAGE_RAW.scalar_subquery())


def usage_since(session: Session, *, workspace_id: str, team: str, member: str, since: datetime) -> int:
    """The member's use since ``since``: their entries' parts of the week (entries up to the next hour,
    then hours); closing a hold reserved before the week counts only what it spent above that hold."""
    boundary = _next_hour(since)
    parameters = {"workspace_id": workspace_id, "team": team, "member": member, "since": since, "boundary": boundary}
    return int(session.connection().execute(_USAGE, parameters).scalar() or 0)


_SHAPE_COLUMNS = ("quality", "variants", "duration_seconds", "retries_used", "actual_cost")


_TRACKED = frozenset(("workspace_id", "team", "tool", "status", "finished_at", "kept", *_SHAPE_COLUMNS))


_SHAPE_KEYS = ["workspace_id", "team", "tool", "day", *_SHAPE_COLUMNS]


_WEEK_KEYS = ["workspace_id", "team", "tool", "week", *_SHAPE_COLUMNS]


_FIGURES = ("tasks", "kept_tasks", "kept")


def monday_of(day: date) -> date:
    """The Monday starting ``day``'s week: the key of its ``task_rollup_week`` row."""
    return day - timedelta(days=day.weekday())


def _by_week(by_day: dict[ShapeKey, tuple[int, int, int]]) -> dict[ShapeKey, tuple[int, int, int]]:
    """Day rows summed into their weeks (the day in each key becomes its Monday)."""
    weeks: dict[ShapeKey, list[int]] = {}
    for (workspace, team, tool, day, *shape), figures in by_day.items():
        key: ShapeKey = (workspace, team, tool, monday_of(day), *shape)  # type: ignore[assignment]
        totals = weeks.setdefault(key, [0, 0, 0])
        for index, figure in enumerate(figures):
            totals[index] += figure
    return {key: (n, k, v) for key, (n, k, v) in weeks.items() if (n, k, v) != (0, 0, 0)}


def _write_task_rollups(session: Session, by_day: dict[ShapeKey, tuple[int, int, int]]) -> None:
    """Move ``task_rollup`` and ``task_rollup_week`` by the same figures (two upserts, one lock order)."""
    for model, keys, moves in (
        (TaskRollup, _SHAPE_KEYS, by_day),
        (TaskRollupWeek, _WEEK_KEYS, _by_week(by_day)),
    ):
        rows = [
            dict(zip(keys, key, strict=True)) | {"tasks": n, "kept_tasks": k, "kept": v}
            for key, (n, k, v) in sorted(moves.items())  # one lock order for concurrent writers
            if (n, k, v) != (0, 0, 0)
        ]
        if rows:
            session.connection().execute(_upsert(session, model, keys, list(_FIGURES)), rows)


def _or_none(value: int | None) -> int:
    return NONE if value is None else int(value)


def _shape_key(values: dict[str, Any]) -> ShapeKey | None:
    """Where a task with these column values counts in ``task_rollup`` (None: not a finished task)."""
    finished = values["finished_at"]
    if values["status"] != TaskStatus.DONE or finished is None:
        return None
    return (
        values["workspace_id"],
        values["team"],
        values["tool"],
        finished.astimezone(UTC).date(),
        values["quality"],
        int(values["variants"]),
        _or_none(values["duration_seconds"]),
        _or_none(values["retries_used"]),
        _or_none(values["actual_cost"]),
    )


@dataclass
class _Moves:
    """Task rollup deltas gathered over one flush: tasks, kept tasks, kept versions per key."""

    by_key: dict[ShapeKey, list[int]] = field(default_factory=dict)

    def add(self, values: dict[str, Any] | None, sign: int) -> None:
        key = None if values is None else _shape_key(values)
        if key is None or values is None:
            return
        move = self.by_key.setdefault(key, [0, 0, 0])
        kept = values["kept"]
        move[0] += sign
        move[1] += sign if kept is not None else 0
        move[2] += sign * int(kept or 0)


_OLD_TASK = sa_select(*(col(getattr(Task, name)) for name in sorted(_TRACKED))).where(
    col(Task.id) == bindparam("task_id")
)


def _task_values(task: Task) -> dict[str, Any]:
    return {name: getattr(task, name) for name in _TRACKED}


def _stored_values(session: OrmSession, task_id: int) -> dict[str, Any] | None:
    row = session.connection().execute(_OLD_TASK, {"task_id": task_id}).first()
    return None if row is None else dict(zip(sorted(_TRACKED), row, strict=True))


def _changed(task: Task) -> bool:
    state = sa_inspect(task)
    return any(state.attrs[name].history.has_changes() for name in _TRACKED)


def _move_task_rollup(session: OrmSession, _context: object, _instances: object) -> None:
    """Before a flush writes tasks, move ``task_rollup`` by what the written tasks add and take away."""
    moves = _Moves()
    for task in session.new:
        if isinstance(task, Task):
            moves.add(_task_values(task), +1)
    for task in session.dirty:
        if isinstance(task, Task) and task.id is not None and _changed(task):
            moves.add(_stored_values(session, task.id), -1)
            moves.add(_task_values(task), +1)
    for task in session.deleted:
        if isinstance(task, Task) and task.id is not None:
            moves.add(_stored_values(session, task.id), -1)
    moved = {key: (n, k, v) for key, (n, k, v) in moves.by_key.items() if (n, k, v) != (0, 0, 0)}
    if moved:
        assert isinstance(session, Session)
        _write_task_rollups(session, moved)


event.listen(Session, "before_flush", _move_task_rollup)


@dataclass(frozen=True)
class ToolHistory:
    """A tool's finished tasks in a window: what the quote's retry figure, range and keep plan read."""

    retries: RetryHistory
    shapes: list[FinishedShape]
    keep: dict[str, KeepHistory]


def _signed(columns: list[ColumnElement[Any]], sign: str) -> list[ColumnElement[Any]]:
    """The shape columns as they are, the figures times the ``sign`` parameter (+1 adds a range, -1 removes it)."""
    shape = columns[: len(_SHAPE_COLUMNS)]
    figures = columns[len(_SHAPE_COLUMNS) :]
    sign_param = bindparam(sign, type_=Integer)
    return [*shape, *((figure * sign_param).label(figure.name) for figure in figures)]


_WEEK_COLUMNS: list[ColumnElement[Any]] = [
    col(getattr(TaskRollupWeek, name)).label(name) for name in (*_SHAPE_COLUMNS, *_FIGURES)
]


_DAY_COLUMNS: list[ColumnElement[Any]] = [
    col(getattr(TaskRollup, name)).label(name) for name in (*_SHAPE_COLUMNS, *_FIGURES)
]


_WEEKS = sa_select(*_WEEK_COLUMNS).where(
    col(TaskRollupWeek.workspace_id) == bindparam("workspace_id"),
    col(TaskRollupWeek.team) == bindparam("team"),
    col(TaskRollupWeek.tool) == bindparam("tool"),
    col(TaskRollupWeek.week) >= bindparam("week_from"),
)


_DAYS = sa_select(*_signed(_DAY_COLUMNS, "day_sign")).where(
    col(TaskRollup.workspace_id) == bindparam("workspace_id"),
    col(TaskRollup.team) == bindparam("team"),
    col(TaskRollup.tool) == bindparam("tool"),
    col(TaskRollup.day) >= bindparam("day_from"),
    col(TaskRollup.day) < bindparam("day_to"),
)


_RAW_COLUMNS: list[ColumnElement[Any]] = [  # each task as a rollup row of one, NULLs as NONE to group together
    col(Task.quality).label("quality"),
    col(Task.variants).label("variants"),
    *(func.coalesce(col(getattr(Task, name)), NONE).label(name) for name in _SHAPE_COLUMNS[2:]),
    literal(1).label("tasks"),
    case((col(Task.kept).is_not(None), 1), else_=0).label("kept_tasks"),
    func.coalesce(col(Task.kept), 0).label("kept"),
]


_TASKS = sa_select(*_signed(_RAW_COLUMNS, "task_sign")).where(
    col(Task.workspace_id) == bindparam("workspace_id"),
    col(Task.team) == bindparam("team"),
    col(Task.tool) == bindparam("tool"),
    col(Task.status) == TaskStatus.DONE,
    col(Task.finished_at) >= bindparam("task_from"),
    col(Task.finished_at) < bindparam("task_to"),
)


# One statement, one round trip, grouped by the database, a few rows back (one per shape): whole weeks,
# a few days added to them or taken away, and the tasks of a few hours added or taken away.
_WINDOW = union_all(_WEEKS, _DAYS, _TASKS).subquery()


_SHAPES = sa_select(
    *(_WINDOW.c[name] for name in _SHAPE_COLUMNS), *(func.sum(_WINDOW.c[name]) for name in _FIGURES)
).group_by(*(_WINDOW.c[name] for name in _SHAPE_COLUMNS))


def window_parts(since: datetime) -> dict[str, Any]:
    """``[since, ∞)`` as weeks from a Monday, plus or minus days, plus or minus tasks (the parameters).

    Each boundary is the nearer one on either side: the midnight nearest ``since`` (its tasks up to it
    added, or those from it taken away: at most 12 hours of tasks), then the Monday nearest that day
    (at most 3 days of rows added or taken away), then whole weeks. The sums equal the plain window's:
    ``S[since, ∞) = S[W, ∞) ± S[days between W and D] ± S[tasks between D and since]``.
    """
    utc = since.astimezone(UTC)
    floor = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    ceiling = floor if floor == utc else floor + timedelta(days=1)
    midnight = ceiling if ceiling - utc <= utc - floor else floor
    day = midnight.date()
    monday = monday_of(day)
    next_monday = monday if monday == day else monday + timedelta(days=7)
    week_from = next_monday if next_monday - day <= day - monday else monday
    tasks = (1, utc, midnight) if midnight >= utc else (-1, midnight, utc)
    days = (1, day, week_from) if week_from >= day else (-1, week_from, day)
    return {
        "task_sign": tasks[0],
        "task_from": tasks[1],
        "task_to": tasks[2],
        "day_sign": days[0],
        "day_from": days[1],
        "day_to": days[2],
        "week_from": week_from,
    }


def tool_history(session: Session, *, workspace_id: str, team: str, tool: str, since: datetime) -> ToolHistory:
    """The tool's finished tasks since ``since``, from weeks, days and a few hours of tasks (``window_parts``).

    The same figures as grouping the tasks themselves: retries and tasks (any cost), the shapes of
    those with a cost, and per quality those that recorded ``kept=`` (versions made: variants ×
    attempts).
    """
    parameters = {"workspace_id": workspace_id, "team": team, "tool": tool, **window_parts(since)}
    rows: Counter[tuple[str, int, int, int, int]] = Counter()
    kept_tasks: Counter[tuple[str, int, int, int, int]] = Counter()
    kept: Counter[tuple[str, int, int, int, int]] = Counter()
    for quality, variants, duration, retries, cost, tasks, with_kept, versions in session.connection().execute(
        _SHAPES, parameters
    ):
        shape = (quality, int(variants), _or_none(duration), _or_none(retries), _or_none(cost))
        rows[shape] += int(tasks or 0)
        kept_tasks[shape] += int(with_kept or 0)
        kept[shape] += int(versions or 0)
    return _tool_history(rows, kept_tasks, kept)


def _tool_history(
    rows: Counter[tuple[str, int, int, int, int]],
    kept_tasks: Counter[tuple[str, int, int, int, int]],
    kept: Counter[tuple[str, int, int, int, int]],
) -> ToolHistory:
    tasks = retries = 0
    shapes: list[FinishedShape] = []
    keep: dict[str, list[int]] = {}
    for shape, count in sorted(rows.items()):
        if count <= 0:
            continue
        quality, variants, duration, retries_used, cost = shape
        tasks += count
        retries += count * max(retries_used, 0)
        if cost != NONE:
            shape_retries = None if retries_used == NONE else retries_used
            shape_duration = None if duration == NONE else duration
            shapes.append(FinishedShape(quality, variants, shape_duration, shape_retries, cost, count))
        if kept_tasks[shape] > 0:
            totals = keep.setdefault(quality, [0, 0, 0])
            totals[0] += kept_tasks[shape]
            totals[1] += kept_tasks[shape] * variants * (1 + max(retries_used, 0))
            totals[2] += kept[shape]
    return ToolHistory(
        RetryHistory(tasks=tasks, retries=retries),
        shapes,
        {quality: KeepHistory(n, made, k) for quality, (n, made, k) in keep.items()},
    )
