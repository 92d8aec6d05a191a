"""Posting approval requests and showing their outcome in Slack: in the channel, in place, in the thread.

The database decides; these functions only tell Slack. An outcome is marked announced only after
Slack took both the update and the thread reply, so a crash or a Slack error in between is repaired
by the next sweep (``bot.jobs.approvals``) instead of leaving buttons on a settled request.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import CreditsConfig
from bot.domain.errors import UserFacingError
from bot.services import approvals, asks
from bot.services.records import ApprovalRecord, TaskRecord
from bot.services.tasks import OverrunFlag
from bot.slack.blocks.approval import decided_blocks, request_blocks, request_text, thread_reply
from bot.slack.blocks.asks import ask_decided_blocks, ask_request_blocks, ask_request_text, ask_thread_reply
from bot.slack.blocks.tasks import flag_blocks, flag_text
from bot.slack.deps import Deps
from bot.slack.ids import MetadataEvent

logger = logging.getLogger(__name__)
CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived")


class NotInChannelError(UserFacingError):
    """The bot is not in the team's channel; the request was withdrawn and its hold released."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"I'm not in <#{channel}>: someone there should type `/invite @credits`, then run it again.")
        self.channel = channel


def post_request(
    deps: Deps, client: WebClient, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord, *, week_spend: int
) -> str | None:
    """Post the request with its buttons; returns a permalink to it (None if Slack would not give one)."""
    team = config.teams[approval.team]
    try:
        posted = client.chat_postMessage(
            channel=team.channel,
            text=request_text(approval, task),
            blocks=request_blocks(approval, task, week_spend=week_spend, zone=team.zone),
            metadata={
                "event_type": MetadataEvent.APPROVAL_REQUEST,
                "event_payload": {"approval_id": approval.id, "task": task.number},
            },
            unfurl_links=False,
        )
    except SlackApiError as exc:
        if exc.response.get("error") in CANNOT_POST:
            approvals.withdraw(deps.db, config, approval_id=approval.id, now=deps.clock())
            raise NotInChannelError(team.channel) from None
        raise
    channel, ts = str(posted["channel"]), str(posted["ts"])
    approvals.attach_message(deps.db, approval_id=approval.id, channel_id=channel, message_ts=ts)
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError:
        return None


def post_ask(deps: Deps, client: WebClient, config: CreditsConfig, asked: asks.Asked) -> str | None:
    """Post a request for more in the team's channel; returns a permalink (None if Slack gives none).

    If the bot is not in the channel, the request is withdrawn (nothing was held) and the member told.
    """
    approval, ask = asked.approval, asked.ask
    team = config.teams[approval.team]
    try:
        posted = client.chat_postMessage(
            channel=team.channel,
            text=ask_request_text(approval, ask),
            blocks=ask_request_blocks(approval, ask, week_used=asked.week_used, zone=team.zone),
            metadata={
                "event_type": MetadataEvent.ASK_REQUEST,
                "event_payload": {"approval_id": approval.id, "kind": approval.kind.value},
            },
            unfurl_links=False,
        )
    except SlackApiError as exc:
        if exc.response.get("error") in CANNOT_POST:
            approvals.withdraw(deps.db, config, approval_id=approval.id, now=deps.clock())
            raise NotInChannelError(team.channel) from None
        raise
    channel, ts = str(posted["channel"]), str(posted["ts"])
    approvals.attach_message(deps.db, approval_id=approval.id, channel_id=channel, message_ts=ts)
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError:
        return None


def post_flag(client: WebClient, flag: OverrunFlag) -> None:
    """Tell the team's channel about a flagged overrun, in the approval thread when there was one.

    The charge is already recorded; a Slack error here is logged and does not undo or hide it.
    """
    try:
        client.chat_postMessage(
            channel=flag.channel,
            thread_ts=flag.thread_ts,
            text=flag_text(flag),
            blocks=flag_blocks(flag),
            unfurl_links=False,
        )
    except SlackApiError as exc:
        logger.warning(
            "could not post the overrun flag of task #%s in %s (%s)",
            flag.task_number,
            flag.channel,
            exc.response.get("error"),
        )


def announce_outcome(
    deps: Deps, client: WebClient, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord | None
) -> None:
    """Redraw the request without buttons and tell the requester in the thread."""
    if task is None:
        ask = asks.ask_of(deps.db, approval.id)
        if ask is not None and approval.channel_id and approval.message_ts:
            zone = config.teams[approval.team].zone if approval.team in config.teams else ZoneInfo("UTC")
            reply = ask_thread_reply(approval, ask)
            client.chat_update(
                channel=approval.channel_id,
                ts=approval.message_ts,
                text=reply,
                blocks=ask_decided_blocks(approval, ask, zone=zone),
            )
            client.chat_postMessage(channel=approval.channel_id, thread_ts=approval.message_ts, text=reply)
    elif approval.channel_id and approval.message_ts:
        zone = config.teams[approval.team].zone if approval.team in config.teams else ZoneInfo("UTC")
        client.chat_update(
            channel=approval.channel_id,
            ts=approval.message_ts,
            text=thread_reply(approval, task),
            blocks=decided_blocks(approval, task, zone=zone),
        )
        client.chat_postMessage(
            channel=approval.channel_id, thread_ts=approval.message_ts, text=thread_reply(approval, task)
        )
    approvals.mark_announced(deps.db, approval_id=approval.id)


def announce_safely(
    deps: Deps, client: WebClient, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord | None
) -> None:
    """Announce, leaving a Slack failure to the next sweep (logged, never lost)."""
    try:
        announce_outcome(deps, client, config, approval, task)
    except SlackApiError as exc:
        logger.warning(
            "could not update approval %s in Slack (%s); the sweep will retry", approval.id, exc.response.get("error")
        )
