"""The budget-alert job: one short message per team, threshold and cycle, claimed like a digest slot.

When a run finds several new thresholds at once (spend jumped from 40 % to 85 %), it posts the highest
and records the lower ones as ``superseded``: one message that says where the team is, not three (the
claim and the post are shared with the project alerts: ``bot.jobs.threshold_alerts``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.jobs.digest_posting import Workspace
from bot.jobs.posting import Message, Poster, Rebuild
from bot.jobs.threshold_alerts import post_new_alerts, resume_alerts
from bot.services.digests.budget_alerts import BudgetAlert, budget_alerts, parse_alert_key
from bot.slack.blocks.digest import alert_blocks, alert_text
from bot.store.db import Database
from bot.store.tables.posts import PostKind, ScheduledPost

logger = logging.getLogger(__name__)

ALERT_GRACE = timedelta(hours=24)
KIND = PostKind.ALERT


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
            what="budget alert",
        )
        return post_new_alerts(
            self.db,
            self.poster,
            workspace_id=workspace_id,
            kind=KIND,
            alerts=budget_alerts(self.db, config, workspace_id=workspace_id, now=clock()),
            group=lambda alert: alert.team,
            channel=lambda alert: config.teams[alert.team].channel,
            message=lambda alert: self._message(config, alert),
            clock=clock,
            what=lambda alert: f"budget alert for team {alert.team}",
        )
