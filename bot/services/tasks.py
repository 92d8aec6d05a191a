"""``run``, ``done``, ``cancel``, ``tasks``: a task's life from reservation to its real cost.

Every change happens in one write transaction that first locks the team's balance row, so the
limit check, the affordability check, the task row, the ledger entry and the approval request are
consistent with each other even when many members run tasks at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.config import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError
from bot.domain.ledger import EntryKind, InsufficientCreditsError
from bot.domain.lifecycle import (
    ApprovalKind,
    ApprovalStatus,
    TaskEvent,
    TaskStatus,
    initial_task_status,
    is_open,
    next_approval_status,
    next_task_status,
)
from bot.domain.limits import LimitCheck, check_limits
from bot.domain.pricing import TaskSpec, actual_cost
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.balances import current_balance, open_team_cycle
from bot.services.members import Member, bot_admins
from bot.services.quotes import QuoteReport, member_week_usage, quote_in_session, resolve_spec
from bot.services.records import ApprovalRecord, TaskRecord
from bot.store import ledger as ledger_store
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.models import Approval, Task, TeamBalance


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did: reserved the credits, asked for approval, or stopped at a likely duplicate."""

    kind: Literal["reserved", "approval_needed", "duplicate"]
    report: QuoteReport
    task: TaskRecord | None = None
    approval: ApprovalRecord | None = None
    week_spend: int = 0


@dataclass(frozen=True)
class FinishResult:
    """What ``done`` did: charged the task, or asked for approval of what it cost over its hold."""

    kind: Literal["captured", "approval_needed"]
    task: TaskRecord
    charged: int
    released: int
    retries_assumed: bool
    approval: ApprovalRecord | None = None
    week_spend: int = 0  # the member's use this week after this call, for the approval request


class ShortfallError(UserFacingError):
    """The team cannot afford it: by how much, and the ids of who can add extra credits.

    ``message`` names no one; the Slack edge renders the admins as mentions.
    """

    def __init__(self, team: str, error: InsufficientCreditsError, admins: list[str]) -> None:
        self.team, self.shortfall, self.needed, self.available = team, error.shortfall, error.needed, error.available
        self.admins = tuple(admins)
        super().__init__(self.explain("an admin"))

    def explain(self, who_can_add: str) -> str:
        """The sentence, with ``who_can_add`` naming those who can add extra credits."""
        return (
            f"Team {self.team} is {self.shortfall:,} credits short: this needs {self.needed:,}, {self.available:,} "
            f"are available. Nothing was reserved. {who_can_add} can add extra credits "
            f"(`/credits admin topup {self.team} <credits>`)."
        )


class NotYourTaskError(UserFacingError):
    """Someone else's task: ``owner`` is their user id, for the Slack edge to mention."""

    def __init__(self, number: int, owner: str, verb: str) -> None:
        self.number, self.owner, self.verb = number, owner, verb
        super().__init__(self.explain("another member"))

    def explain(self, owner: str) -> str:
        """The sentence, with ``owner`` naming the task's requester."""
        return f"Task #{self.number} is {owner}'s; only they or an admin can {self.verb} it."


def fingerprint(command: RunCommand) -> str:
    """What makes two runs "the same task" for the duplicate check."""
    t = command.request
    return f"{t.tool}|{t.quality}|{t.variants}|{t.duration_seconds}|{t.retries}|{command.note or ''}"[:300]


def write_task_entry(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    kind: EntryKind,
    delta: rules.Delta,
    key: str,
    now: datetime,
) -> None:
    """A ledger entry about a task, by its requester, dated in the team's timezone; it must be new."""
    ledger_store.append_new_entry(
        session,
        row=row,
        kind=kind,
        delta=delta,
        idempotency_key=key,
        now=now,
        local_day=local_date(now, config.teams[task.team].zone),
        member=task.requester,
        tool=task.tool,
        task_id=task.id,
    )


def hold_credits(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, amount: int, key: str, now: datetime
) -> None:
    """Reserve ``amount`` more for the task; ShortfallError (nothing written) when the team can't afford it."""
    try:
        delta = rules.place_hold(ledger_store.as_balance(row), amount)
    except InsufficientCreditsError as short:
        raise ShortfallError(task.team, short, bot_admins(config)) from None
    write_task_entry(session, config, row, task, EntryKind.HOLD, delta, key, now)
    task.held += amount
    session.add(task)


def capture_task(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, *, cost: int, event: TaskEvent, now: datetime
) -> int:
    """Spend the task's real cost against everything it holds and close it; returns the credits given back.

    The one capture: ``done`` within the hold or limits (``FINISH``) and an approved overrun (``APPROVE``).
    """
    held = task.held
    try:
        delta = rules.capture(ledger_store.as_balance(row), held, cost)
    except InsufficientCreditsError as short:
        raise ShortfallError(task.team, short, bot_admins(config)) from None
    status = next_task_status(task.status, event)
    write_task_entry(session, config, row, task, EntryKind.CAPTURE, delta, f"capture:task:{task.id}", now)
    task.actual_cost, task.held, task.status, task.finished_at = cost, 0, status, now
    session.add(task)
    return max(0, held - cost)


