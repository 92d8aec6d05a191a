"""Stale-hold queries: what a stale release gave back, and the releases of a week (for the digest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain.ledger import EntryKind
from bot.store.tables.ledger import LedgerEntry

STALE_RELEASE_PREFIX = "release:stale:"


def stale_release_key(task_id: int) -> str:
    """The idempotency key of a stale hold's release: one per task."""
    return f"{STALE_RELEASE_PREFIX}{task_id}"


def released_for_task(session: Session, *, workspace_id: str, task_id: int) -> int:
    """Credits the stale release of this task gave back (0 if it was not released as stale)."""
    statement = select(LedgerEntry.held_delta).where(
        LedgerEntry.workspace_id == workspace_id, LedgerEntry.idempotency_key == stale_release_key(task_id)
    )
    delta = session.exec(statement).first()
    return -int(delta) if delta is not None else 0


def stale_releases(
    session: Session, *, workspace_id: str, team: str, start: datetime, end: datetime
) -> tuple[int, int]:
    """How many tasks were released unreported in [start, end), and the credits their holds gave back."""
    statement = select(func.count(), func.coalesce(func.sum(LedgerEntry.held_delta), 0)).where(
        LedgerEntry.workspace_id == workspace_id,
        LedgerEntry.team == team,
        col(LedgerEntry.created_at) >= start,
        col(LedgerEntry.created_at) < end,
        LedgerEntry.kind == EntryKind.RELEASE.value,
        col(LedgerEntry.idempotency_key).startswith(STALE_RELEASE_PREFIX),
    )
    count, held = session.exec(statement).one()
    return int(count or 0), -int(held or 0)
