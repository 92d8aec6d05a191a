"""Reminders and escalation for pending approval requests.

At ``approvals.remind_at`` of a request's lifetime its eligible approvers get a direct message with the
request's buttons and a link to its thread; at ``approvals.escalate_at`` the team's admins do (the
credits file's admins of the team; a team with none escalates to the Slack workspace's admins and
owners, from ``users.list``, cached like ``users.info``, so a request never escalates to nobody). Each is
claimed in ``scheduled_post`` before it is sent (``approval_nudges.claim_nudges``), so it goes out at most
once per request across restarts and processes, and never after a decision. The requester is told in
the thread.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.services.approvals import nudges as approval_nudges
from bot.services.approvals.nudges import Nudge
from bot.slack.blocks.approval import task_line
from bot.slack.blocks.format import credits, when
from bot.slack.ids import ActionId
from bot.slack.outbound.home_tabs import thread_link

logger = logging.getLogger(__name__)


def _dm_blocks(nudge: Nudge, link: str | None, deps: Deps) -> list[Block]:
    a, task = nudge.approval, nudge.task
    zone = deps.effective_config(a.workspace_id).teams[a.team].zone
    opening = "Still waiting for a decision" if nudge.stage == "reminder" else "Escalated to you: nobody decided yet"
    thread = f" · <{link}|open the thread>" if link else ""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{opening}*: <@{a.requester}> asks for *{credits(a.amount)}* for *{task_line(task)}*.\n"
                f"{a.reasons} · expires {when(a.expires_at, zone)}{thread}"
            )
        ),
        ActionsBlock(
            elements=[
                ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=str(a.id), style="primary"),
                ButtonElement(text="Deny", action_id=ActionId.DENY, value=str(a.id), style="danger"),
            ]
        ),
    ]


def _with_recipients(deps: Deps, client: WebClient, nudge: Nudge) -> tuple[Nudge, bool]:
    """An escalation for a team with no admin goes to the workspace's admins and owners (``users.list``).

    Asked after the claim's transaction, never inside it; True when the recipients came from Slack's list.
    """
    if nudge.stage != "escalation" or nudge.recipients:
        return nudge, False
    a = nudge.approval
    workspace = deps.workspace_admins.everyone(client, a.workspace_id)
    recipients = approval_nudges.escalation_fallback(deps.effective_config(a.workspace_id), a, workspace)
    return replace(nudge, recipients=tuple(recipients)), bool(set(recipients) & set(workspace))


def send_reminders(deps: Deps, client: WebClient, now: datetime, *, owner: str) -> list[Nudge]:
    """Claim and send every due reminder and escalation; returns what was sent."""
    sent = []
    for claimed in approval_nudges.claim_nudges(deps.db, deps.effective_config, now=now, owner=owner):
        a = claimed.approval
        if not approval_nudges.still_pending(deps.db, approval_id=a.id):  # decided since the claim
            approval_nudges.nudge_done(deps.db, claim_id=claimed.claim_id, now=now, error="decided before sending")
            continue
        nudge, workspace_wide = _with_recipients(deps, client, claimed)
        link = thread_link(client, a.channel_id, a.message_ts)
        blocks = _dm_blocks(nudge, link, deps)
        text = f"Approval waiting: {credits(a.amount)} for task #{nudge.task.number}"
        errors = []
        for user in nudge.recipients:
            try:
                client.chat_postMessage(channel=user, text=text, blocks=blocks)
            except SlackApiError as exc:
                errors.append(str(exc.response.get("error")))
        if a.channel_id and a.message_ts and nudge.recipients:
            who = "its approvers" if nudge.stage == "reminder" else "the team's admins"
            if workspace_wide:
                who = "the workspace's admins (the team has no admin)"
            try:
                client.chat_postMessage(
                    channel=a.channel_id,
                    thread_ts=a.message_ts,
                    text=f"<@{a.requester}> nobody has decided yet, so I reminded {who} "
                    f"({', '.join(f'<@{u}>' for u in nudge.recipients)}).",
                )
            except SlackApiError as exc:
                errors.append(str(exc.response.get("error")))
        approval_nudges.nudge_done(deps.db, claim_id=nudge.claim_id, now=now, error=", ".join(errors) or None)
        sent.append(nudge)
    return sent
