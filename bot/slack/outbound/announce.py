"""Posting approval requests and showing their outcome in Slack: in the channel, in place, in the thread.

The database decides; these functions only tell Slack, and record only what Slack confirmed:

- A request's post is a try claimed in the database first (``approval_posts.claim_post``) and its ts is
  stored when Slack took it. Slack refusing it for good (the channel is gone, the bot is not in it)
  withdraws the request and releases the hold; refusing it otherwise, or the process dying, leaves it
  to the sweep (``bot.jobs.approval_sweep``), which looks for it in the channel before posting it again.
- "Announced" means the redraw and the thread reply landed. A click that settles a request whose
  post has not landed yet announces nothing; whoever stores the ts redraws it. A redraw that keeps
  failing (the message was deleted…) is given up after a few tries, and the requester is told the
  outcome in a direct message instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalStatus
from bot.services.approvals import credit_asks as asks
from bot.services.approvals import decisions as approvals
from bot.services.approvals import posts as approval_posts
from bot.services.quoting.quotes import week_usage
from bot.services.tasks.overruns import OverrunFlag
from bot.services.workspace.members import Member
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.approval import charged_pending_text, decided_blocks, request_blocks, request_text, thread_reply
from bot.slack.blocks.asks import ask_decided_blocks, ask_request_blocks, ask_request_text, ask_thread_reply
from bot.slack.blocks.tasks import flag_blocks, flag_text
from bot.slack.ids import MetadataEvent

logger = logging.getLogger(__name__)
CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived", "channel_is_archived", "restricted_action")
MESSAGE_GONE = (*CANNOT_POST, "message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found")
HISTORY_MARGIN = timedelta(minutes=2)


class NotInChannelError(UserFacingError):
    """The bot is not in the team's channel; the request was withdrawn and its hold released."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"I'm not in <#{channel}>: someone there should type `/invite @credits`, then run it again.")
        self.channel = channel


@dataclass(frozen=True)
class Posted:
    """What became of one try at posting a request."""

    outcome: str  # "posted", "busy" (another try is under way or it is posted), "retry" (left to the sweep)
    permalink: str | None = None


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "")


def _withdraw_unpostable(deps: Deps, config: CreditsConfig, approval: ApprovalRecord, error: str) -> None:
    approvals.withdraw(deps.db, config, approval_id=approval.id, now=deps.clock())
    logger.warning("approval %s could not be posted (%s): withdrawn, its hold released", approval.id, error)


def post_request(
    deps: Deps,
    client: WebClient,
    config: CreditsConfig,
    approval: ApprovalRecord,
    task: TaskRecord | None,
    *,
    week_spend: int,
) -> str | None:
    """Post the request for the requester who just asked; a permalink to it (None if there is none yet).

    A channel the bot cannot post to raises ``NotInChannelError`` (the request is withdrawn); any
    other failure leaves the request to the sweep, which posts it within a few minutes.
    """
    try:
        return try_post(deps, client, config, approval, task, week_spend=week_spend).permalink
    except SlackApiError as exc:
        if _error(exc) in CANNOT_POST:
            raise NotInChannelError(config.teams[approval.team].channel) from None
        raise


def _request_message(
    deps: Deps, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord | None, week_spend: int
) -> dict[str, Any]:
    """The request's message: a task's approval request, or (no task) a request for more."""
    zone = config.teams[approval.team].zone
    if task is not None:
        return {
            "text": request_text(approval, task),
            "blocks": request_blocks(approval, task, week_spend=week_spend, zone=zone),
            "metadata": {
                "event_type": MetadataEvent.APPROVAL_REQUEST,
                "event_payload": {"approval_id": approval.id, "task": task.number},
            },
        }
    ask = asks.ask_of(deps.db, approval.id)
    assert ask is not None, f"approval {approval.id} has neither a task nor an ask"
    return {
        "text": ask_request_text(approval, ask),
        "blocks": ask_request_blocks(approval, ask, week_used=week_spend, zone=zone),
        "metadata": {
            "event_type": MetadataEvent.ASK_REQUEST,
            "event_payload": {"approval_id": approval.id, "kind": approval.kind.value},
        },
    }


def try_post(
    deps: Deps,
    client: WebClient,
    config: CreditsConfig,
    approval: ApprovalRecord,
    task: TaskRecord | None,
    *,
    week_spend: int,
) -> Posted:
    """One claimed try at posting the request (a task's, or a request for more when ``task`` is None).

    Raises SlackApiError only for a post refused for good, after withdrawing the request."""
    team = config.teams[approval.team]
    claimed = approval_posts.claim_post(deps.db, approval_id=approval.id, now=deps.clock())
    if claimed is None:
        return Posted("busy")
    try:
        posted = client.chat_postMessage(
            channel=team.channel, unfurl_links=False, **_request_message(deps, config, approval, task, week_spend)
        )
    except SlackApiError as exc:
        if _error(exc) in CANNOT_POST or claimed.post_attempts >= approval_posts.MAX_POST_ATTEMPTS:
            _withdraw_unpostable(deps, config, approval, _error(exc))
            raise
        logger.warning("Slack refused approval %s (%s); the sweep will post it again", approval.id, _error(exc))
        return Posted("retry")
    except Exception as exc:  # no answer: it may be in the channel; the sweep looks before posting again
        logger.warning("approval %s: outcome of the post unknown (%s); the sweep will check", approval.id, exc)
        return Posted("retry")
    channel, ts = str(posted["channel"]), str(posted["ts"])
    landed(deps, client, config, approval.id, channel, ts)
    try:
        return Posted("posted", str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]))
    except SlackApiError:
        return Posted("posted")


