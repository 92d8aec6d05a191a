"""Submitting the quote form runs the task; submitting the Done form records its cost."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.domain.task_commands import DoneCommand
from bot.services.tasks.run_and_done import check_finish
from bot.slack.answers.tasks import answer_done, answer_run
from bot.slack.blocks.quote_form import DoneFormState, QuoteFormState
from bot.slack.context import RequestContext
from bot.slack.flows.quote_form import check_form
from bot.slack.ids import BlockId
from bot.slack.outbound.home_tabs import concerned, refresh_homes


def handle_quote_form_submission(ack: Ack, view: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """Field errors, and a team short of credits, go back next to their fields (nothing written); else ack, run.

    Only read-only checks come before the ack, so a busy database never delays it. A refusal that only
    the write finds (another run took the credits meanwhile) reaches the member through the error
    boundary, in their direct messages with the bot.
    """
    ctx = rc.for_command("", channel_id="")
    state = QuoteFormState.model_validate_json(view.get("private_metadata") or "{}")
    errors, command = check_form(ctx, view)
    if errors or command is None:
        ack(response_action="errors", errors=errors or {BlockId.QUOTE_TOOL: "Pick a tool."})
        return
    ack()
    reply = answer_run(ctx, command)
    client.chat_postMessage(channel=rc.user_id, text=reply.text, blocks=reply.blocks)
    refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, state.team, rc.user_id))


def _number(values: dict[str, Any], block: str) -> int | None:
    text = str((values.get(block, {}).get("value") or {}).get("value") or "").strip()
    return int(text) if text.isdigit() else None


def handle_done_form_submission(ack: Ack, view: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """Record the task's real cost exactly as ``/credits done`` does."""
    values = (view.get("state") or {}).get("values") or {}
    retries, kept, cost = (_number(values, b) for b in (BlockId.DONE_RETRIES, BlockId.DONE_KEPT, BlockId.DONE_COST))
    if cost is not None and retries is not None:
        ack(response_action="errors", errors={BlockId.DONE_COST: "Give either the retries or the cost, not both."})
        return
    state = DoneFormState.model_validate_json(view.get("private_metadata") or "{}")
    ctx = rc.for_command("", channel_id="")
    command = DoneCommand(number=state.number, retries=retries, cost=cost, kept=kept, team=state.team)
    try:  # read-only: what ``done`` would refuse stays in the form
        check_finish(rc.deps.db, workspace_id=rc.workspace_id, member=ctx.member(state.team), command=command)
    except UserFacingError as problem:
        field = BlockId.DONE_KEPT if "kept" in problem.message else BlockId.DONE_RETRIES
        ack(response_action="errors", errors={field: problem.message[:150]})
        return
    ack()
    reply = answer_done(ctx, command)
    client.chat_postMessage(channel=rc.user_id, text=reply.text, blocks=reply.blocks)
    refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, state.team, rc.user_id))
