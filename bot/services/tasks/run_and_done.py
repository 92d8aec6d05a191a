"""``run``, ``done``, ``tasks``: a task's life from reservation to its real cost (``cancel``: ``tasks.cancel``).

Every change happens in one write transaction that first locks the team's balance row, so the
limit check, the affordability check, the task row, the ledger entry and the approval request are
consistent with each other even when many members run tasks at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.errors import UserFacingError
from bot.domain.ledger import InsufficientCreditsError, OverdrawnError
from bot.domain.lifecycle import ApprovalKind, TaskEvent, TaskStatus, initial_task_status
from bot.domain.pricing import TaskSpec, actual_cost
from bot.domain.task_commands import DoneCommand, RunCommand
from bot.services.balances.team_balances import current_balance, open_team_cycle
from bot.services.quoting.quotes import QuoteReport, member_week_usage, quote_in_session, quote_task, resolve_spec
from bot.services.tasks.approval_requests import itemise, new_approval
from bot.services.tasks.holds import (
    OverdrawnTeamError,
    ShortfallError,
    capture_task,
    hold_credits,
    reserved_pricing,
)
from bot.services.tasks.overruns import OverrunFlag, Repricing, flag_overrun, repricing_of
from bot.services.tasks.settling import close_with_charges
from bot.services.workspace.members import Member, bot_admins
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import ledger_reads
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.ledger import TeamBalance
from bot.store.tables.tasks import Task


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did: reserved the credits, asked for approval, or stopped at a likely duplicate."""

    kind: Literal["reserved", "approval_needed", "duplicate"]
    report: QuoteReport
    task: TaskRecord | None = None
    approval: ApprovalRecord | None = None
    week_spend: int = 0
    project: str | None = None  # ``run … project=``: shown beside the task's Keter Labs reference


@dataclass(frozen=True)
class FinishResult:
    """What ``done`` did: it always charges the real cost; above the hold it may also raise a flag."""

    kind: Literal["captured"]
    task: TaskRecord
    charged: int
    released: int
    retries_assumed: bool
    week_spend: int = 0  # the requester's use this week after this charge
    flag: OverrunFlag | None = None
    repricing: Repricing | None = None
    overdrawn_by: int = 0  # the team's deficit after this charge (0: not overdrawn)
    reported_late: bool = False  # its hold had been released unreported; the cost is charged all the same


class NotYourTaskError(UserFacingError):
    """Someone else's task: ``owner`` is their user id, for the Slack edge to mention."""

    def __init__(self, number: int, owner: str, verb: str) -> None:
        self.number, self.owner, self.verb = number, owner, verb
        super().__init__(self.explain("another member"))

    def explain(self, owner: str) -> str:
        """The sentence, with ``owner`` naming the task's requester."""
        return f"Task #{self.number} is {owner}'s; only they or an admin can {self.verb} it."


class AlreadyStartedError(UserFacingError):
    """ "Start a second task" clicked again: the second task exists already (``task``)."""

    def __init__(self, task: TaskRecord) -> None:
        self.task = task
        super().__init__(f"You already started that second task: it is task #{task.number}.")


def fingerprint(command: RunCommand) -> str:
    """What makes two runs "the same task" for the duplicate check."""
    t = command.request
    project = f"|project={t.project}" if t.project else ""
    return f"{t.tool}|{t.quality}|{t.variants}|{t.duration_seconds}|{t.retries}|{command.note or ''}{project}"[:300]