def release_credits(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    *,
    amount: int,
    event: TaskEvent,
    key: str,
    now: datetime,
) -> int:
    """Give back ``amount`` of what the task holds and move it on by ``event``; returns the credits released.

    The one release: a cancel, a refused request (the whole hold), and a refused overrun (only its extra
    hold; the task is open again and forgets the cost it reported).
    """
    status = next_task_status(task.status, event)
    if amount:
        delta = rules.release_hold(ledger_store.as_balance(row), amount)
        write_task_entry(session, config, row, task, EntryKind.RELEASE, delta, key, now)
    if task.status == TaskStatus.OVERRUN:
        task.actual_cost = None
    task.held -= amount
    task.status = status
    session.add(task)
    return amount


def _new_approval(
    config: CreditsConfig,
    task: Task,
    amount: int,
    reasons: str,
    kind: ApprovalKind,
    now: datetime,
    details: str = "",
) -> Approval:
    assert task.id is not None
    return Approval(
        workspace_id=task.workspace_id,
        team=task.team,
        task_id=task.id,
        kind=kind,
        requester=task.requester,
        amount=amount,
        reasons=reasons[:500],
        details=details[:2000],
        status=ApprovalStatus.PENDING,
        expires_at=now + timedelta(hours=config.approvals.expire_after_hours),
        created_at=now,
    )


def describe_breaches(limits: LimitCheck) -> str:
    """``over the per-task limit of 50 by 250; over the weekly limit of 300 by 40``."""
    return "; ".join(f"over the {b.kind.value} of {b.limit:,} by {b.over_by:,} credits" for b in limits.breaches)


def itemise(report: QuoteReport) -> str:
    """The cost lines an approver needs, kept with the request so its message can be redrawn later."""
    quote = report.quote
    retries = f"{quote.retries:g} {'given' if quote.retry_basis.value == 'given' else 'expected'}"
    exact = quote.attempt_cost + quote.retries_cost
    rounded = f" ({_figure(exact)} rounded up)" if abs(exact - quote.total) > 1e-9 else ""
    return (
        f"first attempt {_figure(quote.attempt_cost)} + cost of retries ({retries}) {_figure(quote.retries_cost)}"
        f" = {quote.total:,} credits{rounded}"
    )


def _figure(value: float) -> str:
    """``2,160``, ``0.25``: thousands separators, no float noise (approval lines are read on a phone)."""
    rounded = round(value, 2)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.2f}".rstrip("0").rstrip(".")


def start_task(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    command: RunCommand,
    now: datetime,
    allow_duplicate: bool = False,
) -> RunResult:
    """Price the task and reserve its credits; over a limit, reserve them anyway and ask for approval.

    Pricing, the limit check, the duplicate check and the hold all happen once, in one write transaction
    under the team's lock, so what the member is told is exactly what was checked and written.
    """
    spec = resolve_spec(config, command.request)  # an unknown tool or option fails before any write
    task_fingerprint = fingerprint(command)
    # A due renewal (or a new team's opening grant) is committed on its own, as for a quote, so it stays
    # even when this run is refused; it reads one row when nothing is due.
    current_balance(db, config, workspace_id=workspace_id, team=member.team, now=now)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        report = quote_in_session(
            session,
            config,
            workspace_id=workspace_id,
            member=member,
            spec=spec,
            balance=ledger_store.as_balance(row),
            now=now,
        )
        if not allow_duplicate and config.approvals.duplicate_window_seconds:
            twin = task_store.recent_same_task(
                session,
                workspace_id=workspace_id,
                team=member.team,
                requester=member.user_id,
                fingerprint=task_fingerprint,
                since=now - timedelta(seconds=config.approvals.duplicate_window_seconds),
            )
            if twin is not None:
                return RunResult("duplicate", report, task=TaskRecord.of(twin))
        limits = report.limits
        task = Task(
            workspace_id=workspace_id,
            team=member.team,
            requester=member.user_id,
            number=task_store.next_task_number(session, workspace_id=workspace_id, team=member.team),
            tool=spec.tool,
            quality=spec.quality,
            variants=spec.variants,
            duration_seconds=spec.duration_seconds,
            retries_planned=spec.retries,
            quoted_cost=report.quote.total,
            status=initial_task_status(limits.needs_approval),
            note=command.note,
            fingerprint=task_fingerprint,
            created_at=now,
        )
        session.add(task)
        session.flush()
        hold_credits(session, config, row, task, report.quote.total, f"hold:task:{task.id}", now)
        approval = None
        if limits.needs_approval:
            approval = _new_approval(
                config,
                task,
                report.quote.total,
                describe_breaches(limits),
                ApprovalKind.TASK,
                now,
                details=itemise(report),
            )
            session.add(approval)
        session.flush()
        return RunResult(
            "approval_needed" if approval else "reserved",
            report,
            task=TaskRecord.of(task),
            approval=ApprovalRecord.of(approval) if approval else None,
            week_spend=limits.weekly_used,
        )


