"""``app_uninstalled`` and ``tokens_revoked``: acknowledged and logged.

The bot keeps no per-workspace tokens yet (one workspace per deployment), so there is nothing to
delete; the ledger is kept, since it is the team's spending record. Handling the events stops Bolt
from logging them as unhandled.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.slack.deps import Deps

logger = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Register both installation events."""

    @app.event("app_uninstalled")
    def handle_app_uninstalled(body: dict[str, Any]) -> None:
        logger.warning("the app was uninstalled from workspace %s; its ledger is kept", body.get("team_id"))

    @app.event("tokens_revoked")
    def handle_tokens_revoked(body: dict[str, Any]) -> None:
        logger.warning(
            "tokens were revoked in workspace %s; Slack calls will fail until reinstalled", body.get("team_id")
        )
