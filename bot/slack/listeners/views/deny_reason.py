"""The deny modal: an optional reason, then the denial (exactly once, like a click)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.services import approvals
from bot.slack.blocks.approval import DenyModalState
from bot.slack.deps import Deps
from bot.slack.ids import BlockId, CallbackId
from bot.slack.listeners.actions.approval import settle_click

logger = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Register the modal's submission."""

    @app.view(CallbackId.DENY_REASON)
    def handle_deny_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        workspace_id = (body.get("team") or {}).get("id", "")
        user_id = (body.get("user") or {}).get("id", "")
        try:
            state = DenyModalState.model_validate_json(view.get("private_metadata") or "")
            config = deps.effective_config(workspace_id)
            approval, _ = approvals.get_approval(deps.db, state.approval_id)
            admin = deps.workspace_admins.is_admin(client, workspace_id, user_id)
            approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=admin)
        except (ValidationError, UserFacingError) as problem:
            message = problem.message if isinstance(problem, UserFacingError) else "This form is out of date."
            ack(response_action="errors", errors={BlockId.DENY_REASON_INPUT: message[:150]})
            return
        ack()
        values = view.get("state", {}).get("values", {})
        reason = (values.get(BlockId.DENY_REASON_INPUT, {}).get("reason", {}) or {}).get("value")
        try:
            settle_click(
                deps,
                client,
                None,
                workspace_id=workspace_id,
                user_id=user_id,
                approval_id=state.approval_id,
                approve=False,
                note=(reason or "").strip() or None,
            )
        except Exception:  # after ack there is no response_url: log it, the sweep repairs any message
            logger.exception("deny of approval %s failed after the modal closed", state.approval_id)
