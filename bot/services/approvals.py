"""Deciding approval requests exactly once, expiring them, and keeping their Slack messages in step.

A decision, an expiry and a cancel all take the team's write lock and then look at the approval's
status, so whichever comes first wins and the others see it already settled: never a capture and a
release of the same hold. A click after the expiry time never approves, even if the sweep has not
run yet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.config import ADMIN_ROLE, CreditsConfig
from bot.domain.calendar import local_date
from bot.domain.commands import free_text
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import (
    ASK_KINDS,
    ApprovalKind,
    ApprovalStatus,
    TaskEvent,
    next_approval_status,
    next_task_status,
)
from bot.domain.limits import can_approve
from bot.services.audit import SYSTEM_ACTOR, record_decision
from bot.services.balances import open_team_cycle
from bot.services.members import bot_admins
from bot.services.records import ApprovalRecord, TaskRecord
from bot.services.task_ledger import capture_task, release_credits
from bot.store import digests as digest_store
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.digest_models import PostKind, PostState
from bot.store.models import Approval, CreditAsk, Task, TeamBalance

MAX_RAISE_DAYS = 92
"""The furthest an approved limit raise may last: it is a time-boxed override, not a new role."""
ASK_WORDS = {ApprovalKind.LIMIT_RAISE: "a limit raise", ApprovalKind.EXTRA_CREDITS: "extra credits"}

POST_LEASE = timedelta(minutes=2)  # a try at posting a request older than this is presumed dead
MAX_POST_ATTEMPTS = 10  # one every POST_LEASE: then, about 20 minutes on, withdrawn and its hold released
MAX_ANNOUNCE_ATTEMPTS = 3  # then the message is given up and the requester told directly


@dataclass(frozen=True)
class Decision:
    """What a click (or the sweep) did: decided it, found it past its time and expired it, or found it settled."""

    outcome: Literal["decided", "expired_now", "already"]
    approval: ApprovalRecord
    task: TaskRecord | None  # None: a request for more (a limit raise, extra credits)

    @property
    def changed(self) -> bool:
        """This call settled the request, so it is the one to announce it."""
        return self.outcome != "already"


def _task_of(session: Session, approval: Approval) -> Task | None:
    return session.get(Task, approval.task_id) if approval.task_id is not None else None


def get_approval(db: Database, approval_id: int) -> tuple[ApprovalRecord, TaskRecord | None]:
    """An approval and its task (None for a request for more), or a user error if it does not exist."""
    with db.read() as session:
        approval = session.get(Approval, approval_id)
        task = _task_of(session, approval) if approval else None
        if approval is None or (task is None and approval.kind not in ASK_KINDS):
            raise UserFacingError("That request no longer exists.")
        return ApprovalRecord.of(approval), TaskRecord.of(task) if task else None


def end_of_week(now: datetime, config: CreditsConfig, team: str) -> date:
    """The Sunday of this week in the team's timezone: how long a limit raise lasts unless the admin picks."""
    today = local_date(now, config.teams[team].zone)
    return today + timedelta(days=6 - today.weekday())


def check_eligible(
    config: CreditsConfig, approval: ApprovalRecord | Approval, *, user_id: str, is_workspace_admin: bool
) -> None:
    """Only a member of the team whose role covers the amount, and never the requester, may decide.

    ``decide`` enforces it under the team's lock; the Slack edge may also call it first, to refuse a
    click before opening the deny form.
    """
    if user_id == approval.requester:
        raise UserFacingError("You can't decide your own request; another lead or an admin of the team has to.")
    team = config.teams.get(approval.team)
    role = ADMIN_ROLE if is_workspace_admin else (team.members.get(user_id) if team else None)
    if role is None:
        raise UserFacingError(
            f"Only members of team {approval.team} who can approve {approval.amount:,} credits can decide this request."
        )
    if approval.kind in ASK_KINDS and role != ADMIN_ROLE:
        raise UserFacingError(f"Only an admin can decide a request for {ASK_WORDS[ApprovalKind(approval.kind)]}.")
    if not can_approve(role, config.roles[role], approval.amount):
        cap = config.roles[role].can_approve_up_to
        limit = f"up to {cap:,} credits" if cap else "no requests"
        raise UserFacingError(
            f"Your role ({role}) can approve {limit}; this request is for {approval.amount:,} credits. "
            "A lead or an admin has to decide it."
        )