def _own_task(session: Session, *, workspace_id: str, member: Member, number: int, verb: str) -> Task:
    task = task_store.task_by_number(session, workspace_id=workspace_id, team=member.team, number=number)
    if task is None:
        raise UserFacingError(f"Team {member.team} has no task #{number}; `/credits tasks` lists your open tasks.")
    if task.requester != member.user_id and not member.is_bot_admin:
        raise NotYourTaskError(number, task.requester, verb)
    return task


def _spec_of(task: Task, variants: int | None) -> TaskSpec:
    return TaskSpec(task.tool, task.quality, variants or task.variants, task.duration_seconds, None)


def finish_task(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: DoneCommand, now: datetime
) -> FinishResult:
    """Record what a task really cost: capture it and release the rest of the hold.

    Above the hold, the difference is charged at once only within the member's limits; otherwise it is
    held and goes for approval like a new task (denied or expired: that extra hold is released and the
    task stays open, to be reported again or cancelled).
    """
    retries = command.retries if command.retries is not None else 0
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        task = _own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="finish")
        if task.status == TaskStatus.PENDING:
            raise UserFacingError(f"Task #{task.number} is still waiting for approval; finish it once it is approved.")
        if task.status == TaskStatus.OVERRUN:
            raise UserFacingError(f"Task #{task.number}'s extra cost is waiting for approval.")
        if task.status != TaskStatus.HELD:
            raise UserFacingError(f"Task #{task.number} is already {task.status}; nothing to record.")
        spec = _spec_of(task, command.variants)
        cost = command.cost if command.cost is not None else actual_cost(config.pricing, spec, retries)
        generated = spec.variants * (1 + retries)
        if command.kept is not None and command.cost is None and command.kept > generated:
            raise UserFacingError(
                f"`kept={command.kept}` is more than the {generated} version{'' if generated == 1 else 's'} generated; "
                "count the successful versions."
            )
        task.retries_used, task.kept, task.variants = retries, command.kept, spec.variants
        if cost > task.held:
            extra = cost - task.held
            used = member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)
            limits = check_limits(member.role, config.roles[member.role], extra, used)
            if limits.needs_approval:
                approval = _new_approval(
                    config,
                    task,
                    extra,
                    f"cost {cost:,} is {extra:,} over the {task.quoted_cost:,} reserved; {describe_breaches(limits)}",
                    ApprovalKind.OVERRUN,
                    now,
                )
                session.add(approval)
                session.flush()  # its id names the extra hold: a task may overrun more than once
                hold_credits(session, config, row, task, extra, f"hold:approval:{approval.id}", now)
                task.actual_cost = cost
                task.status = next_task_status(task.status, TaskEvent.OVERRUN)
                session.add(task)
                session.flush()
                return FinishResult(
                    "approval_needed",
                    TaskRecord.of(task),
                    0,
                    0,
                    command.retries is None and command.cost is None,
                    ApprovalRecord.of(approval),
                    week_spend=member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now),
                )
        released = capture_task(session, config, row, task, cost=cost, event=TaskEvent.FINISH, now=now)
        session.flush()
        week = member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)
        return FinishResult(
            "captured",
            TaskRecord.of(task),
            cost,
            released,
            command.retries is None and command.cost is None,
            week_spend=week,
        )


def cancel_task(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: CancelCommand, now: datetime
) -> tuple[TaskRecord, int, ApprovalRecord | None]:
    """Release a task's hold; a pending approval request is withdrawn with it."""
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        task = _own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="cancel")
        if not is_open(task.status):
            raise UserFacingError(f"Task #{task.number} is already {task.status}; nothing to cancel.")
        assert task.id is not None
        approval = task_store.pending_approval_for(session, task_id=task.id)
        if task.status == TaskStatus.OVERRUN:
            raise UserFacingError(
                f"Task #{task.number} has run and its extra cost awaits approval; it can't be cancelled now."
            )
        released = release_credits(
            session,
            config,
            row,
            task,
            amount=task.held,
            event=TaskEvent.CANCEL,
            key=f"release:cancel:{task.id}",
            now=now,
        )
        if approval is not None:
            approval.status = next_approval_status(approval.status, TaskEvent.CANCEL)
            approval.decided_by, approval.decided_at = member.user_id, now
            session.add(approval)
        session.flush()
        return TaskRecord.of(task), released, ApprovalRecord.of(approval) if approval else None


def my_open_tasks(db: Database, *, workspace_id: str, user_id: str, teams: list[str]) -> list[TaskRecord]:
    """The member's tasks that still hold credits, in each of ``teams`` (team by team, in that order)."""
    with db.read() as session:
        return [
            TaskRecord.of(t)
            for team in teams
            for t in task_store.open_tasks(session, workspace_id=workspace_id, team=team, requester=user_id)
        ]
