"""``app_uninstalled`` and ``tokens_revoked``: acknowledged and logged.

The bot keeps no per-workspace tokens yet (one workspace per deployment), so there is nothing to
delete; the ledger is kept, since it is the team's spending record. Handling the events stops Bolt
from logging them as unhandled.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def handle_app_uninstalled(workspace_id: str) -> None:
    """The ledger stays: it is the team's spending record."""
    logger.warning("the app was uninstalled from workspace %s; its ledger is kept", workspace_id)


def handle_tokens_revoked(workspace_id: str) -> None:
    """Nothing to delete: the bot keeps no per-workspace tokens."""
    logger.warning("tokens were revoked in workspace %s; Slack calls will fail until reinstalled", workspace_id)
