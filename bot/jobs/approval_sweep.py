"""The approvals sweep: expire requests whose time is up, post requests Slack never got, repair messages.

It runs at start-up and every minute. Because it only acts on what the database says is due, and
each expiry re-checks the request under the team's lock, it is safe to run in several processes
and after any downtime: a request that expired while the bot was down is expired on the next run.

A request whose post never landed (Slack refused it, or the process died between the commit and the
post) is looked for in the channel by its metadata, then posted again; a channel the bot cannot post
to, or too many failed tries, withdraws it, releases its hold and tells the requester directly.
Workspaces the app was uninstalled from are skipped (one log line each) until they are installed again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.domain.lifecycle import ApprovalStatus
from bot.services.approvals import decisions as approvals
from bot.services.approvals import posts as approval_posts
from bot.services.quoting.quotes import week_usage
from bot.services.workspace.members import Member
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.approval import unpostable_text
from bot.slack.outbound.announce import announce_safely, find_request, landed, outcome_text, tell_requester, try_post
from bot.slack.outbound.home_tabs import refresh_team_homes

logger = logging.getLogger(__name__)


def sweep_approvals(deps: Deps, client: WebClient, now: datetime, *, skip: Collection[str] = ()) -> int:
    """Expire due requests (releasing their holds), post the unposted, announce the settled; ``skip``:
    workspaces not to touch (uninstalled)."""
    for workspace_id in sorted(skip):
        logger.info("approvals sweep skips workspace %s: the app is not installed there", workspace_id)
    expired = approvals.expire_due(deps.db, deps.effective_config, now=now, skip=skip)
    if expired:
        logger.info("expired %d approval request(s)", len(expired))
    for decision in expired:  # the requester's and the approvers' Home tabs lose the request
        a = decision.approval
        config = deps.effective_config(a.workspace_id)
        refresh_team_homes(deps, client, config, a.workspace_id, {a.team: [a.requester]})
    for approval, task in approval_posts.unposted(deps.db, now=now):
        if approval.workspace_id not in skip:
            repost(deps, client, approval, task, now)
    for approval, settled_task in approval_posts.unannounced(deps.db):  # no task: a request for more
        if approval.workspace_id not in skip:
            announce_safely(deps, client, deps.effective_config(approval.workspace_id), approval, settled_task)
    return len(expired)


def repost(deps: Deps, client: WebClient, approval: ApprovalRecord, task: TaskRecord | None, now: datetime) -> None:
    """A request whose post never landed (a task's, or a request for more): found in the channel, posted
    again, or given up."""
    config = deps.effective_config(approval.workspace_id)
    team = config.teams.get(approval.team)
    if team is None:
        return
    if approval.post_attempts:  # a try went out: it may be in the channel already
        try:
            ts = find_request(client, team.channel, approval)
        except SlackApiError as exc:
            ts = None
            logger.info("cannot look for approval %s in its channel (%s)", approval.id, exc.response.get("error"))
        if ts is not None:
            logger.info("approval %s was in the channel already (ts %s): recorded, not posted again", approval.id, ts)
            landed(deps, client, config, approval.id, team.channel, ts)
            return
    if approval.status != ApprovalStatus.PENDING:  # settled before it was ever shown: nothing to redraw
        approval_posts.mark_announced(deps.db, approval_id=approval.id)
        if approval.status in (ApprovalStatus.EXPIRED, ApprovalStatus.APPROVED, ApprovalStatus.DENIED):
            tell_requester(client, approval, outcome_text(deps, approval, task))
        return
    requester = Member(approval.requester, approval.team, role="", is_bot_admin=False)  # role unused for usage
    week = week_usage(deps.db, config, workspace_id=approval.workspace_id, member=requester, now=now)
    try:
        try_post(deps, client, config, approval, task, week_spend=week)
    except SlackApiError as exc:  # refused for good: try_post withdrew it and released the hold
        tell_requester(client, approval, unpostable_text(approval, task, team.channel, str(exc.response.get("error"))))
