"""Posting a claimed digest or alert to Slack exactly once, and resuming posts a crash left unfinished.

The protocol, for one ``scheduled_post`` row:

1. **claimed**: the row was inserted (unique per slot) or taken over with compare-and-set. Nothing
   has gone to Slack; if the owner dies here, another process takes the row over after CLAIM_LEASE.
2. **posting** is committed *before* ``chat.postMessage``. The message carries ``metadata`` naming
   the row, so whoever finds a row stuck in ``posting`` looks for that message in the channel's
   history first: found, the row becomes ``posted``; not found after POSTING_LEASE, it is re-posted.
3. **posted** with the message's ts; or **failed** with Slack's error, retried with back-off while the
   slot is within its grace period. An error is no proof the message is absent (a 5xx may come after
   Slack posted it), so a retry looks for the message in the channel first, like a reconcile.
4. An answer that comes after the posting lease (Retry-After waits add up) finds the row taken over by
   another process, which posts its own: the late message is deleted, so the channel keeps one.

A 429 never reaches this code: the client's RateLimitErrorRetryHandler waits out ``Retry-After``; and
the client keeps one message per second per channel (``bot.slack.outbound.pacing``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.slack.outbound.pacing import Pacer as Pacer  # the pacing lives with the client every poster uses
from bot.store import digest as store
from bot.store.db import Database
from bot.store.tables.posts import ChartState, PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)
T = TypeVar("T")


def isolated(log: logging.Logger, what: str, step: Callable[[], T]) -> T | None:
    """Run one job, or one team's or one row's part of a job: a failure is logged with its traceback and
    never stops the others (None). The boundary of scheduled work: each step acts only on what the
    database says is due, so a later run retries what failed."""
    try:
        return step()
    except Exception:
        log.exception("%s failed", what)
        return None


EVENT_TYPES = {
    PostKind.DIGEST: "keter_credits_digest",
    PostKind.ALERT: "keter_credits_budget_alert",
    PostKind.HOLD_REMINDER: "keter_credits_hold_reminder",
    PostKind.HOLD_RELEASE: "keter_credits_hold_release",
    PostKind.PROJECT_ALERT: "keter_credits_project_alert",
}
CLAIM_LEASE = timedelta(minutes=5)
POSTING_LEASE = timedelta(minutes=10)
HISTORY_MARGIN = timedelta(minutes=2)
MAX_ERROR = 500
HTTP_SERVER_ERROR = 500


@dataclass(frozen=True)
class Chart:
    """A PNG to upload into the message's thread."""

    png: bytes
    filename: str
    title: str


@dataclass(frozen=True)
class Message:
    """What a post says."""

    text: str
    blocks: list[Block]
    chart: Chart | None = None


def backoff(attempts: int) -> timedelta:
    """Wait before retrying a failed post: 1, 2, 4 … minutes, at most 30."""
    return timedelta(minutes=min(30, 2 ** max(0, attempts - 1)))


def _short(error: object) -> str:
    return str(error)[:MAX_ERROR]