def _settle_ask(
    session: Session, config: CreditsConfig, approval: Approval, event: TaskEvent, now: datetime, until: date | None
) -> None:
    """A request for more: nothing is held, so only its outcome (and an approved raise's last day) is written."""
    approval.status = next_approval_status(approval.status, event)
    approval.decided_at = now
    ask = session.get(CreditAsk, approval.id)
    assert ask is not None
    if event is TaskEvent.APPROVE and approval.kind == ApprovalKind.LIMIT_RAISE:
        ask.until = until or end_of_week(now, config, approval.team)
        session.add(ask)
    kind = ApprovalKind(approval.kind)
    record_decision(
        session,
        workspace_id=approval.workspace_id,
        team=approval.team,
        action=event.value,
        actor=approval.decided_by or SYSTEM_ACTOR,
        target=f"{kind.value.replace('_', ' ')} request #{approval.id}",  # the requester is in the details
        now=now,
        request=kind.value,
        credits=approval.amount,
        requester=approval.requester,
        **(
            {"task_limit": ask.task_limit, "weekly_limit": ask.weekly_limit}
            if ask.task_limit or ask.weekly_limit
            else {}
        ),
        **({"until": ask.until.isoformat()} if ask.until and event is TaskEvent.APPROVE else {}),
        **({"note": approval.decision_note} if approval.decision_note else {}),
    )
    session.add(approval)
    session.flush()


def _apply_decision(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    approval: Approval,
    task: Task | None,
    event: TaskEvent,
    now: datetime,
    until: date | None = None,
) -> None:
    """Carry out a pending request's outcome on its hold and its task (the caller holds the team lock).

    Approved: a new task may run, an overrun is captured. Anything else gives back what the request
    held: the whole hold of a new task, only the extra hold of an overrun. A request for more holds
    nothing: ``_settle_ask``.
    """
    if task is None:
        _settle_ask(session, config, approval, event, now, until)
        return
    approval.status = next_approval_status(approval.status, event)
    approval.decided_at = now
    if event is TaskEvent.APPROVE and approval.kind == ApprovalKind.OVERRUN:
        assert task.actual_cost is not None
        capture_task(session, config, row, task, cost=task.actual_cost, event=event, now=now)
    elif event is TaskEvent.APPROVE:
        task.status = next_task_status(task.status, event)
    else:
        amount = approval.amount if approval.kind == ApprovalKind.OVERRUN else task.held
        release_credits(
            session, config, row, task, amount=amount, event=event, key=f"release:approval:{approval.id}", now=now
        )
    record_decision(
        session,
        workspace_id=approval.workspace_id,
        team=approval.team,
        action=event.value,
        actor=approval.decided_by or SYSTEM_ACTOR,
        target=f"task #{task.number}",
        now=now,
        request=ApprovalKind(approval.kind).value,
        credits=approval.amount,
        requester=approval.requester,
        **({"note": approval.decision_note} if approval.decision_note else {}),
    )
    session.add_all([approval, task])
    session.flush()


def decide(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    approval_id: int,
    decider: str,
    is_workspace_admin: bool,
    approve: bool,
    note: str | None,
    now: datetime,
    until: date | None = None,
) -> Decision:
    """Approve or deny, exactly once; a late click finds the request already settled or expired.

    Who decides is checked here, under the team's lock: the request must belong to the clicker's
    workspace and the clicker must be eligible (``check_eligible``); otherwise a UserFacingError and
    nothing changes. ``until`` is the last day of an approved limit raise (default: this Sunday).
    """
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise UserFacingError("That request no longer exists.")
        if approval.workspace_id != workspace_id:
            raise UserFacingError("That request belongs to another Slack workspace; it can only be decided there.")
        row = open_team_cycle(session, config, workspace_id=approval.workspace_id, team=approval.team, now=now)
        session.refresh(approval)
        task = _task_of(session, approval)
        assert task is not None or approval.kind in ASK_KINDS
        record = TaskRecord.of(task) if task else None
        check_eligible(config, approval, user_id=decider, is_workspace_admin=is_workspace_admin)
        if approval.status != ApprovalStatus.PENDING:
            return Decision("already", ApprovalRecord.of(approval), record)
        if now >= approval.expires_at:
            _apply_decision(session, config, row, approval, task, TaskEvent.EXPIRE, now)
            return Decision("expired_now", ApprovalRecord.of(approval), TaskRecord.of(task) if task else None)
        if until is not None and not local_date(now, config.teams[approval.team].zone) <= until:
            raise UserFacingError("The raise must last at least until today; pick today or a later day.")
        if until is not None and (until - local_date(now, config.teams[approval.team].zone)).days > MAX_RAISE_DAYS:
            raise UserFacingError(
                f"A raise lasts at most {MAX_RAISE_DAYS} days; pick an earlier day or change the role."
            )
        approval.decided_by = decider
        note = free_text(note).strip() if note else None
        approval.decision_note = note[:500] if note else None
        event = TaskEvent.APPROVE if approve else TaskEvent.DENY
        _apply_decision(session, config, row, approval, task, event, now, until)
        return Decision("decided", ApprovalRecord.of(approval), TaskRecord.of(task) if task else None)


