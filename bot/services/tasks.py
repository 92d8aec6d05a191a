"""``run``, ``done``, ``cancel``, ``tasks``: a task's life from reservation to its real cost.

Every change happens in one write transaction that first locks the team's balance row, so the
limit check, the affordability check, the task row, the ledger entry and the approval request are
consistent with each other even when many members run tasks at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session

from bot.config import CreditsConfig, Pricing, ToolPricing
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError
from bot.domain.ledger import EntryKind, InsufficientCreditsError, OverdrawnError
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
from bot.domain.limits import LimitCheck, LimitKind, check_limits, describe_breach
from bot.domain.pricing import TaskSpec, actual_cost, cost_of_retries
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.audit import record_decision
from bot.services.balances import current_balance, open_team_cycle
from bot.services.charges import close_with_charges
from bot.services.members import Member, bot_admins
from bot.services.quotes import QuoteReport, member_week_usage, quote_in_session, quote_task, resolve_spec
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
    project: str | None = None  # ``run … project=``: shown beside the task's Keter Labs reference


@dataclass(frozen=True)
class OverrunFlag:
    """A charge above the hold that broke a limit or an approved amount: recorded, and told to the team.

    The Slack edge posts it in the team's channel, in the task's approval thread when it had one.
    """

    team: str
    channel: str
    thread_ts: str | None
    member: str
    task_number: int
    quoted: int
    held: int
    cost: int
    broken: tuple[str, ...]  # e.g. "over the per-task limit of 50 by 142", "above the 60 credits approved"


@dataclass(frozen=True)
class Repricing:
    """The task was charged at the rates of its reservation, and today's pricing differs."""

    reserved_on: date
    reserved_rate: float
    today_rate: float | None  # None: the tool or quality is no longer priced
    unit: str
    today_cost: int | None


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


class OverdrawnTeamError(UserFacingError):
    """The team is overdrawn, so nothing new is reserved; ``admins`` (ids) can add credits."""

    def __init__(self, team: str, overdrawn_by: int, admins: list[str]) -> None:
        self.team, self.overdrawn_by, self.admins = team, overdrawn_by, tuple(admins)
        super().__init__(self.explain("an admin"))

    def explain(self, who_can_add: str) -> str:
        """The sentence, with ``who_can_add`` naming those who can add credits."""
        return (
            f"Team {self.team} is overdrawn by {self.overdrawn_by:,} credits. Nothing was reserved; "
            f"no new task can start until credits are added. {who_can_add} can add "
            f"them (`/credits admin topup {self.team} <credits>`)."
        )


class CaptureExistsError(UserFacingError):
    """A charged task: a charge is a fact and is never cancelled; an admin corrects it with adjust."""

    def __init__(self, number: int, cost: int, team: str, by: str | None = None) -> None:
        self.number, self.cost = number, cost
        when = f"by {by}" if by else "when it was reported done"
        super().__init__(
            f"Task #{number} was charged {cost:,} credits {when}; a charge can't be "
            f"cancelled. If that figure is wrong, an admin can correct the balance: "
            f"`/credits admin adjust {team} <+N/-N> <reason>`."
        )


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
    project = f"|project={t.project}" if t.project else ""
    return f"{t.tool}|{t.quality}|{t.variants}|{t.duration_seconds}|{t.retries}|{command.note or ''}{project}"[:300]


def write_task_entry(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    kind: EntryKind,
    delta: rules.Delta,
    key: str,
    now: datetime,
    retry_credits: int | None = None,
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
        project=task.project,
        retry_credits=retry_credits,
    )


def hold_credits(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, amount: int, key: str, now: datetime
) -> None:
    """Reserve ``amount`` more for the task; ShortfallError (nothing written) when the team can't afford it."""
    try:
        delta = rules.place_hold(ledger_store.as_balance(row), amount)
    except OverdrawnError as overdrawn:
        raise OverdrawnTeamError(task.team, overdrawn.overdrawn_by, bot_admins(config)) from None
    except InsufficientCreditsError as short:
        raise ShortfallError(task.team, short, bot_admins(config)) from None
    write_task_entry(session, config, row, task, EntryKind.HOLD, delta, key, now)
    task.held += amount
    session.add(task)


