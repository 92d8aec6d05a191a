"""The deny modal: an optional reason, then the denial (exactly once, like a click)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.slack.blocks.approval import DenyModalState
from bot.slack.context import RequestContext
from bot.slack.flows.approval_decisions import decide_and_show, request_before_ack
from bot.slack.ids import BlockId


def handle_deny_submission(
    ack: Ack,
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    rc: RequestContext,
) -> None:
    """Check the form and the decider before closing it (errors show in the form), then deny.

    Before the ack only the database and the cached admin flag are read (``request_before_ack``);
    whether Slack calls the user a workspace admin is asked after it, by the decision, whose refusal
    reaches the user privately in the team's channel (the error boundary).
    """
    try:
        state = DenyModalState.model_validate_json(view.get("private_metadata") or "")
        approval = request_before_ack(rc, state.approval_id)
    except (ValidationError, UserFacingError) as problem:
        message = problem.message if isinstance(problem, UserFacingError) else "This form is out of date."
        ack(response_action="errors", errors={BlockId.DENY_REASON_INPUT: message[:150]})
        return
    ack()
    # The modal is closed and has no response_url: the error boundary tells the user in this channel.
    context["channel_id"] = approval.channel_id or ""
    values = view.get("state", {}).get("values", {})
    reason = (values.get(BlockId.DENY_REASON_INPUT, {}).get("reason", {}) or {}).get("value")
    decide_and_show(
        rc,
        client,
        None,
        approval_id=state.approval_id,
        approve=False,
        note=(reason or "").strip() or None,
    )
