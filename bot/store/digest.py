"""Digest repository: the week's figures aggregated in SQL, claims on scheduled posts, the scheduler lease.

Every figure is one grouped query over an index on (workspace, team, time), so a digest reads a few
dozen aggregated rows whatever the size of the ledger. Claims are inserted with ON CONFLICT DO NOTHING
and changed with compare-and-set on ``version``, so two processes never both own a post.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy import text as sa_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain.digest import MIN_DIGEST_GAP, ApprovalCounts, DigestWindow, LargeTask, SpendRow, TaskGroup
from bot.domain.ledger import EntryKind
from bot.domain.lifecycle import ApprovalStatus, TaskStatus
from bot.store.tables.ledger import DailySpend, LedgerEntry
from bot.store.tables.posts import DigestScheduleOverride, PostKind, PostState, ScheduledPost, SchedulerLease
from bot.store.tables.tasks import Approval, Task

# Approvals expire within 30 days (the config's cap), so one decided in the week was asked within this.
APPROVAL_LOOKBACK = timedelta(days=31)
SPEND_KINDS = (
    EntryKind.CAPTURE.value,
    EntryKind.REFUND.value,
    EntryKind.CHARGE.value,  # Keter Labs' charges
    EntryKind.ADJUSTMENT.value,  # charges correcting a reported cost, and an admin's correction of spend
)


def _insert(session: Session, model: type[Any]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


# -- the week's figures ------------------------------------------------------------------------------


def spend_rows(session: Session, *, workspace_id: str, team: str, window: DigestWindow) -> list[SpendRow]:
    """Captures less refunds by tool and member, this week and the week before, in one grouped scan."""
    at = col(LedgerEntry.created_at)
    current = func.sum(case((at >= window.start, LedgerEntry.spent_delta), else_=0))
    previous = func.sum(case((at < window.start, LedgerEntry.spent_delta), else_=0))
    statement = (
        select(LedgerEntry.tool, LedgerEntry.member, current, previous)
        .where(
            LedgerEntry.workspace_id == workspace_id,
            LedgerEntry.team == team,
            at >= window.previous_start,
            at < window.end,
            col(LedgerEntry.kind).in_(SPEND_KINDS),
        )
        .group_by(col(LedgerEntry.tool), col(LedgerEntry.member))
    )
    return [
        SpendRow(tool, member, int(cur or 0), int(prev or 0)) for tool, member, cur, prev in session.exec(statement)
    ]


def daily_spend_rows(
    session: Session, *, workspace_id: str, team: str, first_day: date, last_day: date
) -> list[tuple[date, str, int]]:
    """Spend per local day and tool from the daily rollup (the chart's data)."""
    statement = select(col(DailySpend.day), col(DailySpend.tool), col(DailySpend.spent)).where(
        DailySpend.workspace_id == workspace_id,
        DailySpend.team == team,
        col(DailySpend.day) >= first_day,
        col(DailySpend.day) <= last_day,
    )
    return [(day, tool, int(spent)) for day, tool, spent in session.exec(statement)]


def _finished_in(workspace_id: str, team: str, start: datetime, end: datetime) -> list[Any]:
    return [
        Task.workspace_id == workspace_id,
        Task.team == team,
        col(Task.finished_at) >= start,
        col(Task.finished_at) < end,
        Task.status == TaskStatus.DONE,
        col(Task.actual_cost).is_not(None),
    ]


def task_groups(session: Session, *, workspace_id: str, team: str, start: datetime, end: datetime) -> list[TaskGroup]:
    """Finished tasks grouped by everything their price and versions depend on."""
    unknown = col(Task.kept).is_(None)
    keys = (
        col(Task.tool),
        col(Task.quality),
        col(Task.variants),
        col(Task.duration_seconds),
        col(Task.retries_used),
        col(Task.actual_cost),
        unknown,
    )
    statement = (
        select_columns(*keys, func.count(), func.sum(Task.kept))
        .where(*_finished_in(workspace_id, team, start, end))
        .group_by(*keys)
    )
    return [
        TaskGroup(
            tool, quality, variants, duration, retries, int(cost), int(tasks), None if no_kept else int(kept or 0)
        )
        for tool, quality, variants, duration, retries, cost, no_kept, tasks, kept in session.execute(statement)
    ]


def largest_tasks(
    session: Session, *, workspace_id: str, team: str, start: datetime, end: datetime, limit: int
) -> list[tuple[int, LargeTask]]:
    """The most expensive finished tasks of the week, with their ids (for their approval threads)."""
    statement = (
        select(Task)
        .where(*_finished_in(workspace_id, team, start, end))
        .order_by(col(Task.actual_cost).desc(), col(Task.finished_at), col(Task.id))
        .limit(limit)
    )
    return [
        (
            int(task.id or 0),
            LargeTask(
                task.number,
                task.requester,
                task.tool,
                task.quality,
                task.variants,
                task.duration_seconds,
                int(task.actual_cost or 0),
            ),
        )
        for task in session.exec(statement)
    ]


def approval_messages(session: Session, *, workspace_id: str, task_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The channel and ts of each task's (latest) approval request message."""
    ids = list(task_ids)
    if not ids:
        return {}
    statement = (
        select(Approval.task_id, Approval.channel_id, Approval.message_ts)
        .where(
            Approval.workspace_id == workspace_id,
            col(Approval.task_id).in_(ids),
            col(Approval.channel_id).is_not(None),
            col(Approval.message_ts).is_not(None),
        )
        .order_by(col(Approval.created_at), col(Approval.id))
    )
    return {
        task_id: (channel, ts)
        for task_id, channel, ts in session.exec(statement)
        if task_id is not None and channel and ts
    }


def approval_counts(
    session: Session, *, workspace_id: str, team: str, start: datetime, end: datetime
) -> ApprovalCounts:
    """Requests asked in the week, and what became of each by ``end`` (the rest still pending), so they add up."""
    decided_at = col(Approval.decided_at)
    settled_by_end = or_(decided_at.is_(None), decided_at < end)

    def ended(*statuses: ApprovalStatus) -> Any:
        matches = and_(col(Approval.status).in_([s.value for s in statuses]), settled_by_end)
        return func.sum(case((matches, 1), else_=0))

    statement = select_columns(
        func.count(),
        ended(ApprovalStatus.APPROVED),
        ended(ApprovalStatus.DENIED),
        ended(ApprovalStatus.EXPIRED),
        ended(ApprovalStatus.WITHDRAWN, ApprovalStatus.CANCELLED),
    ).where(
        col(Approval.workspace_id) == workspace_id,
        col(Approval.team) == team,
        col(Approval.created_at) >= start,
        col(Approval.created_at) < end,
    )
    asked, approved, denied, expired, withdrawn = session.execute(statement).one()
    asked, approved, denied, expired, withdrawn = (int(n or 0) for n in (asked, approved, denied, expired, withdrawn))
    pending = asked - approved - denied - expired - withdrawn
    return ApprovalCounts(asked, approved, denied, expired, withdrawn, pending)


# -- digest schedules set by admins ------------------------------------------------------------------


def schedule_overrides(session: Session, *, workspace_id: str) -> dict[str, str]:
    """Team -> digest slot for teams whose slot an admin moved."""
    statement = select(DigestScheduleOverride).where(DigestScheduleOverride.workspace_id == workspace_id)
    return {row.team: row.schedule for row in session.exec(statement)}


def set_schedule_override(
    session: Session, *, workspace_id: str, team: str, schedule: str, set_by: str, now: datetime
) -> None:
    """Record a team's new digest slot."""
    session.merge(
        DigestScheduleOverride(workspace_id=workspace_id, team=team, schedule=schedule, set_by=set_by, set_at=now)
    )


# -- claims on scheduled posts -----------------------------------------------------------------------


def posts_for_slots(
    session: Session, *, workspace_id: str, kind: PostKind, slot_keys: Iterable[str]
) -> dict[tuple[str, str], ScheduledPost]:
    """Existing claims for these slots, by (team, slot key)."""
    keys = sorted(set(slot_keys))
    if not keys:
        return {}
    statement = select(ScheduledPost).where(
        ScheduledPost.workspace_id == workspace_id,
        ScheduledPost.kind == kind.value,
        col(ScheduledPost.slot_key).in_(keys),
    )
    return {(post.team, post.slot_key): post for post in session.exec(statement)}


def insert_post(
    session: Session,
    *,
    workspace_id: str,
    kind: PostKind,
    team: str,
    slot_key: str,
    slot_at: datetime,
    state: PostState,
    owner: str | None,
    channel_id: str | None,
    now: datetime,
    scheduled: bool = True,
    error: str | None = None,
) -> ScheduledPost | None:
    """Insert a claim; None when another process inserted the same slot first."""
    values = {
        "workspace_id": workspace_id,
        "kind": kind.value,
        "team": team,
        "slot_key": slot_key,
        "slot_at": slot_at,
        "scheduled": scheduled,
        "state": state.value,
        "version": 0,
        "attempts": 1 if state is PostState.CLAIMED else 0,
        "claimed_by": owner,
        "claimed_at": now if owner else None,
        "channel_id": channel_id,
        "chart_state": "none",
        "error": error,
        "created_at": now,
        "updated_at": now,
    }
    # RETURNING says whether this call inserted the row: psycopg's rowcount for an INSERT … ON CONFLICT
    # DO NOTHING that inserted nothing is not reliably 0, which let a second claimant through.
    statement = (
        _insert(session, ScheduledPost).values(**values).on_conflict_do_nothing().returning(col(ScheduledPost.id))
    )
    if session.execute(statement).first() is None:
        return None
    return get_post(session, workspace_id=workspace_id, kind=kind, team=team, slot_key=slot_key)


def get_post(session: Session, *, workspace_id: str, kind: PostKind, team: str, slot_key: str) -> ScheduledPost | None:
    """One claim by its slot."""
    statement = select(ScheduledPost).where(
        ScheduledPost.workspace_id == workspace_id,
        ScheduledPost.kind == kind.value,
        ScheduledPost.team == team,
        ScheduledPost.slot_key == slot_key,
    )
    return session.exec(statement).first()


def latest_chart_file(session: Session, *, workspace_id: str, kind: PostKind, team: str) -> str | None:
    """The most recent uploaded chart file of this kind for the team (the Home tab's fallback)."""
    statement = (
        select(ScheduledPost.chart_file_id)
        .where(
            ScheduledPost.workspace_id == workspace_id,
            ScheduledPost.kind == kind.value,
            ScheduledPost.team == team,
            col(ScheduledPost.chart_file_id).is_not(None),
        )
        .order_by(col(ScheduledPost.slot_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def post_by_id(session: Session, *, post_id: int) -> ScheduledPost | None:
    """A scheduled post by id, as it is now."""
    return session.get(ScheduledPost, post_id)


def compare_and_set(session: Session, *, post_id: int, version: int, now: datetime, **changes: Any) -> bool:
    """Change a claim only if nobody changed it since ``version`` was read; bumps the version."""
    statement = (
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id, col(ScheduledPost.version) == version)
        .values(version=version + 1, updated_at=now, **changes)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


LIVE_STATES = (PostState.CLAIMED, PostState.POSTING, PostState.POSTED, PostState.FAILED)
"""A digest row in one of these went out, may have, or will be retried: another slot near it must not post."""


def lock_team_digests(session: Session, *, workspace_id: str, team: str) -> None:
    """Serialise claiming the team's digest slots until the transaction ends, whatever the process.

    Two slots have different keys, so the unique claim cannot stop both; on PostgreSQL a transaction
    advisory lock does, on SQLite the write transaction already holds the one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa_text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"digest:{workspace_id}:{team}"}
        )


def nearest_live_slot(session: Session, *, workspace_id: str, team: str, around: datetime) -> datetime | None:
    """The team's scheduled digest slot other than ``around`` and nearest to it that is live (``LIVE_STATES``)."""
    rows = session.exec(
        select(ScheduledPost.slot_at).where(
            ScheduledPost.workspace_id == workspace_id,
            ScheduledPost.kind == PostKind.DIGEST.value,
            ScheduledPost.team == team,
            col(ScheduledPost.scheduled).is_(True),
            col(ScheduledPost.state).in_([state.value for state in LIVE_STATES]),
            col(ScheduledPost.slot_at) > around - MIN_DIGEST_GAP,
            col(ScheduledPost.slot_at) < around + MIN_DIGEST_GAP,
            col(ScheduledPost.slot_at) != around,
        )
    ).all()
    return min(rows, key=lambda at: abs(at - around), default=None)


def unfinished_posts(session: Session, *, workspace_id: str, since: datetime) -> list[ScheduledPost]:
    """Claims since ``since`` that are not final, or posted digests whose chart is still to come."""
    statement = (
        select(ScheduledPost)
        .where(
            ScheduledPost.workspace_id == workspace_id,
            col(ScheduledPost.slot_at) >= since,
            col(ScheduledPost.state).in_(
                [PostState.CLAIMED.value, PostState.POSTING.value, PostState.FAILED.value, PostState.POSTED.value]
            ),
        )
        .order_by(col(ScheduledPost.slot_at), col(ScheduledPost.id))
    )
    return [p for p in session.exec(statement) if p.state != PostState.POSTED or p.chart_state in ("pending", "failed")]


# -- the scheduler lease -----------------------------------------------------------------------------


def take_lease(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold (or renew) the named lease unless another holder's lease is still running."""
    session.execute(
        _insert(session, SchedulerLease).values(name=name, holder=holder, expires_at=now + ttl).on_conflict_do_nothing()
    )
    lease = session.exec(select(SchedulerLease).where(SchedulerLease.name == name).with_for_update()).one()
    if lease.holder != holder and lease.expires_at > now:
        return False
    lease.holder, lease.expires_at = holder, now + ttl
    session.add(lease)
    return True


def release_lease(session: Session, *, name: str, holder: str, now: datetime) -> None:
    """Let another process take the lease at once (on a clean shutdown)."""
    session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder)
        .values(expires_at=now)
    )
