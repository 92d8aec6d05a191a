"""Project budget alerts: one message per project, threshold (80 %, 100 %) and cycle, claimed like a digest.

The same claim pattern as the team's budget alerts (``bot.jobs.alerts``): a row in ``scheduled_post``
before anything is sent, so a restart or a second process never posts an alert twice. When a run finds
both thresholds new at once, it posts the 100 % one and records the 80 % one as ``superseded``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient

from bot.config import CreditsConfig
from bot.jobs.digests import Workspace
from bot.jobs.posting import Message, Poster, Rebuild, resume_post
from bot.services.budgets import ProjectAlert, project_alerts
from bot.slack.blocks.budgets import project_alert_blocks, project_alert_text
from bot.store import digests as store
from bot.store.db import Database
from bot.store.digest_models import PostKind, PostState, ScheduledPost

logger = logging.getLogger(__name__)

ALERT_GRACE = timedelta(hours=24)
RESUME_HORIZON = timedelta(days=2)


def parse_project_alert_key(key: str) -> tuple[date, str, int]:
    """The cycle start, project and threshold a project alert's slot key names."""
    cycle, _, rest = key.partition(":")
    project, _, threshold = rest.rpartition(":")
    return date.fromisoformat(cycle), project, int(threshold)


@dataclass
class ProjectAlertJob:
    """Project budget alerts for one workspace; ``config`` should be the effective one for each run."""

    db: Database
    client: WebClient
    poster: Poster
    workspace: Workspace
    grace: timedelta = ALERT_GRACE

    def _message(self, config: CreditsConfig, alert: ProjectAlert) -> Message:
        return Message(project_alert_text(alert), project_alert_blocks(alert, config.teams[alert.team].zone))

    def rebuild(self, config: CreditsConfig, clock: Callable[[], datetime]) -> Rebuild:
        """Recompute an alert for a retry; None once its cycle is over or its budget changed below it."""

        def build(post: ScheduledPost) -> tuple[str, Message] | None:
            cycle, project, threshold = parse_project_alert_key(post.slot_key)
            for alert in project_alerts(self.db, config, workspace_id=self.workspace.id, now=clock()):
                if (alert.team, alert.cycle_start, alert.project, alert.threshold) == (
                    post.team,
                    cycle,
                    project,
                    threshold,
                ):
                    return config.teams[post.team].channel, self._message(config, alert)
            return None

        return build

    def run(self, config: CreditsConfig, clock: Callable[[], datetime]) -> list[ProjectAlert]:
        """Resume unfinished alert rows, then post each project's newly reached threshold once."""
        with self.db.read() as session:
            unfinished = store.unfinished_posts(session, workspace_id=self.workspace.id, since=clock() - RESUME_HORIZON)
        build = self.rebuild(config, clock)
        for post in unfinished:
            if post.kind == PostKind.PROJECT_ALERT:
                try:
                    resume_post(self.poster, post, clock, grace=self.grace, rebuild=build)
                except Exception:
                    logger.exception("resuming project alert %s of team %s failed", post.slot_key, post.team)
        alerts = project_alerts(self.db, config, workspace_id=self.workspace.id, now=clock())
        with self.db.read() as session:
            existing = store.posts_for_slots(
                session, workspace_id=self.workspace.id, kind=PostKind.PROJECT_ALERT, slot_keys=[a.key for a in alerts]
            )
        by_project: dict[tuple[str, str], list[ProjectAlert]] = {}
        for alert in alerts:
            if (alert.team, alert.key) not in existing:
                by_project.setdefault((alert.team, alert.project), []).append(alert)
        posted = []
        for (team, project), new in by_project.items():
            top = max(new, key=lambda a: a.threshold)
            try:
                if self._claim_and_post(config, top, new, clock):
                    posted.append(top)
            except Exception:
                logger.exception("project alert for %s of team %s failed", project, team)
        return posted

    def _claim_and_post(
        self, config: CreditsConfig, top: ProjectAlert, new: list[ProjectAlert], clock: Callable[[], datetime]
    ) -> bool:
        at = clock()
        channel = config.teams[top.team].channel

        def insert(alert: ProjectAlert, state: PostState) -> ScheduledPost | None:
            return store.insert_post(
                session,
                workspace_id=self.workspace.id,
                kind=PostKind.PROJECT_ALERT,
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
