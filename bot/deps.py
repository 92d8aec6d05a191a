"""What every edge of one process shares: the credits file, the database, the clock, and the caches.

Built once per process by ``bot.wiring`` and handed to the Bolt app, the charge feed, the CSV import
and the scheduler, so one process holds one effective-config cache, one admin directory and one
Home-tab debouncer. ``close()`` stops the debouncer when the process stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.credits_file import CreditsConfig
from bot.services.workspace.effective_config import EffectiveConfigs
from bot.services.workspace.installs import InstallState
from bot.slack.outbound.debounce import Debouncer
from bot.slack.workspace_admins import WorkspaceAdmins
from bot.store.db import Database


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass
class Deps:
    """The config, the database, the clock and the admin directory."""

    config: CreditsConfig
    db: Database
    clock: Callable[[], datetime]
    workspace_admins: WorkspaceAdmins = field(default_factory=WorkspaceAdmins)
    home_refresh: Debouncer = field(default_factory=Debouncer)
    configs: EffectiveConfigs = field(init=False)
    installs: InstallState = field(init=False)

    def __post_init__(self) -> None:
        self.configs = EffectiveConfigs(self.config)
        self.installs = InstallState(self.db)

    def close(self) -> None:
        """Run the pending Home-tab refreshes and take no more (the process is stopping)."""
        self.home_refresh.stop()

    def effective_config(self, workspace_id: str) -> CreditsConfig:
        """The credits file merged with the workspace's admin changes (cached until the next change)."""
        with self.db.read() as session:
            return self.configs.get(session, workspace_id)
