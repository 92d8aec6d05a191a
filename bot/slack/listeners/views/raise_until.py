"""The approve form of a limit raise: the day it lasts to, then the approval (exactly once, like a click)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError
from bot.slack.blocks.asks import RaiseModalState
from bot.slack.context import RequestContext
from bot.slack.flows.approval_decisions import decide_and_show, request_before_ack
from bot.slack.ids import BlockId


def handle_raise_until_submission(
    ack: Ack,
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    rc: RequestContext,
) -> None:
    """Check the form, the day and the decider before closing it (errors show in the form), then approve.

    As for the deny form, nothing before the ack calls Slack (``request_before_ack``); the decision
    checks the decider again after it, asking ``users.info`` when needed.
    """
    values = view.get("state", {}).get("values", {})
    picked = (values.get(BlockId.RAISE_UNTIL_INPUT, {}).get("until", {}) or {}).get("selected_date")
    try:
        state = RaiseModalState.model_validate_json(view.get("private_metadata") or "")
        approval = request_before_ack(rc, state.approval_id)
        try:
            until = date.fromisoformat(str(picked))
        except ValueError:
            raise UserFacingError("Pick the last day of the raise.") from None
        today = local_date(rc.now, rc.config.teams[approval.team].zone)
        if until < today:
            raise UserFacingError("That day has passed; pick today or a later day.")
    except (ValidationError, UserFacingError) as problem:
        message = problem.message if isinstance(problem, UserFacingError) else "This form is out of date."
        ack(response_action="errors", errors={BlockId.RAISE_UNTIL_INPUT: message[:150]})
        return
    ack()
    context["channel_id"] = approval.channel_id or ""
    decide_and_show(
        rc,
        client,
        None,
        approval_id=state.approval_id,
        approve=True,
        note=None,
        until=until,
    )
