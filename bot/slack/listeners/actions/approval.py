"""Approve and Deny on a request in the team's channel; "Start a second task" on a duplicate warning."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.command_line import parse_command
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.domain.task_commands import RunCommand
from bot.services.approvals import credit_asks as asks
from bot.services.approvals import decisions as approvals
from bot.services.tasks.run_and_done import AlreadyStartedError
from bot.slack.answers.tasks import answer_run
from bot.slack.blocks.approval import deny_modal
from bot.slack.blocks.asks import raise_modal
from bot.slack.blocks.tasks import already_started_blocks, read_run_again_value
from bot.slack.context import Reply, RequestContext
from bot.slack.flows.approval_decisions import clicked_approval_id, decide_and_show, request_for_decider
from bot.slack.payloads import button_value


def handle_approve_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """Approve; ``approvals.decide`` checks the clicker's workspace and eligibility under the team's lock.

    A pending limit raise opens the approve form first, for the day the raise lasts to.
    """
    ack()
    approval_id = clicked_approval_id(body)
    approval, _ = approvals.get_approval(rc.deps.db, approval_id, workspace_id=rc.workspace_id)
    if approval.kind == ApprovalKind.LIMIT_RAISE and approval.status == ApprovalStatus.PENDING:
        is_admin = rc.deps.workspace_admins.is_admin(client, rc.workspace_id, rc.user_id)
        approvals.check_eligible(rc.config, approval, user_id=rc.user_id, is_workspace_admin=is_admin)
        ask = asks.ask_of(rc.deps.db, approval.id)
        assert ask is not None
        until = approvals.end_of_week(rc.now, rc.config, approval.team)
        client.views_open(trigger_id=body["trigger_id"], view=raise_modal(approval, ask, until))
        return
    decide_and_show(rc, client, respond, approval_id=approval_id, approve=True, note=None)


def handle_deny_click(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext) -> None:
    """Open the form for a reason; a request settled already is answered like a late click."""
    ack()
    approval, task = request_for_decider(rc, client, clicked_approval_id(body))
    if approval.status != ApprovalStatus.PENDING:
        decide_and_show(
            rc,
            client,
            respond,
            approval_id=approval.id,
            approve=False,
            note=None,
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=deny_modal(approval, task))


def handle_run_again_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """Start the task the duplicate warning held back, on purpose this time; once, however often it is clicked.

    The button carries the task it was shown for; a button from before that carries the command alone
    and starts a task as it always did.
    """
    ack()
    again_of, text = read_run_again_value(button_value(body))
    parsed = parse_command(text)
    if not isinstance(parsed, RunCommand):
        raise UserFacingError("That button no longer points at a task; run it again with `/credits run …`.")
    ctx = rc.for_command(text)
    try:
        reply = answer_run(ctx, parsed, allow_duplicate=True, again_of=again_of)
    except AlreadyStartedError as started:
        reply = Reply(
            f"That second task was already started as task #{started.task.number}", already_started_blocks(started.task)
        )
    respond(response_type="ephemeral", replace_original=True, text=reply.text, blocks=reply.blocks)