def landed(deps: Deps, client: WebClient, config: CreditsConfig, approval_id: int, channel: str, ts: str) -> None:
    """Store where the request is; if a click settled it meanwhile, redraw it now."""
    approval, task = approval_posts.attach_message(deps.db, approval_id=approval_id, channel_id=channel, message_ts=ts)
    if approval.status != ApprovalStatus.PENDING:
        announce_safely(deps, client, config, approval, task)


def find_request(client: WebClient, channel: str, approval: ApprovalRecord) -> str | None:
    """The ts of the request's message in the channel (found by its metadata), or None."""
    oldest = f"{(approval.created_at - HISTORY_MARGIN).timestamp():.6f}"
    cursor: str | None = None
    while True:
        page = client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata: dict[str, Any] = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            kind = metadata.get("event_type")
            if kind in (MetadataEvent.APPROVAL_REQUEST, MetadataEvent.ASK_REQUEST) and str(
                payload.get("approval_id")
            ) == str(approval.id):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None


def outcome_text(deps: Deps, approval: ApprovalRecord, task: TaskRecord | None) -> str:
    """The outcome in one line: of the task, or of a request for more (which has no task)."""
    if task is not None:
        return thread_reply(approval, task)
    ask = asks.ask_of(deps.db, approval.id)
    return ask_thread_reply(approval, ask) if ask is not None else f"Request #{approval.id}: {approval.status}."


def tell_requester(client: WebClient, approval: ApprovalRecord, text: str) -> None:
    """A direct message to the requester (the app's Messages tab); a failure is logged, never raised."""
    try:
        client.chat_postMessage(channel=approval.requester, text=text)
    except SlackApiError as exc:
        logger.warning("could not tell the requester of approval %s directly (%s)", approval.id, _error(exc))


def post_ask(deps: Deps, client: WebClient, config: CreditsConfig, asked: asks.Asked) -> str | None:
    """Post a request for more in the team's channel, claimed like a task's request; a permalink (None if none).

    If the bot is not in the channel, the request is withdrawn (nothing was held) and the member told;
    any other failure leaves it to the sweep, which looks for it in the channel, then posts it again.
    """
    return post_request(deps, client, config, asked.approval, None, week_spend=asked.week_used)


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


def tell_charged_pending(
    deps: Deps, client: WebClient, config: CreditsConfig, charged: list[tuple[ApprovalRecord, TaskRecord]]
) -> None:
    """Keter Labs charged tasks waiting for approval beyond their hold: redraw each request with what was
    charged, and say so in its thread, for whoever decides it. Best effort: the charges are recorded.

    A request not posted yet needs nothing: it is drawn from the task, charges included, when it is posted.
    """
    for approval, task in charged:
        if not (approval.channel_id and approval.message_ts) or approval.team not in config.teams:
            continue
        role = config.teams[approval.team].members.get(approval.requester)
        week = 0
        if role is not None:
            requester = Member(approval.requester, approval.team, role, False)
            week = week_usage(deps.db, config, workspace_id=approval.workspace_id, member=requester, now=deps.clock())
        try:
            client.chat_update(
                channel=approval.channel_id,
                ts=approval.message_ts,
                **_request_message(deps, config, approval, task, week),
            )
            client.chat_postMessage(
                channel=approval.channel_id,
                thread_ts=approval.message_ts,
                text=charged_pending_text(approval, task),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            logger.warning("could not tell approval %s's thread of its task's charges (%s)", approval.id, _error(exc))


def announce_outcome(
    deps: Deps, client: WebClient, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord | None
) -> None:
    """Redraw the request without buttons and tell the requester in the thread; mark it announced after.

    Without a stored ts there is nothing to redraw yet: the post may still be on its way, and whoever
    stores its ts (or the sweep) announces it then. A request for more (no task) is worded as what it asks.
    """
    if not (approval.channel_id and approval.message_ts):
        return
    zone = config.teams[approval.team].zone if approval.team in config.teams else ZoneInfo("UTC")
    if task is None:
        ask = asks.ask_of(deps.db, approval.id)
        if ask is not None:
            reply = ask_thread_reply(approval, ask)
            client.chat_update(
                channel=approval.channel_id,
                ts=approval.message_ts,
                text=reply,
                blocks=ask_decided_blocks(approval, ask, zone=zone),
            )
            client.chat_postMessage(channel=approval.channel_id, thread_ts=approval.message_ts, text=reply)
    else:
        client.chat_update(
            channel=approval.channel_id,
            ts=approval.message_ts,
            text=thread_reply(approval, task),
            blocks=decided_blocks(approval, task, zone=zone),
        )
        client.chat_postMessage(
            channel=approval.channel_id, thread_ts=approval.message_ts, text=thread_reply(approval, task)
        )
    approval_posts.mark_announced(deps.db, approval_id=approval.id)


def announce_safely(
    deps: Deps, client: WebClient, config: CreditsConfig, approval: ApprovalRecord, task: TaskRecord | None
) -> None:
    """Announce; a Slack failure is counted and left to the sweep, and after a few (or a message that is
    gone) the message is given up and the requester told the outcome directly."""
    try:
        announce_outcome(deps, client, config, approval, task)
    except SlackApiError as exc:
        error = _error(exc)
        tries = approval_posts.announce_failed(deps.db, approval_id=approval.id)
        if error not in MESSAGE_GONE and tries < approval_posts.MAX_ANNOUNCE_ATTEMPTS:
            logger.warning("could not update approval %s in Slack (%s); the sweep will retry", approval.id, error)
            return
        logger.warning(
            "gave up redrawing approval %s after %d tries (%s); telling the requester", approval.id, tries, error
        )
        tell_requester(client, approval, outcome_text(deps, approval, task))
        approval_posts.mark_announced(deps.db, approval_id=approval.id)
