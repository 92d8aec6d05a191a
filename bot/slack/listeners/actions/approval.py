"""Approve and Deny on a request in the team's channel; "Start a second task" on a duplicate warning."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.command_line import parse_command
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalStatus
from bot.domain.task_commands import RunCommand
from bot.services import approvals
from bot.services.views import ApprovalView, TaskView
from bot.slack.announce import announce_safely
from bot.slack.blocks.approval import deny_modal, outcome_line
from bot.slack.deps import Deps
from bot.slack.ids import ActionId
from bot.slack.listeners.commands.credits import command_context
from bot.slack.listeners.commands.tasks import answer_run
from bot.slack.listeners.errors import error_boundary


def _approval_id(body: dict[str, Any]) -> int:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, ValueError):
        raise UserFacingError("That button no longer points at a request.") from None


def _clicker(body: dict[str, Any]) -> tuple[str, str]:
    return (body.get("team") or {}).get("id", ""), (body.get("user") or {}).get("id", "")


def check_clicker(deps: Deps, client: WebClient, body: dict[str, Any]) -> tuple[ApprovalView, TaskView]:
    """The request behind the click, once the clicker is known to be allowed to decide it."""
    workspace_id, user_id = _clicker(body)
    config = deps.effective_config(workspace_id)
    approval, task = approvals.get_approval(deps.db, _approval_id(body))
    admin = deps.workspace_admins.is_admin(client, workspace_id, user_id)
    approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=admin)
    return approval, task


def settle_click(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    workspace_id: str,
    user_id: str,
    approval_id: int,
    approve: bool,
    note: str | None,
) -> None:
    """Decide, then show the outcome; a late clicker is told who was first."""
    config = deps.effective_config(workspace_id)
    decision = approvals.decide(
        deps.db,
        config,
        workspace_id=workspace_id,
        approval_id=approval_id,
        decider=user_id,
        is_workspace_admin=deps.workspace_admins.is_admin(client, workspace_id, user_id),
        approve=approve,
        note=note,
        now=deps.clock(),
    )
    if decision.changed:  # only the call that settled it announces it; the sweep repairs a failure
        announce_safely(deps, client, config, decision.approval, decision.task)
    if decision.outcome == "decided":
        return
    zone = config.teams[decision.approval.team].zone
    message = f"Too late: this request was already settled. {outcome_line(decision.approval, zone)}"
    if respond is not None:
        respond(response_type="ephemeral", replace_original=False, text=message)
    elif decision.approval.channel_id:
        client.chat_postEphemeral(channel=decision.approval.channel_id, user=user_id, text=message)


def register(app: App, deps: Deps) -> None:
    """Register the three buttons."""

    def settle_from_click(
        body: dict[str, Any], respond: Respond, client: WebClient, approval_id: int, approve: bool
    ) -> None:
        workspace_id, user_id = _clicker(body)
        settle_click(
            deps,
            client,
            respond,
            workspace_id=workspace_id,
            user_id=user_id,
            approval_id=approval_id,
            approve=approve,
            note=None,
        )

    @app.action(ActionId.APPROVE)
    @error_boundary
    def handle_approve_click(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        settle_from_click(body, respond, client, _approval_id(body), approve=True)  # decide checks the clicker

    @app.action(ActionId.DENY)
    @error_boundary
    def handle_deny_click(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        approval, task = check_clicker(deps, client, body)
        if approval.status != ApprovalStatus.PENDING:  # settled already: say so instead of opening the form
            settle_from_click(body, respond, client, approval.id, approve=False)
            return
        client.views_open(trigger_id=body["trigger_id"], view=deny_modal(approval, task))

    @app.action(ActionId.RUN_AGAIN)
    @error_boundary
    def handle_run_again_click(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        text = str(body["actions"][0].get("value", ""))
        parsed = parse_command(text)
        if not isinstance(parsed, RunCommand):
            raise UserFacingError("That button no longer points at a task; run it again with `/credits run …`.")
        reply = answer_run(command_context(deps, body, client, context, text), parsed, allow_duplicate=True)
        respond(response_type="ephemeral", replace_original=True, text=reply.text, blocks=reply.blocks)
