"""The budget-alert job: one short message per team, threshold and cycle, claimed like a digest slot.

When a run finds several new thresholds at once (spend jumped from 40 % to 85 %), it posts the highest
and records the lower ones as ``superseded``: one message that says where the team is, not three.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.config import CreditsConfig
from bot.jobs.digests import Workspace
from bot.jobs.posting import Message, Poster, Rebuild, resume_post
from bot.services.alerts import BudgetAlert, budget_alerts, parse_alert_key
from bot.slack.blocks.digest import alert_blocks, alert_text
from bot.store import digests as store
from bot.store.db import Database
from bot.store.digest_models import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

ALERT_GRACE = timedelta(hours=24)
RESUME_HORIZON = timedelta(days=2)


@dataclass
class AlertJob:
    """Budget alerts for one workspace; ``config`` should be the effective one for each run."""

    db: Database
    client: WebClient
    poster: Poster
    workspace: Workspace
    grace: timedelta = ALERT_GRACE

    def _message(self, config: CreditsConfig, alert: BudgetAlert) -> Message:
        return Message(alert_text(alert), alert_blocks(alert, config.teams[alert.team].zone))

    def rebuild(self, config: CreditsConfig, clock: Callable[[], datetime]) -> Rebuild:
        """Recompute an alert for a retry; None once its cycle is over (the alert no longer applies)."""

        def build(post: ScheduledPost) -> tuple[str, Message] | None:
            cycle, threshold = parse_alert_key(post.slot_key)
            for alert in budget_alerts(self.db, config, workspace_id=self.workspace.id, now=clock()):
                if alert.team == post.team and alert.cycle_start == cycle and alert.threshold == threshold:
                    return config.teams[post.team].channel, self._message(config, alert)
            return None

        return build

    def run(self, config: CreditsConfig, clock: Callable[[], datetime]) -> list[BudgetAlert]:
        """Resume alert rows earlier runs left unfinished, then post each team's newly reached threshold once."""
        with self.db.read() as session:
            unfinished = store.unfinished_posts(session, workspace_id=self.workspace.id, since=clock() - RESUME_HORIZON)
        build = self.rebuild(config, clock)
        for post in unfinished:
            if post.kind == PostKind.ALERT:
                try:
                    resume_post(self.poster, post, clock, grace=self.grace, rebuild=build)
                except Exception:
                    logger.exception("resuming budget alert %s of team %s failed", post.slot_key, post.team)
        alerts = budget_alerts(self.db, config, workspace_id=self.workspace.id, now=clock())
        with self.db.read() as session:
            existing = store.posts_for_slots(
                session, workspace_id=self.workspace.id, kind=PostKind.ALERT, slot_keys=[a.key for a in alerts]
            )
        by_team: dict[str, list[BudgetAlert]] = {}
        for alert in alerts:
            if (alert.team, alert.key) not in existing:
                by_team.setdefault(alert.team, []).append(alert)
        posted = []
        for team, new in by_team.items():
            try:
                if self._claim_and_post(config, max(new, key=lambda a: a.threshold), new, clock):
                    posted.append(max(new, key=lambda a: a.threshold))
            except Exception:
                logger.exception("budget alert for team %s failed", team)
        return posted

    def _claim_and_post(
        self, config: CreditsConfig, top: BudgetAlert, new: list[BudgetAlert], clock: Callable[[], datetime]
    ) -> bool:
        at = clock()
        channel = config.teams[top.team].channel

        def insert(alert: BudgetAlert, state: PostState) -> ScheduledPost | None:
            return store.insert_post(
                session,
                workspace_id=self.workspace.id,
                kind=PostKind.ALERT,
                team=alert.team,
                slot_key=alert.key,
                slot_at=at,
                state=state,
                owner=self.poster.owner if state is PostState.CLAIMED else None,
                channel_id=channel,
                now=at,
                error=None if state is PostState.CLAIMED else f"superseded by the {top.threshold}% alert",
            )

        with self.db.write() as session:
            post = insert(top, PostState.CLAIMED)
            if post is not None:
                for lower in new:
                    if lower.threshold < top.threshold:
                        insert(lower, PostState.SUPERSEDED)
        if post is None:
            return False
        return self.poster.deliver(post, channel, self._message(config, top), clock) is PostState.POSTED