@dataclass
class Poster:
    """Delivers claimed posts for one process (``owner`` names it in the claims it holds)."""

    db: Database
    client: WebClient
    owner: str

    # -- changing hands ------------------------------------------------------------------------------

    def update(self, post: ScheduledPost, now: datetime, **changes: Any) -> ScheduledPost | None:
        """Apply ``changes`` if the row is as we last read it; the fresh row, or None when we lost it."""
        assert post.id is not None
        with self.db.write() as session:
            if not store.compare_and_set(session, post_id=post.id, version=post.version, now=now, **changes):
                return None
            return store.post_by_id(session, post_id=post.id)

    def take_over(self, post: ScheduledPost, now: datetime) -> ScheduledPost | None:
        """Claim a row for a new attempt (its state goes back to claimed)."""
        return self.update(
            post, now, state=PostState.CLAIMED.value, claimed_by=self.owner, claimed_at=now, attempts=post.attempts + 1
        )

    # -- posting -------------------------------------------------------------------------------------

    def metadata(self, post: ScheduledPost) -> dict[str, Any]:
        """The message metadata that lets a later run recognise this post in the channel."""
        return {
            "event_type": EVENT_TYPES[PostKind(post.kind)],
            "event_payload": {"post_id": post.id, "team": post.team, "slot": post.slot_key},
        }

    def deliver(self, post: ScheduledPost, channel: str, message: Message, clock: Callable[[], datetime]) -> PostState:
        """Post a row we hold in ``claimed`` and record the outcome (see the module docstring)."""
        chart = ChartState.PENDING if message.chart else ChartState.NONE
        posting = self.update(
            post,
            clock(),
            state=PostState.POSTING.value,
            channel_id=channel,
            claimed_at=clock(),
            chart_state=chart.value,
        )
        if posting is None:
            logger.info("post %s was taken over by another process before it went out", post.id)
            return PostState.CLAIMED
        try:
            answer = self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                metadata=self.metadata(posting),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:  # refused, or a 5xx whose message may exist: a retry looks first
            error = exc.response.get("error") or str(exc)
            if exc.response.status_code >= HTTP_SERVER_ERROR:
                error = f"outcome unknown: HTTP {exc.response.status_code} {error}"
            logger.warning("Slack refused %s %s for team %s: %s", post.kind, post.slot_key, post.team, error)
            self.update(posting, clock(), state=PostState.FAILED.value, error=_short(error))
            return PostState.FAILED
        except Exception as exc:  # no answer: the message may exist; reconcile from the channel later
            logger.warning("%s %s for team %s: outcome unknown (%s)", post.kind, post.slot_key, post.team, exc)
            self.update(posting, clock(), error=_short(f"outcome unknown: {exc}"))
            return PostState.POSTING
        posted = self.update(
            posting, clock(), state=PostState.POSTED.value, message_ts=answer["ts"], posted_at=clock(), error=None
        )
        if posted is None:  # our answer came after the lease: another process took the row over and posts it
            self.withdraw_duplicate(post, channel, str(answer["ts"]))
            return PostState.POSTED
        logger.info("posted %s %s for team %s", post.kind, post.slot_key, post.team)
        if message.chart is not None:
            self.upload_chart(posted, message.chart, clock, check_thread=False)
        return PostState.POSTED

    def withdraw_duplicate(self, post: ScheduledPost, channel: str, ts: str) -> None:
        """Our message went out after another process had taken the row over: delete ours, theirs stands.

        Slack can take longer to answer than the posting lease (Retry-After waits add up); the row's new
        owner found nothing in the channel and posts its own, so one of the two must go, and the row only
        records the other.
        """
        try:
            self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            logger.error(
                "post %s went out twice (another process had taken it over); deleting ours failed: %s",
                post.id,
                exc.response.get("error"),
            )
            return
        logger.warning("post %s went out after another process took it over: ours was deleted", post.id)

    def upload_chart(
        self, post: ScheduledPost, chart: Chart, clock: Callable[[], datetime], *, check_thread: bool = True
    ) -> bool:
        """Upload the chart into the digest's thread, once: a retry first looks for it there."""
        assert post.channel_id and post.message_ts
        if check_thread:
            found = self.find_chart(post)
            if found is not None:
                self.update(post, clock(), chart_state=ChartState.UPLOADED.value, chart_file_id=found)
                return True
        try:
            answer = self.client.files_upload_v2(
                channel=post.channel_id,
                thread_ts=post.message_ts,
                content=chart.png,
                filename=chart.filename,
                title=chart.title,
                alt_txt=chart.title,
            )
        except Exception as exc:  # the digest itself is out; the chart is retried by a later run
            logger.warning("chart upload for post %s failed: %s", post.id, exc)
            self.update(post, clock(), chart_state=ChartState.FAILED.value, error=_short(f"chart: {exc}"))
            return False
        file_id = (answer.get("file") or {}).get("id")
        self.update(post, clock(), chart_state=ChartState.UPLOADED.value, chart_file_id=file_id)
        return True

    # -- finding what a crash left behind ------------------------------------------------------------

    def find_message(self, post: ScheduledPost) -> str | None:
        """The ts of this post's message in its channel, found by its metadata; None if it is not there."""
        assert post.channel_id
        since = (post.claimed_at or post.created_at) - HISTORY_MARGIN
        wanted = self.metadata(post)
        cursor: str | None = None
        while True:
            page = self.client.conversations_history(
                channel=post.channel_id,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == wanted["event_type"] and _same_payload(
                    metadata.get("event_payload") or {}, wanted["event_payload"]
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None

    def find_chart(self, post: ScheduledPost) -> str | None:
        """The id of a file the bot already put in the digest's thread, if any."""
        assert post.channel_id and post.message_ts
        page = self.client.conversations_replies(channel=post.channel_id, ts=post.message_ts, limit=200)
        for message in (page.get("messages") or [])[1:]:
            for file in message.get("files") or []:
                return str(file.get("id"))
        return None


def _same_payload(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(found.get(key)) == str(value) for key, value in wanted.items())


def resume_action(post: ScheduledPost, now: datetime, owner: str) -> str | None:
    """What a run should do with an unfinished row: take it over, reconcile, retry its chart, or nothing."""
    claimed_at = post.claimed_at or post.created_at
    if post.state == PostState.CLAIMED:
        return "take_over" if now - claimed_at > CLAIM_LEASE and post.claimed_by != owner else None
    if post.state == PostState.POSTING:
        return "reconcile"
    if post.state == PostState.FAILED:
        return "take_over" if now - post.updated_at >= backoff(post.attempts) else None
    if post.state == PostState.POSTED and post.chart_state == ChartState.FAILED:
        return "chart" if now - post.updated_at >= backoff(post.attempts) else None
    if post.state == PostState.POSTED and post.chart_state == ChartState.PENDING:
        return "chart" if now - claimed_at > POSTING_LEASE else None
    return None


Rebuild = Callable[[ScheduledPost], tuple[str, Message] | None]


def resume_post(
    poster: Poster, post: ScheduledPost, clock: Callable[[], datetime], *, grace: timedelta, rebuild: Rebuild
) -> PostState | None:
    """Move one unfinished row on: reconcile it, retry it, finish its chart, or give it up past its grace.

    ``rebuild`` recomputes the message for the row (None when its team is gone). Returns the state the
    row reached, or None when nothing was done (another process holds it, or its back-off is running).
    """
    at = clock()
    action = resume_action(post, at, poster.owner)
    if action is None or (action == "take_over" and not post.scheduled and post.state == PostState.FAILED):
        return None
    late = at - post.slot_at > grace
    if action == "take_over" and post.state == PostState.FAILED and post.channel_id:
        action = "reconcile_failed"  # Slack may have posted what it answered with an error (a 5xx): look first
    if action in ("reconcile", "reconcile_failed"):
        try:
            ts = poster.find_message(post)
        except SlackApiError as exc:
            logger.warning("cannot look for post %s in its channel: %s", post.id, exc.response.get("error"))
            if action == "reconcile":
                return None
            ts = None  # a refused post whose channel cannot be read: retried (or given up) as before
        if ts is not None:
            found = poster.update(post, at, state=PostState.POSTED.value, message_ts=ts, posted_at=at, error=None)
            logger.info("post %s was already in the channel (ts %s): recorded, not posted again", post.id, ts)
            return PostState.POSTED if found is not None else None
        if action == "reconcile" and at - (post.claimed_at or post.created_at) <= POSTING_LEASE:
            return None  # its poster may still be waiting for Slack's answer
    if action == "chart":
        if late:
            poster.update(post, at, chart_state=ChartState.ABANDONED.value)
            return None
        taken = poster.update(post, at, claimed_by=poster.owner, claimed_at=at, attempts=post.attempts + 1)
        built = rebuild(taken) if taken is not None else None
        if taken is not None and built is not None and built[1].chart is not None:
            poster.upload_chart(taken, built[1].chart, clock)
        return None
    if late:
        logger.error(
            "%s %s for team %s was not posted (%s) and is past its grace period: giving up",
            post.kind,
            post.slot_key,
            post.team,
            post.error or post.state,
        )
        poster.update(post, at, state=PostState.ABANDONED.value)
        return PostState.ABANDONED
    taken = poster.take_over(post, at)
    if taken is None:
        return None
    built = rebuild(taken)
    if built is None:
        poster.update(taken, at, state=PostState.ABANDONED.value, error="the team is no longer configured")
        return PostState.ABANDONED
    return poster.deliver(taken, built[0], built[1], clock)
