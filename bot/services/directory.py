"""The effective setup of a workspace: the credits file plus what admins changed with ``/credits admin``.

Admin commands write override rows (and an audit entry) instead of editing the file, so a change
takes effect at once in every process. The merged config is cached per workspace and rebuilt only
when the audit trail has grown, which costs one indexed query per request.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from bot.config import CreditsConfig
from bot.store.models import AuditEntry, MemberRole, RoleLimit, TeamSetting


def _merged(session: Session, base: CreditsConfig, workspace_id: str) -> CreditsConfig:
    roles = session.exec(select(RoleLimit).where(RoleLimit.workspace_id == workspace_id)).all()
    teams = session.exec(select(TeamSetting).where(TeamSetting.workspace_id == workspace_id)).all()
    members = session.exec(select(MemberRole).where(MemberRole.workspace_id == workspace_id)).all()
    if not (roles or teams or members):
        return base
    data: dict[str, Any] = base.model_dump(mode="python")
    for limit in roles:
        data["roles"].setdefault(limit.role, {}).update(task_limit=limit.task_limit, weekly_limit=limit.weekly_limit)
    for team in teams:
        current = data["teams"].setdefault(team.team, {"members": {}})
        current.update(channel=team.channel, plan=team.plan)
    for member in members:
        if member.team in data["teams"]:
            data["teams"][member.team]["members"][member.user_id] = member.role
    return CreditsConfig.model_validate(data)


class DirectoryCache:
    """Effective configs per workspace, keyed by the newest audit entry id."""

    def __init__(self, base: CreditsConfig) -> None:
        self.base = base
        self._cache: dict[str, tuple[int, CreditsConfig]] = {}
        self._lock = threading.Lock()

    def effective(self, session: Session, workspace_id: str) -> CreditsConfig:
        """The credits file merged with this workspace's admin overrides."""
        newest = session.exec(select(func.max(AuditEntry.id)).where(AuditEntry.workspace_id == workspace_id)).one()
        version = int(newest or 0)
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        config = self.base if version == 0 else _merged(session, self.base, workspace_id)
        with self._lock:
            self._cache[workspace_id] = (version, config)
        return config
