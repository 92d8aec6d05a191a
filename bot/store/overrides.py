"""What admins changed with ``/credits admin``: roles, limits and teams that override the credits file.

Each change is written in the same transaction as its audit entry, so the newest audit entry id is a
version number of a workspace's overrides (``newest_audit_id``) that any process can check cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from bot.store.tables.workspace import AuditEntry, MemberRole, RoleLimit, TeamSetting

# Built once: it runs on every request, and building the expression cost more than running it.
_NEWEST_AUDIT_ID = select(func.max(AuditEntry.id)).where(AuditEntry.workspace_id == bindparam("workspace_id"))


def newest_audit_id(session: Session, *, workspace_id: str) -> int:
    """The id of the workspace's newest audit entry, 0 when there is none (one indexed query)."""
    newest = session.connection().execute(_NEWEST_AUDIT_ID, {"workspace_id": workspace_id}).scalar()
    return int(newest or 0)


def role_limits(session: Session, *, workspace_id: str) -> Sequence[RoleLimit]:
    """Limits admins set per role."""
    return session.exec(select(RoleLimit).where(RoleLimit.workspace_id == workspace_id)).all()


def team_settings(session: Session, *, workspace_id: str) -> Sequence[TeamSetting]:
    """Teams admins created or moved to another channel or plan."""
    return session.exec(select(TeamSetting).where(TeamSetting.workspace_id == workspace_id)).all()


def team_settings_of_every_workspace(session: Session) -> Sequence[TeamSetting]:
    """Teams admins created in any workspace (the ``digest`` command checks a name before asking Slack)."""
    return session.exec(select(TeamSetting)).all()


def member_roles(session: Session, *, workspace_id: str) -> Sequence[MemberRole]:
    """Roles admins gave members."""
    return session.exec(select(MemberRole).where(MemberRole.workspace_id == workspace_id)).all()


def set_member_role(session: Session, *, workspace_id: str, team: str, user_id: str, role: str) -> None:
    """Give a member a role in a team (replacing any earlier one)."""
    session.merge(MemberRole(workspace_id=workspace_id, team=team, user_id=user_id, role=role))


def set_role_limit(
    session: Session, *, workspace_id: str, role: str, task_limit: int | None, weekly_limit: int | None
) -> None:
    """Set a role's limits; None means no limit."""
    session.merge(RoleLimit(workspace_id=workspace_id, role=role, task_limit=task_limit, weekly_limit=weekly_limit))


def set_team_setting(
    session: Session, *, workspace_id: str, team: str, channel: str, plan: str, timezone: str | None = None
) -> None:
    """Create a team or change its channel, plan and timezone (None: the credits file's, or UTC)."""
    session.merge(TeamSetting(workspace_id=workspace_id, team=team, channel=channel, plan=plan, timezone=timezone))