def start_task(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    command: RunCommand,
    now: datetime,
    allow_duplicate: bool = False,
    again_of: int | None = None,
) -> RunResult:
    """Price the task and reserve its credits; over a limit, reserve them anyway and ask for approval.

    Pricing, the limit check, the duplicate check and the hold all happen once, in one write transaction
    under the team's lock, so what the member is told is exactly what was checked and written.
    ``again_of`` (the task a "Start a second task" button was shown for) makes that click idempotent:
    when the member already has the same task created after it, AlreadyStartedError and nothing written.
    Checked under the lock in the task table itself, so it holds across processes and for as long as
    the button lives (a delivery record would be pruned after ten minutes).
    """
    spec = resolve_spec(config, command.request)  # an unknown tool or option fails before any write
    task_fingerprint = fingerprint(command)
    project = command.project  # the client project the task counts against
    # A due renewal (or a new team's opening grant) is committed on its own, as for a quote, so it stays
    # even when this run is refused; it reads one row when nothing is due.
    current_balance(db, config, workspace_id=workspace_id, team=member.team, now=now)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        if again_of is not None:
            second = task_store.same_task_started_after(
                session,
                workspace_id=workspace_id,
                team=member.team,
                requester=member.user_id,
                fingerprint=task_fingerprint,
                after_id=again_of,
            )
            if second is not None:
                raise AlreadyStartedError(TaskRecord.of(second))
        report = quote_in_session(
            session,
            config,
            workspace_id=workspace_id,
            member=member,
            spec=spec,
            balance=ledger_reads.as_balance(row),
            now=now,
            project=project,
            new_project=command.request.new_project,
        )
        if not allow_duplicate and again_of is None and config.approvals.duplicate_window_seconds:
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
            status=initial_task_status(report.needs_approval),
            note=command.note,
            fingerprint=task_fingerprint,
            rate=report.quote.rate,
            unit=report.quote.unit,
            minimum=config.pricing.tools[spec.tool].minimum,
            retry_cost=config.pricing.retry_cost,
            project=project,
            created_at=now,
        )
        session.add(task)
        session.flush()
        hold_credits(session, config, row, task, report.quote.total, f"hold:task:{task.id}", now)
        approval = None
        if report.needs_approval:
            approval = new_approval(
                config,
                task,
                report.quote.total,
                "; ".join(report.approval_reasons()),
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
            project=command.project,
        )


def check_run(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: RunCommand, now: datetime
) -> QuoteReport:
    """What ``start_task`` would check, read-only: ShortfallError or OverdrawnTeamError when it would refuse.

    For a form that must answer before it writes (its ack): over a limit is not a refusal (the run asks
    for approval); a team that cannot afford it is. ``start_task`` checks again under the team's lock.
    """
    report = quote_task(db, config, workspace_id=workspace_id, member=member, command=command.request, now=now)
    try:
        rules.place_hold(report.balance, report.quote.total)
    except OverdrawnError as overdrawn:
        raise OverdrawnTeamError(member.team, overdrawn.overdrawn_by, bot_admins(config)) from None
    except InsufficientCreditsError as short:
        raise ShortfallError(member.team, short, bot_admins(config)) from None
    return report


def own_task(session: Session, *, workspace_id: str, member: Member, number: int, verb: str) -> Task:
    """The team's task #number if the member may ``verb`` it (theirs, or they are an admin)."""
    task = task_store.task_by_number(session, workspace_id=workspace_id, team=member.team, number=number)
    if task is None:
        raise UserFacingError(f"Team {member.team} has no task #{number}; `/credits tasks` lists your open tasks.")
    if task.requester != member.user_id and not member.is_bot_admin:
        raise NotYourTaskError(number, task.requester, verb)
    return task


def _spec_of(task: Task, variants: int | None) -> TaskSpec:
    return TaskSpec(task.tool, task.quality, variants or task.variants, task.duration_seconds, None)


