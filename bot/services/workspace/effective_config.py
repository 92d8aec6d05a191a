"""The effective setup of a workspace: the credits file plus what admins changed with ``/credits admin``.

Admin commands write override rows (roles, limits, teams, digest slots) and an audit entry in the same
transaction instead of editing the file, so a change takes effect at once in every process.
``effective_config`` is the one merge; ``EffectiveConfigs`` caches its result per workspace and rebuilds
it only when the audit trail has grown, which costs one indexed query per request. Listeners, the
scheduled jobs and the digest all read a workspace's config through it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.store import digest as digest_store
from bot.store import overrides

REMOVED_ROLE = "none"
"""The role ``/credits admin role @member none`` stores: the member is taken out of the team."""


def effective_config(session: Session, base: CreditsConfig, workspace_id: str) -> CreditsConfig:
    """The credits file merged with this workspace's admin changes, digest slots included."""
    roles = overrides.role_limits(session, workspace_id=workspace_id)
    teams = overrides.team_settings(session, workspace_id=workspace_id)
    members = overrides.member_roles(session, workspace_id=workspace_id)
    slots = digest_store.schedule_overrides(session, workspace_id=workspace_id)
    if not (roles or teams or members or slots):
        return base
    data: dict[str, Any] = base.model_dump(mode="python")
    for limit in roles:
        data["roles"].setdefault(limit.role, {}).update(task_limit=limit.task_limit, weekly_limit=limit.weekly_limit)
    for team in teams:
        current = data["teams"].setdefault(team.team, {"members": {}})
        current.update(channel=team.channel, plan=team.plan)
        if team.timezone:
            current["timezone"] = team.timezone
    for member in members:
        if member.team not in data["teams"]:
            continue
        if member.role == REMOVED_ROLE:
            data["teams"][member.team]["members"].pop(member.user_id, None)
        else:
            data["teams"][member.team]["members"][member.user_id] = member.role
    for name, schedule in slots.items():
        if name in data["teams"]:
            data["teams"][name]["digest"] = schedule
    return CreditsConfig.model_validate(data)


class EffectiveConfigs:
    """Effective configs per workspace, keyed by the newest audit entry id (every admin change adds one)."""

    def __init__(self, base: CreditsConfig) -> None:
        self.base = base
        self._cache: dict[str, tuple[int, CreditsConfig]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, workspace_id: str) -> CreditsConfig:
        """The credits file merged with this workspace's admin changes, rebuilt only after a change."""
        version = overrides.newest_audit_id(session, workspace_id=workspace_id)
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        config = self.base if version == 0 else effective_config(session, self.base, workspace_id)
        with self._lock:
            self._cache[workspace_id] = (version, config)
        return config
