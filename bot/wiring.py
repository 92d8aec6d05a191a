"""What listeners need, built once in ``create_app``; middleware puts it in every request's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.credits_file import CreditsConfig
from bot.services.workspace.effective_config import EffectiveConfigs
from bot.services.workspace.installs import InstallState
from bot.slack.outbound.debounce import Debouncer
from bot.slack.workspace_admins import WorkspaceAdmins
from bot.store.db import Database


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

    def effective_config(self, workspace_id: str) -> CreditsConfig:
        """The credits file merged with the workspace's admin changes (cached until the next change)."""
        with self.db.read() as session:
            return self.configs.get(session, workspace_id)
