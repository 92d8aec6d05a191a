"""Deciding approval requests exactly once and expiring them (messages: ``posts``; nudges: ``nudges``).

A decision, an expiry and a cancel all take the team's write lock and then look at the approval's
status, so whichever comes first wins and the others see it already settled: never a capture and a
release of the same hold. A click after the expiry time never approves, even if the sweep has not
run yet.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.credits_file import ADMIN_ROLE, CreditsConfig
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
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import release_credits
from bot.services.workspace.audit_trail import SYSTEM_ACTOR, record_decision
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.ledger import TeamBalance
from bot.store.tables.tasks import Approval, CreditAsk, Task

MAX_RAISE_DAYS = 92
"""The furthest an approved limit raise may last: it is a time-boxed override, not a new role."""
ASK_WORDS = {ApprovalKind.LIMIT_RAISE: "a limit raise", ApprovalKind.EXTRA_CREDITS: "extra credits"}


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


def task_of(session: Session, approval: Approval) -> Task | None:
    """The request's task; None for a request for more (a limit raise, extra credits)."""
    return session.get(Task, approval.task_id) if approval.task_id is not None else None


class StaleRequestError(UserFacingError):
    """A button or form names a request that does not exist (any more)."""

    def __init__(self) -> None:
        super().__init__("That button no longer points at a request.")


class OtherWorkspaceError(UserFacingError):
    """A click or form from one workspace names another workspace's request: nothing is read or changed."""

    def __init__(self) -> None:
        super().__init__("That request belongs to another Slack workspace; it can only be decided there.")


def workspace_approval(session: Session, *, workspace_id: str, approval_id: int) -> Approval:
    """The workspace's approval by id: the one workspace check every read and decision of a request makes."""
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise StaleRequestError
    if approval.workspace_id != workspace_id:
        raise OtherWorkspaceError
    return approval


def get_approval(db: Database, approval_id: int, *, workspace_id: str) -> tuple[ApprovalRecord, TaskRecord | None]:
    """The workspace's approval and its task (None for a request for more), or ``StaleRequestError``."""
    with db.read() as session:
        approval = workspace_approval(session, workspace_id=workspace_id, approval_id=approval_id)
        task = task_of(session, approval)
        if task is None and approval.kind not in ASK_KINDS:
            raise StaleRequestError
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


def _flag_charged_without_approval(
    session: Session, approval: Approval, task: Task, event: TaskEvent, now: datetime
) -> None:
    """Keter Labs charged a task whose request was then refused: the charges are facts and stay spent.

    The rest of its hold goes back as for any refusal; the audit trail keeps the spend that had no
    approval, for the admins to follow up (a later charge naming the task is unplanned spend).
    """
    record_decision(
        session,
        workspace_id=approval.workspace_id,
        team=approval.team,
        action="charged_without_approval",
        target=f"task #{task.number}",
        now=now,
        outcome=event.value,
        charged=task.charged,
        charges=task.charge_count,
        requester=task.requester,
    )


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

    Approved: the task may run. Anything else gives back the task's whole hold. A request for more
    holds nothing: ``_settle_ask``.
    """
    if task is None:
        _settle_ask(session, config, approval, event, now, until)
        return
    approval.status = next_approval_status(approval.status, event)
    approval.decided_at = now
    if event is TaskEvent.APPROVE:
        task.status = next_task_status(task.status, event)
    else:
        release_credits(
            session, config, row, task, amount=task.held, event=event, key=f"release:approval:{approval.id}", now=now
        )
        if approval.kind == ApprovalKind.TASK and task.charge_count:
            _flag_charged_without_approval(session, approval, task, event, now)
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
        approval = workspace_approval(session, workspace_id=workspace_id, approval_id=approval_id)
        row = open_team_cycle(session, config, workspace_id=approval.workspace_id, team=approval.team, now=now)
        session.refresh(approval)
        task = task_of(session, approval)
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
            task = task_of(session, approval)
            if approval.status != ApprovalStatus.PENDING or (task is None and approval.kind not in ASK_KINDS):
                continue
            _apply_decision(session, config, row, approval, task, TaskEvent.EXPIRE, now)
            expired.append(Decision("expired_now", ApprovalRecord.of(approval), TaskRecord.of(task) if task else None))
    return expired


def withdraw(db: Database, config: CreditsConfig, *, approval_id: int, now: datetime) -> None:
    """The request could not be posted: release the hold so no credits stay stuck."""
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        row = open_team_cycle(session, config, workspace_id=approval.workspace_id, team=approval.team, now=now)
        session.refresh(approval)
        task = task_of(session, approval)
        if approval.status != ApprovalStatus.PENDING or (task is None and approval.kind not in ASK_KINDS):
            return
        _apply_decision(session, config, row, approval, task, TaskEvent.WITHDRAW, now)
        approval.announced = True
        session.add(approval)