def expire_due(
    db: Database, config_for: Callable[[str], CreditsConfig], *, now: datetime, skip: Collection[str] = ()
) -> list[Decision]:
    """Expire every pending request whose time is up, releasing its hold; safe to run anywhere, any time.

    ``skip``: workspaces left alone (uninstalled); their requests expire once they are back.
    """
    with db.read() as session:
        due = [
            (a.id, a.workspace_id, a.team)
            for a in task_store.due_approvals(session, now=now)
            if a.workspace_id not in skip
        ]
    expired = []
    for approval_id, workspace_id, team in due:
        config = config_for(workspace_id)
        if team not in config.teams:
            continue
        with db.write() as session:
            row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
            approval = session.get(Approval, approval_id)
            assert approval is not None
            session.refresh(approval)
            task = _task_of(session, approval)
            if approval.status != ApprovalStatus.PENDING or (task is None and approval.kind not in ASK_KINDS):
                continue
            _apply_decision(session, config, row, approval, task, TaskEvent.EXPIRE, now)
            expired.append(Decision("expired_now", ApprovalRecord.of(approval), TaskRecord.of(task) if task else None))
    return expired


def claim_post(db: Database, *, approval_id: int, now: datetime) -> ApprovalRecord | None:
    """Take the next try at posting a request: None when it is posted, or another try began under POST_LEASE ago.

    ``posting_at`` is committed before the post, so a process that dies mid-post leaves a try the
    sweep sees as stale once the lease is over (and looks for in the channel before posting again).
    """
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        if approval is None or approval.message_ts is not None:
            return None
        if approval.posting_at is not None and now - approval.posting_at < POST_LEASE:
            return None
        approval.posting_at = now
        approval.post_attempts += 1
        session.add(approval)
        session.flush()
        return ApprovalRecord.of(approval)


def attach_message(
    db: Database, *, approval_id: int, channel_id: str, message_ts: str
) -> tuple[ApprovalRecord, TaskRecord | None]:
    """Remember where the request was posted (the post landed), so decisions can update it in place.

    Returns the request as it is now (and its task; None for a request for more): a click may have
    settled it while the post was on its way, and then the caller redraws it at once.
    """
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        assert approval is not None
        approval.channel_id, approval.message_ts, approval.posting_at = channel_id, message_ts, None
        session.add(approval)
        session.flush()
        task = session.get(Task, approval.task_id) if approval.task_id is not None else None
        return ApprovalRecord.of(approval), TaskRecord.of(task) if task is not None else None


def unposted(db: Database, *, now: datetime) -> list[tuple[ApprovalRecord, TaskRecord]]:
    """Requests whose post never landed and whose last try (or creation) is over POST_LEASE old."""
    with db.read() as session:
        found = []
        for approval in task_store.unposted_approvals(session, before=now - POST_LEASE):
            task = session.get(Task, approval.task_id) if approval.task_id is not None else None
            if task is not None:
                found.append((ApprovalRecord.of(approval), TaskRecord.of(task)))
        return found


def announce_failed(db: Database, *, approval_id: int) -> int:
    """Count a failed try at redrawing the request; how many there have been."""
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        assert approval is not None
        approval.announce_attempts += 1
        session.add(approval)
        return approval.announce_attempts


def withdraw(db: Database, config: CreditsConfig, *, approval_id: int, now: datetime) -> None:
    """The request could not be posted: release the hold so no credits stay stuck."""
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        row = open_team_cycle(session, config, workspace_id=approval.workspace_id, team=approval.team, now=now)
        session.refresh(approval)
        task = _task_of(session, approval)
        if approval.status != ApprovalStatus.PENDING or (task is None and approval.kind not in ASK_KINDS):
            return
        _apply_decision(session, config, row, approval, task, TaskEvent.WITHDRAW, now)
        approval.announced = True
        session.add(approval)


def mark_announced(db: Database, *, approval_id: int) -> None:
    """The Slack message and thread now show the outcome."""
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        if approval is not None:
            approval.announced = True
            session.add(approval)


def unannounced(db: Database) -> list[tuple[ApprovalRecord, TaskRecord | None]]:
    """Settled requests whose message still shows buttons (a crash or a Slack error came between)."""
    with db.read() as session:
        found: list[tuple[ApprovalRecord, TaskRecord | None]] = []
        for approval in task_store.unannounced_approvals(session):
            task = _task_of(session, approval)
            if task is not None:
                found.append((ApprovalRecord.of(approval), TaskRecord.of(task)))
            elif approval.kind in ASK_KINDS:
                found.append((ApprovalRecord.of(approval), None))
        return found


# -- who can decide, what is waiting, and reminders ----------------------------------------------------


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
