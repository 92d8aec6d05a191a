"""Queries on ``workspace_state``: which workspaces the app was uninstalled from."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.store.tables.workspace import WorkspaceState


def set_installed(session: Session, *, workspace_id: str, installed: bool, reason: str, now: datetime) -> bool:
    """Record the workspace's state; True when it changed (no row counts as installed)."""
    row = session.get(WorkspaceState, workspace_id)
    if (row.installed if row else True) == installed:
        return False
    if row is None:
        row = WorkspaceState(workspace_id=workspace_id, installed=installed, reason=reason, changed_at=now)
    row.installed, row.reason, row.changed_at = installed, reason[:40], now
    session.add(row)
    return True


def not_installed(session: Session) -> set[str]:
    """Every workspace marked uninstalled (or with revoked tokens)."""
    statement = select(WorkspaceState.workspace_id).where(col(WorkspaceState.installed).is_(False))
    return set(session.exec(statement).all())
