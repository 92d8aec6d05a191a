"""Audit trail repository: entries written beside the change or decision they record, read newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.store.tables.workspace import AuditEntry


def add_entry(
    session: Session,
    *,
    workspace_id: str,
    team: str | None,
    actor: str,
    action: str,
    target: str,
    details: str,
    now: datetime,
) -> None:
    """One audit line, in the caller's transaction (so it exists exactly when the change does)."""
    session.add(
        AuditEntry(
            workspace_id=workspace_id,
            team=team,
            actor=actor[:32],
            action=action[:40],
            target=target[:200],
            details=details[:1000],
            created_at=now,
        )
    )


def entries_page(
    session: Session, *, workspace_id: str, team: str | None, since: datetime, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Up to ``limit`` entries since ``since``, newest first, with ids below ``before_id`` (keyset, no OFFSET).

    A team's entries are those naming it, plus admin changes recorded before entries had a team whose
    target is the team (``design``) or a member of it (``design/U0ANN``).
    """
    statement = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id, col(AuditEntry.created_at) >= since)
    if team is not None:
        statement = statement.where(
            or_(
                col(AuditEntry.team) == team,
                col(AuditEntry.team).is_(None) & (col(AuditEntry.target) == team),
                col(AuditEntry.team).is_(None) & col(AuditEntry.target).startswith(f"{team}/", autoescape=True),
            )
        )
    if before_id is not None:
        statement = statement.where(col(AuditEntry.id) < before_id)
    return list(session.exec(statement.order_by(col(AuditEntry.id).desc()).limit(limit)).all())
