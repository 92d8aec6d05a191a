"""Deciding an approval from Slack (a button or the deny modal), then showing the outcome.

Shared by the button and modal listeners, which must not import each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.domain.commands import whole_number
from bot.domain.errors import UserFacingError
from bot.services.approvals import decisions as approvals
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.approval import outcome_line
from bot.slack.context import RequestContext
from bot.slack.outbound.announce import announce_safely
from bot.slack.outbound.home_tabs import concerned, refresh_homes

LARGEST_ID = 2**31 - 1  # the tables' integer ids; a bigger value would only make the database raise


def clicked_approval_id(body: dict[str, Any]) -> int:
    """The approval an Approve/Deny button carries in its value: a small positive integer, else stale."""
    try:
        value = body["actions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        raise approvals.StaleRequestError from None
    number = whole_number(value) if isinstance(value, str) and len(value) <= len(str(LARGEST_ID)) else None
    if number is None or not 1 <= number <= LARGEST_ID:
        raise approvals.StaleRequestError
    return number


def request_for_decider(
    rc: RequestContext, client: WebClient, approval_id: int
) -> tuple[ApprovalRecord, TaskRecord | None]:
    """The request, once the user is known to be allowed to decide it (else a UserFacingError says why)."""
    deps, config, workspace_id, user_id = rc.deps, rc.config, rc.workspace_id, rc.user_id
    approval, task = approvals.get_approval(deps.db, approval_id, workspace_id=workspace_id)
    admin = deps.workspace_admins.is_admin(client, workspace_id, user_id)
    approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=admin)
    return approval, task


def request_before_ack(rc: RequestContext, approval_id: int) -> ApprovalRecord:
    """The request, refused (a UserFacingError) only where the database and the cached admin flag can tell.

    For a form's submission, before its ack: no Slack Web API call here. A user whose admin flag is
    not cached and whom the credits file does not allow might still be a workspace admin (``users.info``
    would say): they pass, and ``approvals.decide`` checks them after the ack, under the team's lock.
    """
    deps, config, workspace_id, user_id = rc.deps, rc.config, rc.workspace_id, rc.user_id
    approval, _ = approvals.get_approval(deps.db, approval_id, workspace_id=workspace_id)
    admin = deps.workspace_admins.known(workspace_id, user_id)
    if admin is not None:
        approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=admin)
        return approval
    try:
        approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=False)
    except UserFacingError:
        # Refused as a regular member; a refusal that would stand even for an admin is told now.
        approvals.check_eligible(config, approval, user_id=user_id, is_workspace_admin=True)
    return approval


def decide_and_show(
    rc: RequestContext,
    client: WebClient,
    respond: Respond | None,
    *,
    approval_id: int,
    approve: bool,
    note: str | None,
    until: date | None = None,
) -> None:
    """Decide, then redraw the request; a late clicker is told who was first."""
    deps, config, workspace_id, user_id = rc.deps, rc.config, rc.workspace_id, rc.user_id
    decision = approvals.decide(
        deps.db,
        config,
        workspace_id=workspace_id,
        approval_id=approval_id,
        decider=user_id,
        is_workspace_admin=deps.workspace_admins.is_admin(client, workspace_id, user_id),
        approve=approve,
        note=note,
        now=rc.now,
        until=until,
    )
    if decision.changed:  # only the call that settled it announces it; the sweep repairs a failure
        announce_safely(deps, client, config, decision.approval, decision.task)
        team = decision.approval.team
        refresh_homes(deps, client, config, workspace_id, concerned(config, team, decision.approval.requester, user_id))
    if decision.outcome == "decided":
        return
    zone = config.teams[decision.approval.team].zone
    message = f"Too late: this request was already settled. {outcome_line(decision.approval, zone)}"
    if respond is not None:
        respond(response_type="ephemeral", replace_original=False, text=message)
    elif decision.approval.channel_id:
        client.chat_postEphemeral(channel=decision.approval.channel_id, user=user_id, text=message)
