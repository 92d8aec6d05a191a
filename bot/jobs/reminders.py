"""Reminders and escalation for pending approval requests.

At ``approvals.remind_at`` of a request's lifetime its eligible approvers get a direct message with the
request's buttons and a link to its thread; at ``approvals.escalate_at`` the team's admins do. Each is
claimed in ``scheduled_post`` before it is sent (``approvals.claim_nudges``), so it goes out at most
once per request across restarts and processes, and never after a decision. The requester is told in
the thread.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.services import approvals
from bot.services.approvals import Nudge
from bot.slack.blocks.approval import task_line
from bot.slack.blocks.format import credits, when
from bot.slack.deps import Deps
from bot.slack.home import thread_link
from bot.slack.ids import ActionId

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


def send_reminders(deps: Deps, client: WebClient, now: datetime, *, owner: str) -> list[Nudge]:
    """Claim and send every due reminder and escalation; returns what was sent."""
    sent = []
    for nudge in approvals.claim_nudges(deps.db, deps.effective_config, now=now, owner=owner):
        a = nudge.approval
        if not approvals.still_pending(deps.db, approval_id=a.id):  # decided since the claim
            approvals.nudge_done(deps.db, claim_id=nudge.claim_id, now=now, error="decided before sending")
            continue
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
            try:
                client.chat_postMessage(
                    channel=a.channel_id,
                    thread_ts=a.message_ts,
                    text=f"<@{a.requester}> nobody has decided yet, so I reminded {who} "
                    f"({', '.join(f'<@{u}>' for u in nudge.recipients)}).",
                )
            except SlackApiError as exc:
                errors.append(str(exc.response.get("error")))
        approvals.nudge_done(deps.db, claim_id=nudge.claim_id, now=now, error=", ".join(errors) or None)
        sent.append(nudge)
    return sent
