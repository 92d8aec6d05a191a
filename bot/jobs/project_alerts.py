"""Project budget alerts: one message per project, threshold (80 %, 100 %) and cycle, claimed like a digest.

The same claim pattern as the team's budget alerts (shared: ``bot.jobs.threshold_alerts``): a row in ``scheduled_post``
before anything is sent, so a restart or a second process never posts an alert twice. When a run finds
both thresholds new at once, it posts the 100 % one and records the 80 % one as ``superseded``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.jobs.digest_posting import Workspace
from bot.jobs.posting import Message, Poster, Rebuild
from bot.jobs.threshold_alerts import post_new_alerts, resume_alerts
from bot.services.balances.project_budgets import ProjectAlert, project_alerts
from bot.slack.blocks.budgets import project_alert_blocks, project_alert_text
from bot.store.db import Database
from bot.store.tables.posts import PostKind, ScheduledPost

logger = logging.getLogger(__name__)

ALERT_GRACE = timedelta(hours=24)
KIND = PostKind.PROJECT_ALERT


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
        workspace_id = self.workspace.id
        build = self.rebuild(config, clock)
        resume_alerts(
            self.db,
            self.poster,
            workspace_id=workspace_id,
            kind=KIND,
            clock=clock,
            grace=self.grace,
            rebuild=build,
            what="project alert",
        )
        return post_new_alerts(
            self.db,
            self.poster,
            workspace_id=workspace_id,
            kind=KIND,
            alerts=project_alerts(self.db, config, workspace_id=workspace_id, now=clock()),
            group=lambda alert: (alert.team, alert.project),
            channel=lambda alert: config.teams[alert.team].channel,
            message=lambda alert: self._message(config, alert),
            clock=clock,
            what=lambda alert: f"project alert for {alert.project} of team {alert.team}",
        )
