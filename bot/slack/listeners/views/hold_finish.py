"""The stale-hold finish form: recorded through ``/credits done``'s path; a refusal shows next to its field."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import stale_holds as holds
from bot.slack.answers.tasks import answer_done
from bot.slack.blocks.holds import FormFieldError, HoldFormState, field_for, form_command, outcome_blocks
from bot.slack.context import RequestContext
from bot.slack.ids import BlockId
from bot.slack.outbound.home_tabs import concerned, refresh_homes

logger = logging.getLogger(__name__)


def handle_hold_finish_submission(
    ack: Ack,
    view: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    rc: RequestContext,
) -> None:
    """Check the fields read-only (errors stay in the form), ack, then record the cost as ``done`` would.

    Nothing is written before the ack: a busy database never delays it. A refusal that only the write
    finds (the task was reported or cancelled meanwhile) reaches the member through the error boundary.
    """
    try:
        state = HoldFormState.model_validate_json(view.get("private_metadata") or "")
    except ValidationError:
        ack(response_action="errors", errors={BlockId.HOLD_KEPT: "This form is out of date; use /credits done."})
        return
    task = holds.task_for_notice(rc.deps.db, task_id=state.task_id)
    if task is None:
        ack(response_action="errors", errors={BlockId.HOLD_KEPT: "That task no longer exists."})
        return
    ctx = rc.for_command("", channel_id=state.channel)
    try:  # read-only checks: a refusal stays next to its field and nothing is written
        command = form_command(task, state, (view.get("state") or {}).get("values") or {})
        tasks.check_finish(rc.deps.db, workspace_id=rc.workspace_id, member=ctx.member(command.team), command=command)
    except FormFieldError as problems:
        ack(response_action="errors", errors=problems.errors)
        return
    except UserFacingError as problem:
        ack(response_action="errors", errors={field_for(problem, state): problem.message[:150]})
        return
    ack()
    context["channel_id"] = state.channel  # the form is closed: a refusal found while writing goes to the DM
    reply = answer_done(ctx, command)
    recorded = holds.task_for_notice(rc.deps.db, task_id=task.id) or task
    if state.channel and state.ts:
        client.chat_update(
            channel=state.channel, ts=state.ts, text=reply.text, blocks=outcome_blocks(recorded, reply.blocks)
        )
    else:
        client.chat_postMessage(channel=rc.user_id, text=reply.text, blocks=reply.blocks)
    refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, task.team, task.requester))
