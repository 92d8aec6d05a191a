"""Who may decide a request, what waits for a member, and the reminders and escalations of unanswered ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.credits_file import ADMIN_ROLE, CreditsConfig
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalStatus
from bot.domain.limits import can_approve
from bot.services.approvals.decisions import check_eligible
from bot.services.workspace.members import bot_admins
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import digest as digest_store
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState
from bot.store.tables.tasks import Approval, Task


def eligible_deciders(config: CreditsConfig, approval: ApprovalRecord | Approval) -> list[str]:
    """Members of the request's team whose role covers the amount; never the requester."""
    team = config.teams.get(approval.team)
    if team is None:
        return []
    return sorted(
        user
        for user, role in team.members.items()
        if user != approval.requester
        and role in config.roles
        and can_approve(role, config.roles[role], approval.amount)
    )


def escalation_admins(config: CreditsConfig, approval: ApprovalRecord | Approval) -> list[str]:
    """The team's own admins in the credits file (never the requester): who an unanswered request escalates to.

    Empty when the team has none; the caller then asks Slack for the workspace's admins and owners and
    passes them to ``escalation_fallback``.
    """
    team = config.teams.get(approval.team)
    own = sorted(u for u, role in (team.members.items() if team else ()) if role == ADMIN_ROLE)
    return [user for user in own if user != approval.requester]


def escalation_fallback(
    config: CreditsConfig, approval: ApprovalRecord | Approval, workspace_admins: Sequence[str]
) -> list[str]:
    """A team with no admin escalates to the workspace's admins and owners (from Slack), so never to nobody.

    When Slack names none (or cannot be asked), the credits file's admins of other teams are the last resort.
    """
    admins = sorted(set(workspace_admins)) or bot_admins(config)
    return [user for user in admins if user != approval.requester]


def pending_for(
    db: Database, config: CreditsConfig, *, workspace_id: str, user_id: str, is_workspace_admin: bool, now: datetime
) -> list[tuple[ApprovalRecord, TaskRecord]]:
    """Pending requests this user may decide, oldest first (``/credits requests`` and the Home tab)."""
    found = []
    with db.read() as session:
        for approval in task_store.pending_approvals(session, workspace_id=workspace_id, now=now):
            try:
                check_eligible(config, approval, user_id=user_id, is_workspace_admin=is_workspace_admin)
            except UserFacingError:
                continue
            task = session.get(Task, approval.task_id) if approval.task_id is not None else None
            if task is not None:
                found.append((ApprovalRecord.of(approval), TaskRecord.of(task)))
    return found


NudgeStage = Literal["reminder", "escalation"]
_STAGE_KINDS: dict[NudgeStage, PostKind] = {"reminder": PostKind.REMINDER, "escalation": PostKind.ESCALATION}


@dataclass(frozen=True)
class Nudge:
    """A reminder (to eligible approvers) or an escalation (to admins) this process claimed and must send."""

    stage: NudgeStage
    approval: ApprovalRecord
    task: TaskRecord
    claim_id: int
    recipients: tuple[str, ...]


def due_stages(config: CreditsConfig, approval: Approval, now: datetime) -> list[NudgeStage]:
    """Which nudges are due for a pending request: at ``remind_at`` and ``escalate_at`` of its lifetime."""
    lifetime = approval.expires_at - approval.created_at
    stages: list[NudgeStage] = []
    if now >= approval.created_at + lifetime * config.approvals.remind_at:
        stages.append("reminder")
    if now >= approval.created_at + lifetime * config.approvals.escalate_at:
        stages.append("escalation")
    return stages


def claim_nudges(db: Database, config_for: Callable[[str], CreditsConfig], *, now: datetime, owner: str) -> list[Nudge]:
    """Claim every due reminder and escalation, once per request across restarts and processes.

    The claim is a row in ``scheduled_post`` (unique per request and stage), inserted before anything is
    sent: whoever inserts it sends it, nobody sends it twice. When both are due at once (the bot was
    down), the reminder is claimed as superseded and only the escalation goes out.
    """
    nudges: list[Nudge] = []
    with db.write() as session:
        for approval in task_store.pending_approvals(session, now=now):
            config = config_for(approval.workspace_id)
            stages = due_stages(config, approval, now)
            if approval.team not in config.teams or not stages:
                continue
            task = session.get(Task, approval.task_id) if approval.task_id is not None else None
            assert approval.id is not None and task is not None
            for stage in stages:
                superseded = stage == "reminder" and "escalation" in stages
                claim = digest_store.insert_post(
                    session,
                    workspace_id=approval.workspace_id,
                    kind=_STAGE_KINDS[stage],
                    team=approval.team,
                    slot_key=f"approval:{approval.id}",
                    slot_at=now,
                    state=PostState.SUPERSEDED if superseded else PostState.CLAIMED,
                    owner=owner,
                    channel_id=approval.channel_id,
                    now=now,
                    scheduled=False,
                )
                if claim is None or superseded:
                    continue
                assert claim.id is not None
                who = (
                    eligible_deciders(config, approval) if stage == "reminder" else escalation_admins(config, approval)
                )
                nudges.append(Nudge(stage, ApprovalRecord.of(approval), TaskRecord.of(task), claim.id, tuple(who)))
    return nudges


def nudge_done(db: Database, *, claim_id: int, now: datetime, error: str | None = None) -> None:
    """Record that a claimed nudge went out (or why it could not); it is never sent again either way."""
    with db.write() as session:
        claim = digest_store.post_by_id(session, post_id=claim_id)
        if claim is None:
            return
        state = PostState.FAILED if error else PostState.POSTED
        digest_store.compare_and_set(
            session,
            post_id=claim_id,
            version=claim.version,
            now=now,
            state=state.value,
            posted_at=None if error else now,
            error=error[:500] if error else None,
        )


def still_pending(db: Database, *, approval_id: int) -> bool:
    """Whether the request still waits for a decision (checked again just before a nudge goes out)."""
    with db.read() as session:
        approval = session.get(Approval, approval_id)
        return approval is not None and approval.status == ApprovalStatus.PENDING
