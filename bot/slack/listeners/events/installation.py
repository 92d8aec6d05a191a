"""``app_uninstalled`` and ``tokens_revoked``: the workspace is marked uninstalled, its data kept.

Scheduled work (digests, alerts, the approvals sweep) then skips it rather than calling Slack with a
dead token. ``resume_if_reinstalled`` (global middleware) marks it installed again when a signed
request arrives from it while the bot token works (``auth.test``), and the work resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services.workspace import installs as workspaces

logger = logging.getLogger(__name__)


def handle_app_uninstalled(deps: Deps, workspace_id: str, now: datetime) -> None:
    """Stop the workspace's scheduled work; the ledger stays (it is the team's spending record)."""
    if workspaces.mark_uninstalled(deps.db, workspace_id=workspace_id, reason="app_uninstalled", now=now):
        deps.installs.forget()
    logger.warning(
        "the app was uninstalled from workspace %s: its scheduled work stops, its ledger is kept", workspace_id
    )


def handle_tokens_revoked(deps: Deps, event: dict[str, Any], workspace_id: str, now: datetime) -> None:
    """A revoked bot token stops the workspace's scheduled work; revoked user tokens change nothing here."""
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if not (tokens or {}).get("bot"):
        logger.info("user tokens were revoked in workspace %s; the bot token is unaffected", workspace_id)
        return
    if workspaces.mark_uninstalled(deps.db, workspace_id=workspace_id, reason="tokens_revoked", now=now):
        deps.installs.forget()
    logger.warning(
        "the bot token was revoked in workspace %s: its scheduled work stops until it is reinstalled", workspace_id
    )


def resume_if_reinstalled(
    client: WebClient, context: BoltContext, next: Callable[[], BoltResponse]
) -> BoltResponse | None:
    """A signed request from a workspace marked uninstalled, with a working token: it is installed again."""
    deps: Deps = context["deps"]
    workspace_id = str(context.get("workspace_id") or "")
    if workspace_id and deps.installs.is_uninstalled(workspace_id):
        try:
            works = str(client.auth_test().get("team_id") or "") == workspace_id
        except SlackApiError:
            works = False
        if works and workspaces.mark_installed(deps.db, workspace_id=workspace_id, now=context["now"]):
            deps.installs.forget()
            logger.warning("workspace %s is installed again: its digests, alerts and sweeps resume", workspace_id)
    return next()