def _finishable(session: Session, *, workspace_id: str, member: Member, command: DoneCommand) -> Task:
    """The task ``done`` may record, or the UserFacingError saying why not (the one list of refusals)."""
    task = own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="finish")
    if task.status == TaskStatus.PENDING:
        raise UserFacingError(f"Task #{task.number} is still waiting for approval; finish it once it is approved.")
    if task.status not in (TaskStatus.HELD, TaskStatus.RELEASED):  # released unreported: still a fact
        raise UserFacingError(f"Task #{task.number} is already {task.status}; nothing to record.")
    if task.charge_count:
        if command.cost is not None or command.retries is not None or command.variants is not None:
            raise UserFacingError(
                f"Keter Labs already charged task #{task.number} {task.charged:,} credits; its charges are its "
                f"cost. `/credits done {task.number} kept=<n>` closes it with the versions you kept."
            )
        return task
    generated = (command.variants or task.variants) * (1 + (command.retries or 0))
    if command.kept is not None and command.cost is None and command.kept > generated:
        raise UserFacingError(
            f"`kept={command.kept}` is more than the {generated} version{'' if generated == 1 else 's'} generated; "
            "count the successful versions."
        )
    return task


def check_finish(db: Database, *, workspace_id: str, member: Member, command: DoneCommand) -> TaskRecord:
    """What ``finish_task`` would refuse, read-only (a form checks it before its ack); the task otherwise."""
    with db.read() as session:
        return TaskRecord.of(_finishable(session, workspace_id=workspace_id, member=member, command=command))


def finish_task(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: DoneCommand, now: datetime
) -> FinishResult:
    """Record what a task really cost: a fact, charged in full at the rates of its reservation.

    Within the hold: capture it and release the rest. Above the hold: capture it all the same (the team
    may end overdrawn); if that breaks the requester's per-task or weekly limit, or the amount an
    approver approved, the result carries a flag for the team's channel. Nothing waits for approval.
    """
    retries = command.retries if command.retries is not None else 0
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        task = _finishable(session, workspace_id=workspace_id, member=member, command=command)
        reported_late = task.status == TaskStatus.RELEASED
        if task.charge_count:
            return _finish_with_charges(session, config, row, task, member=member, command=command, now=now)
        spec = _spec_of(task, command.variants)
        cost = command.cost if command.cost is not None else actual_cost(reserved_pricing(config, task), spec, retries)
        repricing = repricing_of(config, task, spec, retries, cost) if command.cost is None else None
        task.retries_used, task.kept, task.variants = retries, command.kept, spec.variants
        held = task.held
        flag = flag_overrun(session, config, task, member=member, cost=cost, held=held, now=now)
        released = capture_task(session, config, row, task, cost=cost, event=TaskEvent.FINISH, now=now)
        session.flush()
        requester = Member(task.requester, task.team, member.role, False)
        week = member_week_usage(session, config, workspace_id=workspace_id, member=requester, now=now)
        return FinishResult(
            "captured",
            TaskRecord.of(task),
            cost,
            released,
            command.retries is None and command.cost is None,
            week_spend=week,
            flag=flag,
            repricing=repricing,
            overdrawn_by=ledger_reads.as_balance(row).overdrawn_by,
            reported_late=reported_late,
        )


def _finish_with_charges(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    *,
    member: Member,
    command: DoneCommand,
    now: datetime,
) -> FinishResult:
    """``done`` on a task Keter Labs already charged: its charges are its cost; ``done`` records kept versions."""
    released, flag = close_with_charges(session, config, row, task, kept=command.kept, now=now, member=member)
    session.flush()
    requester = Member(task.requester, task.team, member.role, False)
    week = member_week_usage(session, config, workspace_id=task.workspace_id, member=requester, now=now)
    return FinishResult(
        "captured",
        TaskRecord.of(task),
        task.charged,
        released,
        False,
        week_spend=week,
        flag=flag,
        overdrawn_by=ledger_reads.as_balance(row).overdrawn_by,
    )


def my_open_tasks(db: Database, *, workspace_id: str, user_id: str, teams: list[str]) -> list[TaskRecord]:
    """The member's tasks that still hold credits, in each of ``teams`` (team by team, in that order)."""
    with db.read() as session:
        return [
            TaskRecord.of(t)
            for team in teams
            for t in task_store.open_tasks(session, workspace_id=workspace_id, team=team, requester=user_id)
        ]
