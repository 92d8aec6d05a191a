"""The stale-holds job: remind requesters of tasks they never reported, release the holds of older ones.

Each direct message is claimed in ``scheduled_post`` before it is sent (``services.tasks.stale_holds``), then
delivered by the same ``Poster`` as digests: ``posting`` committed before ``chat.postMessage``,
``posted`` after. A message Slack refused (``failed``) is retried with back-off for a day; a claim
whose process died before sending is taken over. A message whose outcome is unknown (the process
died during the call) is not sent again: the bot cannot read the member's DM history without
``im:history``, and a second reminder is worse than none; it is marked ``abandoned`` and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.domain.lifecycle import TaskStatus
from bot.jobs.digest_posting import Workspace
from bot.jobs.posting import CLAIM_LEASE, POSTING_LEASE, Message, Poster, backoff, isolated
from bot.services.tasks import stale_holds as holds
from bot.services.tasks.stale_holds import HoldNotice
from bot.services.workspace.records import TaskRecord
from bot.slack.blocks.holds import release_blocks, release_text, reminder_blocks, reminder_text
from bot.store import digest as store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

HOLD_KINDS = (PostKind.HOLD_REMINDER.value, PostKind.HOLD_RELEASE.value)
RETRY_FOR = timedelta(hours=24)
RESUME_HORIZON = timedelta(days=2)


@dataclass
class StaleHoldReport:
    """What one run did."""

    reminded: list[TaskRecord]
    released: list[TaskRecord]


@dataclass
class StaleHoldJob:
    """Reminders and releases of stale holds for the bot token's workspace."""

    db: Database
    client: WebClient
    poster: Poster
    workspace: Workspace

    def message(self, config: CreditsConfig, kind: PostKind, task: TaskRecord, released: int) -> Message:
        """The direct message of a claim."""
        zone = config.teams[task.team].zone
        if kind is PostKind.HOLD_REMINDER:
            until = holds.release_at(config, task.created_at)
            return Message(reminder_text(task), reminder_blocks(task, release_at=until, zone=zone))
        return Message(release_text(task, released), release_blocks(task, released, zone=zone))

    def run(self, config: CreditsConfig, clock: Callable[[], datetime]) -> StaleHoldReport:
        """Retry unfinished messages, release what is due (telling each requester), then send due reminders."""
        self.resume(config, clock)
        report = StaleHoldReport([], [])
        workspace_id, owner = self.workspace.id, self.poster.owner
        for notice in holds.release_stale(self.db, config, workspace_id=workspace_id, now=clock(), owner=owner):
            logger.info("released stale hold of task %s (%d credits)", notice.task.id, notice.released)
            report.released.append(notice.task)
            self._deliver(config, notice, clock)
        for notice in holds.claim_reminders(self.db, config, workspace_id=workspace_id, now=clock(), owner=owner):
            report.reminded.append(notice.task)
            self._deliver(config, notice, clock)
        return report

    def _deliver(self, config: CreditsConfig, notice: HoldNotice, clock: Callable[[], datetime]) -> None:
        with self.db.read() as session:
            post = store.post_by_id(session, post_id=notice.post_id)
        if post is None:
            return
        if notice.kind is PostKind.HOLD_REMINDER:
            task = holds.task_for_notice(self.db, task_id=notice.task.id)
            if task is None or task.status != TaskStatus.HELD:  # reported or cancelled since the claim
                self.poster.update(post, clock(), state=PostState.ABANDONED.value, error="no longer applies")
                return
        try:
            message = self.message(config, notice.kind, notice.task, notice.released)
            self.poster.deliver(post, notice.task.requester, message, clock)
        except Exception:
            logger.exception("%s for task %s failed; a later run retries it", notice.kind.value, notice.task.id)

    def resume(self, config: CreditsConfig, clock: Callable[[], datetime]) -> None:
        """Retry refused messages and take over claims whose process died before sending."""
        now = clock()
        with self.db.read() as session:
            unfinished = [
                p
                for p in store.unfinished_posts(session, workspace_id=self.workspace.id, since=now - RESUME_HORIZON)
                if p.kind in HOLD_KINDS and p.state != PostState.POSTED
            ]
        for post in unfinished:
            isolated(logger, f"resuming {post.kind} {post.slot_key}", partial(self._resume_one, config, post, clock))

    def _resume_one(self, config: CreditsConfig, post: ScheduledPost, clock: Callable[[], datetime]) -> None:
        now = clock()
        claimed_at = post.claimed_at or post.created_at
        if post.state == PostState.POSTING:
            if now - claimed_at > POSTING_LEASE:
                logger.error("%s %s: outcome unknown, not sent again", post.kind, post.slot_key)
                self.poster.update(post, now, state=PostState.ABANDONED.value, error="outcome unknown; not re-sent")
            return
        mine = post.claimed_by == self.poster.owner
        if post.state == PostState.CLAIMED and (now - claimed_at <= CLAIM_LEASE or mine):
            return
        if post.state == PostState.FAILED and now - post.updated_at < backoff(post.attempts):
            return
        task = holds.task_for_notice(self.db, task_id=holds.task_id_of(post.slot_key))
        kind = PostKind(post.kind)
        stale_reminder = kind is PostKind.HOLD_REMINDER and (task is None or task.status != TaskStatus.HELD)
        if task is None or task.team not in config.teams or stale_reminder or now - post.slot_at > RETRY_FOR:
            self.poster.update(post, now, state=PostState.ABANDONED.value, error="no longer applies")
            return
        taken = self.poster.take_over(post, now)
        if taken is None:
            return
        released = holds.released_amount(self.db, workspace_id=self.workspace.id, task_id=task.id)
        self.poster.deliver(taken, task.requester, self.message(config, kind, task, released), clock)
