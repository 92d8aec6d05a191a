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
from bot.jobs.posting import Message, Poster, Rebuild, settle
from bot.services.alerts import BudgetAlert, budget_alerts, parse_alert_key
from bot.slack.blocks.digest import alert_blocks, alert_text
from bot.store import digests as store
from bot.store.db import Database
from bot.store.digest_models import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

ALERT_GRACE = timedelta(hours=24)
SETTLE_HORIZON = timedelta(days=2)


@dataclass
class AlertJob:
    """Budget alerts for one workspace; ``config`` should be the effective one for each run."""

    db: Database
    client: WebClient
    poster: Poster
    workspace: Workspace
    grace: timedelta = ALERT_GRACE

    def _message(self, alert: BudgetAlert) -> Message:
        return Message(alert_text(alert), alert_blocks(alert))

    def rebuild(self, config: CreditsConfig, now: Callable[[], datetime]) -> Rebuild:
        """Recompute an alert for a retry; None once its cycle is over (the alert no longer applies)."""

        def build(post: ScheduledPost) -> tuple[str, Message] | None:
            cycle, threshold = parse_alert_key(post.slot_key)
            for alert in budget_alerts(self.db, config, workspace_id=self.workspace.id, now=now()):
                if alert.team == post.team and alert.cycle_start == cycle and alert.threshold == threshold:
                    return config.teams[post.team].channel, self._message(alert)
            return None

        return build

    def run(self, config: CreditsConfig, now: Callable[[], datetime]) -> list[BudgetAlert]:
        """Settle earlier alert rows, then post each team's newly reached threshold once."""
        with self.db.read() as session:
            unsettled = store.unsettled_posts(session, workspace_id=self.workspace.id, since=now() - SETTLE_HORIZON)
        build = self.rebuild(config, now)
        for post in unsettled:
            if post.kind == PostKind.ALERT:
                try:
                    settle(self.poster, post, now, grace=self.grace, rebuild=build)
                except Exception:
                    logger.exception("settling budget alert %s of team %s failed", post.slot_key, post.team)
        alerts = budget_alerts(self.db, config, workspace_id=self.workspace.id, now=now())
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
                if self._claim_and_post(config, max(new, key=lambda a: a.threshold), new, now):
                    posted.append(max(new, key=lambda a: a.threshold))
            except Exception:
                logger.exception("budget alert for team %s failed", team)
        return posted

    def _claim_and_post(
        self, config: CreditsConfig, top: BudgetAlert, new: list[BudgetAlert], now: Callable[[], datetime]
    ) -> bool:
        at = now()
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
        return self.poster.deliver(post, channel, self._message(top), now) is PostState.POSTED
