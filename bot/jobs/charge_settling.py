"""The charge feed's scheduled work: settle tasks whose charges went quiet; tell who must know.

Settling is written first (its entries' idempotency keys make it once per task and figure), then the
member whose reported cost the charges corrected is told in one line, an overrun that broke a limit or
its approval is flagged in the team's channel (in its approval thread when it had one), and the team's admins are told,
once per difference, when Keter Labs' own balance differs from the bot's by more than ``feed.tolerance``.
A claim (``alerted_difference``) is committed before the message, so a crash loses at most a message,
never sends one twice; messages are best effort and logged when Slack refuses them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from bot.credits_file import ADMIN_ROLE, CreditsConfig
from bot.domain.keter_charges import Reconciliation
from bot.services.charges import reconciliation as keter_balances
from bot.services.tasks import settling as charge_settling
from bot.services.tasks.overruns import OverrunFlag
from bot.services.tasks.settling import ChargeDifference
from bot.services.workspace.members import bot_admins
from bot.slack.blocks.history import balance_alert_text, difference_text
from bot.slack.outbound.announce import post_flag
from bot.store.db import Database

logger = logging.getLogger(__name__)


@dataclass
class ChargeFeedReport:
    """What one run did."""

    differences: list[ChargeDifference] = field(default_factory=list)
    flags: list[OverrunFlag] = field(default_factory=list)  # tasks settled above their reservation, told
    balance_alerts: list[Reconciliation] = field(default_factory=list)
    changed: dict[str, set[str]] = field(default_factory=dict)  # team -> members whose tasks settled


@dataclass
class ChargeFeedJob:
    """Settling and the feed's messages, for the bot token's workspace."""

    db: Database
    client: WebClient
    workspace_id: str

    def run(self, config: CreditsConfig, clock: Callable[[], datetime]) -> ChargeFeedReport:
        """Settle quiet tasks, tell members of corrected costs, alert admins of balance differences."""
        report = ChargeFeedReport()
        settled = charge_settling.settle_quiet(self.db, config, workspace_id=self.workspace_id, now=clock())
        report.differences, report.changed = settled.differences, settled.changed
        for difference in report.differences:
            self._send(difference.member, difference_text(difference))
        report.flags = settled.flags
        for flag in report.flags:  # recorded (and audited) with the settling; the post is best effort
            post_flag(self.client, flag)
        report.balance_alerts = keter_balances.claim_balance_alerts(self.db, config, workspace_id=self.workspace_id)
        for alert in report.balance_alerts:
            zone = config.teams[alert.team].zone
            team_admins = [u for u, role in config.teams[alert.team].members.items() if role == ADMIN_ROLE]
            for admin in sorted(team_admins) or bot_admins(config):
                self._send(admin, balance_alert_text(alert, zone))
        return report

    def _send(self, user: str, text: str) -> None:
        try:
            self.client.chat_postMessage(channel=user, text=text)
        except Exception:
            logger.exception("a charge-feed message to a member failed; it is not retried")
