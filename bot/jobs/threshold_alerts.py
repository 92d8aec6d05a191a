"""What the team's budget alerts and the projects' budget alerts share: resume, claim the highest, post once.

Each new threshold is a row in ``scheduled_post`` claimed before anything is sent, so a restart or a
second process never posts an alert twice. When a run finds several new thresholds of one group at once
(spend jumped from 40 % to 85 %), it posts the highest and records the lower ones as ``superseded``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

from bot.jobs.posting import Message, Poster, Rebuild, isolated, resume_post
from bot.store import digest as store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

RESUME_HORIZON = timedelta(days=2)


class ThresholdAlert(Protocol):
    """An alert at one threshold of a budget, posted once per slot ``key`` in its team's channel."""

    @property
    def team(self) -> str: ...

    @property
    def threshold(self) -> int: ...

    @property
    def key(self) -> str: ...


A = TypeVar("A", bound=ThresholdAlert)


def resume_alerts(
    db: Database,
    poster: Poster,
    *,
    workspace_id: str,
    kind: PostKind,
    clock: Callable[[], datetime],
    grace: timedelta,
    rebuild: Rebuild,
    what: str,
) -> None:
    """Move on the rows of ``kind`` earlier runs left unfinished (``what`` names them in the log)."""
    with db.read() as session:
        unfinished = store.unfinished_posts(session, workspace_id=workspace_id, since=clock() - RESUME_HORIZON)
    for post in unfinished:
        if post.kind == kind:
            resume = partial(resume_post, poster, post, clock, grace=grace, rebuild=rebuild)
            isolated(logger, f"resuming {what} {post.slot_key} of team {post.team}", resume)


def post_new_alerts(
    db: Database,
    poster: Poster,
    *,
    workspace_id: str,
    kind: PostKind,
    alerts: Sequence[A],
    group: Callable[[A], Hashable],
    channel: Callable[[A], str],
    message: Callable[[A], Message],
    clock: Callable[[], datetime],
    what: Callable[[A], str],
) -> list[A]:
    """Post the highest new threshold of each ``group`` once; returns the alerts posted.

    ``what`` names an alert in the log when its post fails (one failing group never stops the others).
    """
    with db.read() as session:
        existing = store.posts_for_slots(
            session, workspace_id=workspace_id, kind=kind, slot_keys=[a.key for a in alerts]
        )
    groups: dict[Hashable, list[A]] = {}
    for alert in alerts:
        if (alert.team, alert.key) not in existing:
            groups.setdefault(group(alert), []).append(alert)
    posted = []
    for new in groups.values():
        top = max(new, key=lambda a: a.threshold)
        post = partial(_claim_and_post, db, poster, workspace_id, kind, top, new, channel(top), message, clock)
        if isolated(logger, what(top), post):
            posted.append(top)
    return posted


def _claim_and_post(
    db: Database,
    poster: Poster,
    workspace_id: str,
    kind: PostKind,
    top: A,
    new: list[A],
    channel: str,
    message: Callable[[A], Message],
    clock: Callable[[], datetime],
) -> bool:
    """Claim ``top`` (and record the lower new ones superseded) in one transaction, then post it."""
    at = clock()

    def insert(alert: A, state: PostState) -> ScheduledPost | None:
        return store.insert_post(
            session,
            workspace_id=workspace_id,
            kind=kind,
            team=alert.team,
            slot_key=alert.key,
            slot_at=at,
            state=state,
            owner=poster.owner if state is PostState.CLAIMED else None,
            channel_id=channel,
            now=at,
            error=None if state is PostState.CLAIMED else f"superseded by the {top.threshold}% alert",
        )

    with db.write() as session:
        post = insert(top, PostState.CLAIMED)
        if post is not None:
            for lower in new:
                if lower.threshold < top.threshold:
                    insert(lower, PostState.SUPERSEDED)
    if post is None:
        return False
    return poster.deliver(post, channel, message(top), clock) is PostState.POSTED
