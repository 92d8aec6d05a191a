"""The approvals sweep: expire requests whose time is up and repair messages Slack never got.

It runs at start-up and every minute. Because it only acts on what the database says is due, and
each expiry re-checks the request under the team's lock, it is safe to run in several processes
and after any downtime: a request that expired while the bot was down is expired on the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot.services import approvals
from bot.slack.announce import announce_safely
from bot.slack.deps import Deps

logger = logging.getLogger(__name__)


def sweep_approvals(deps: Deps, client: WebClient, now: datetime) -> int:
    """Expire due requests (releasing their holds) and announce every settled, unannounced one."""
    expired = approvals.expire_due(deps.db, deps.effective_config, now=now)
    if expired:
        logger.info("expired %d approval request(s)", len(expired))
    settled = approvals.unannounced(deps.db)
    for approval, task in settled:
        config = deps.effective_config(approval.workspace_id)
        announce_safely(deps, client, config, approval, task)
    return len(expired)