def capture_task(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, *, cost: int, event: TaskEvent, now: datetime
) -> int:
    """Spend the task's real cost against everything it holds and close it; returns the credits given back.

    The one capture: ``done`` (``FINISH``), and a legacy overrun request approved (``APPROVE``). It is
    never refused for want of credits: a charge is a fact, and the team may end overdrawn.
    """
    held = task.held
    delta = rules.capture(ledger_store.as_balance(row), held, cost)
    status = next_task_status(task.status, event)
    spec = TaskSpec(task.tool, task.quality, task.variants, task.duration_seconds)
    retries = cost_of_retries(reserved_pricing(config, task), spec, cost)
    key = f"capture:task:{task.id}"
    write_task_entry(session, config, row, task, EntryKind.CAPTURE, delta, key, now, retry_credits=retries or None)
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
    return "; ".join(describe_breach(b) for b in limits.breaches)


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
    project = command.project or command.request.project  # the client project the task counts against
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
            project=project,
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
            approval = _new_approval(
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


def _own_task(session: Session, *, workspace_id: str, member: Member, number: int, verb: str) -> Task:
    task = task_store.task_by_number(session, workspace_id=workspace_id, team=member.team, number=number)
    if task is None:
        raise UserFacingError(f"Team {member.team} has no task #{number}; `/credits tasks` lists your open tasks.")
    if task.requester != member.user_id and not member.is_bot_admin:
        raise NotYourTaskError(number, task.requester, verb)
    return task


def _spec_of(task: Task, variants: int | None) -> TaskSpec:
    return TaskSpec(task.tool, task.quality, variants or task.variants, task.duration_seconds, None)


def reserved_pricing(config: CreditsConfig, task: Task) -> Pricing:
    """The pricing the task was reserved at (today's, for a task from before rates were stored)."""
    if task.rate is None or task.unit not in ("variant", "second", "minute"):
        return config.pricing
    tool = ToolPricing(
        unit=task.unit,
        rates={task.quality: task.rate},
        minimum=task.minimum or 0,
        default_quality=task.quality,
    )
    retry_cost = config.pricing.retry_cost if task.retry_cost is None else task.retry_cost
    return Pricing(retry_cost=retry_cost, tools={task.tool: tool})


def _repricing(config: CreditsConfig, task: Task, spec: TaskSpec, retries: int, cost: int) -> Repricing | None:
    """How today's pricing differs from the reserved one, if it does (for ``done`` to say so)."""
    if task.rate is None:
        return None
    today_tool = config.pricing.tools.get(task.tool)
    today_rate = today_tool.rates.get(task.quality) if today_tool else None
    today_cost = actual_cost(config.pricing, spec, retries) if today_rate is not None else None
    if today_cost == cost and today_rate == task.rate:
        return None
    reserved_on = local_date(task.created_at, config.teams[task.team].zone)
    return Repricing(reserved_on, task.rate, today_rate, task.unit or "unit", today_cost)


def _overrun_breaches(
    session: Session, config: CreditsConfig, task: Task, *, member: Member, cost: int, held: int, now: datetime
) -> tuple[str, ...]:
    """Which of the requester's limits (or an approved amount) a charge above the hold breaks."""
    assert task.id is not None
    broken: list[str] = []
    role_name = member.role if member.user_id == task.requester else config.teams[task.team].members.get(task.requester)
    if role_name is not None and role_name in config.roles:
        requester = Member(task.requester, task.team, role_name, False)
        used = member_week_usage(session, config, workspace_id=task.workspace_id, member=requester, now=now)
        role = config.roles[role_name]
        per_task = check_limits(role_name, role, cost, 0).breaches
        weekly = check_limits(role_name, role, cost - held, used).breaches
        broken += [describe_breach(b) for b in per_task if b.kind is LimitKind.TASK]
        broken += [describe_breach(b) for b in weekly if b.kind is LimitKind.WEEKLY]
    request = task_store.task_request(session, task_id=task.id)
    if request is not None and request.status == ApprovalStatus.APPROVED and cost > request.amount:
        broken.append(f"{cost - request.amount:,} above the {request.amount:,} credits approved")
    return tuple(broken)


def _finishable(session: Session, *, workspace_id: str, member: Member, command: DoneCommand) -> Task:
    """The task ``done`` may record, or the UserFacingError saying why not (the one list of refusals)."""
    task = _own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="finish")
    if task.status == TaskStatus.PENDING:
        raise UserFacingError(f"Task #{task.number} is still waiting for approval; finish it once it is approved.")
    if task.status == TaskStatus.OVERRUN:
        raise UserFacingError(f"Task #{task.number}'s extra cost is waiting for approval.")
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
        repricing = _repricing(config, task, spec, retries, cost) if command.cost is None else None
        task.retries_used, task.kept, task.variants = retries, command.kept, spec.variants
        held = task.held
        broken = (
            _overrun_breaches(session, config, task, member=member, cost=cost, held=held, now=now)
            if cost > held
            else ()
        )
        released = capture_task(session, config, row, task, cost=cost, event=TaskEvent.FINISH, now=now)
        session.flush()
        flag = None
        if broken:
            assert task.id is not None and task.number is not None
            request = task_store.task_request(session, task_id=task.id)
            thread = request.message_ts if request is not None and request.channel_id else None
            flag = OverrunFlag(
                task.team,
                config.teams[task.team].channel,
                thread,
                task.requester,
                task.number,
                task.quoted_cost,
                held,
                cost,
                broken,
            )
            record_decision(
                session,
                workspace_id=workspace_id,
                team=task.team,
                action="overrun_flagged",
                target=f"task #{task.number}",
                now=now,
                member=task.requester,
                quoted=task.quoted_cost,
                held=held,
                cost=cost,
                broken=list(broken),
            )
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
            overdrawn_by=ledger_store.as_balance(row).overdrawn_by,
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
    released = close_with_charges(session, config, row, task, kept=command.kept, now=now)
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
        overdrawn_by=ledger_store.as_balance(row).overdrawn_by,
    )


def cancel_task(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, command: CancelCommand, now: datetime
) -> tuple[TaskRecord, int, ApprovalRecord | None]:
    """Release a task's hold; a pending approval request is withdrawn with it."""
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        task = _own_task(session, workspace_id=workspace_id, member=member, number=command.number, verb="cancel")
        if task.actual_cost is not None and task.status == TaskStatus.DONE:
            raise CaptureExistsError(task.number or command.number, task.actual_cost, task.team)
        if task.charge_count:
            raise CaptureExistsError(task.number or command.number, task.charged, task.team, by="Keter Labs")
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
