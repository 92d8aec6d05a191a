"""``/credits quote``: price a task, forecast its retries and compare it with limits and the balance."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.credits_file import ADMIN_ROLE, CreditsConfig, Role
from bot.domain.budgets import ProjectUse, close_project, describe_project_breach
from bot.domain.calendar import local_date, week_start
from bot.domain.commands import MAX_VARIANTS, TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.estimates import KeepHistory, KeepPlan, LikelyRange, likely_range, one_in, plan_keepers
from bot.domain.ledger import Balance
from bot.domain.limits import LimitCheck, check_limits, describe_breach
from bot.domain.pricing import Quote, TaskSpec, expected_retries, price_task, resolve_task
from bot.services.balances.project_budgets import project_use
from bot.services.balances.team_balances import peek_balance
from bot.services.workspace.members import Member
from bot.store import budgets as budget_store
from bot.store import ledger_reads, rollups
from bot.store.db import Database
from bot.store.rollups import ToolHistory


@dataclass(frozen=True)
class QuoteReport:
    """A priced task in the context of the team's balance and the member's limits."""

    member: Member
    quote: Quote
    balance: Balance
    limits: LimitCheck
    likely: LikelyRange | None = None  # what it will likely cost (``/credits quote`` only)
    keep_plan: KeepPlan | None = None  # the variants planned for ``keep=`` keepers
    project: ProjectUse | None = None  # the client project it counts against (``project=``)
    raised_until: date | None = None  # the member's limits are raised by an approved request until this day

    @property
    def project_over_by(self) -> int:
        """How far this task would take its project over the project's budget (0: within it, or none)."""
        return self.project.over_by(self.quote.total) if self.project is not None else 0

    @property
    def needs_approval(self) -> bool:
        """Over one of the member's limits, or over its project's budget (an admin approves their own)."""
        return self.limits.needs_approval or (self.project_over_by > 0 and self.limits.role != ADMIN_ROLE)

    @property
    def project_after(self) -> int | None:
        """What the project's budget has left once this task is reserved (None: no budget)."""
        left = self.project.left if self.project is not None else None
        return None if left is None else left - self.quote.total

    def approval_reasons(self) -> list[str]:
        """Why it needs approval, one phrase per limit or budget it goes over."""
        reasons = [describe_breach(b) for b in self.limits.breaches]
        if self.project is not None and self.project.budget is not None and self.project_over_by:
            reasons.append(describe_project_breach(self.project.project, self.project.budget, self.project_over_by))
        return reasons

    @property
    def available_after(self) -> int:
        """The team's available credits once this task's cost is reserved."""
        return self.balance.available - self.quote.total

    @property
    def affordable(self) -> bool:
        """Whether the team has the credits at all (approval cannot fix a shortfall)."""
        return self.quote.total <= self.balance.available


def member_week_usage(
    session: Session, config: CreditsConfig, *, workspace_id: str, member: Member, now: datetime
) -> int:
    """What the member reserved or spent since Monday 00:00 in the team's timezone."""
    return ledger_reads.member_usage_since(
        session,
        workspace_id=workspace_id,
        team=member.team,
        member=member.user_id,
        since=week_start(now, config.teams[member.team].zone),
    )


def week_usage(db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, now: datetime) -> int:
    """``member_week_usage`` in its own read, for callers that hold no session."""
    with db.read() as session:
        return member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)


def member_role(
    session: Session, config: CreditsConfig, *, workspace_id: str, member: Member, now: datetime
) -> tuple[Role, date | None]:
    """The member's role with any approved limit raise applied, and the last day the raise lasts.

    Raises from several approved requests combine: the highest of each limit wins.
    """
    role = config.roles[member.role]
    today = local_date(now, config.teams[member.team].zone)
    raises = budget_store.approved_raises(
        session, workspace_id=workspace_id, team=member.team, member=member.user_id, today=today
    )
    if not raises:
        return role, None

    def higher(current: int | None, asked: int | None) -> int | None:
        """None is no limit, so it stays; an asked limit only ever raises the current one."""
        return None if current is None else max(current, asked or 0)

    task_limit, weekly_limit = role.task_limit, role.weekly_limit
    for ask in raises:
        task_limit = higher(task_limit, ask.task_limit)
        weekly_limit = higher(weekly_limit, ask.weekly_limit)
    until = min(ask.until for ask in raises if ask.until is not None)
    return role.model_copy(update={"task_limit": task_limit, "weekly_limit": weekly_limit}), until


def member_limits(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, now: datetime
) -> tuple[LimitCheck, date | None]:
    """The member's role, limits (raised, until when) and what they used this week (``/credits limits``)."""
    with db.read() as session:
        used = member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)
        role, until = member_role(session, config, workspace_id=workspace_id, member=member, now=now)
    return check_limits(member.role, role, 0, used), until


def resolve_spec(config: CreditsConfig, command: TaskRequest) -> TaskSpec:
    """The task the command describes, with defaults filled in; a user error names an unknown option."""
    return resolve_task(
        config.pricing,
        command.tool,
        command.quality,
        command.variants,
        command.duration_seconds,
        command.retries,
    )


class ProjectTypoError(UserFacingError):
    """A new project whose name is close to one the team already has: most likely a typo of it."""

    def __init__(self, project: str, known: str) -> None:
        super().__init__(
            f"No project {project} in your team yet. Did you mean {known}? "
            f"If it is a new project, write `project=new:{project}`."
        )
        self.project = project
        self.known = known


def refuse_likely_typo(session: Session, *, workspace_id: str, team: str, project: str) -> None:
    """Refuse a new project named like a known one of the team (``acne`` for ``acme``), before anything is held."""
    known = budget_store.team_project_names(session, workspace_id=workspace_id, team=team)
    close = close_project(project, known)
    if close is not None:
        raise ProjectTypoError(project, close)


def quote_in_session(
    session: Session,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    spec: TaskSpec,
    balance: Balance,
    now: datetime,
    project: str | None = None,
    new_project: bool = False,
    tool_history: ToolHistory | None = None,
) -> QuoteReport:
    """Price ``spec`` from the team's retry history; check it against the member's limits and its project.

    ``/credits run`` calls it inside its write transaction, so the figures it checks are the ones it writes.
    ``tool_history`` is the tool's history when the caller already read it (``quote_task``).
    """
    if tool_history is None:
        since = now - timedelta(days=config.pricing.history_days)
        tool_history = rollups.tool_history(
            session, workspace_id=workspace_id, team=member.team, tool=spec.tool, since=since
        )
    history = tool_history.retries
    used = member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)
    quote = price_task(config.pricing, spec, history)
    role, raised_until = member_role(session, config, workspace_id=workspace_id, member=member, now=now)
    limits = check_limits(member.role, role, quote.total, used)
    use = None
    if project is not None:
        if not new_project:
            refuse_likely_typo(session, workspace_id=workspace_id, team=member.team, project=project)
        use = project_use(session, config, workspace_id=workspace_id, team=member.team, project=project, now=now)
    return QuoteReport(
        member=member, quote=quote, balance=balance, limits=limits, project=use, raised_until=raised_until
    )


def quote_task(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    command: TaskRequest,
    now: datetime,
) -> QuoteReport:
    """Price the task, its likely range and (``keep=``) the variants to plan, in one read transaction.

    Nothing is written: a renewal that is due is applied in memory (the next write records it).
    """
    spec = resolve_spec(config, command)
    since = now - timedelta(days=config.pricing.history_days)
    team, tool = member.team, spec.tool
    with db.read() as session:
        current = peek_balance(session, config, workspace_id=workspace_id, team=team, now=now)
        history = rollups.tool_history(session, workspace_id=workspace_id, team=team, tool=tool, since=since)
        plan = None
        if command.keep is not None:
            plan = keep_plan(config, spec, command.keep, history.keep)
            spec = replace(spec, variants=plan.variants)
        report = quote_in_session(
            session,
            config,
            workspace_id=workspace_id,
            member=member,
            spec=spec,
            balance=current.balance,
            now=now,
            project=command.project,
            new_project=command.new_project,
            tool_history=history,
        )
    shapes = history.shapes
    habit, _ = expected_retries(config.pricing, replace(spec, retries=None), report.quote.history)
    likely = likely_range(config.pricing, spec, shapes, habit)
    return replace(report, likely=likely, keep_plan=plan)


def keep_plan(config: CreditsConfig, spec: TaskSpec, keep: int, by_quality: dict[str, KeepHistory]) -> KeepPlan:
    """The variants for ``keep`` keepers at the team's keep rate; a plan too big for one task is refused."""
    tool_total = KeepHistory(
        sum(h.tasks for h in by_quality.values()),
        sum(h.generated for h in by_quality.values()),
        sum(h.kept for h in by_quality.values()),
    )
    plan = plan_keepers(keep, by_quality.get(spec.quality, KeepHistory()), tool_total, config.pricing.history_min_tasks)
    if plan.variants > MAX_VARIANTS and plan.rate is not None:
        raise UserFacingError(
            f"Your team keeps {one_in(plan.rate)} {spec.tool} versions, so {keep} keepers need {plan.variants} "
            f"variants, more than the {MAX_VARIANTS} one task allows. Ask for fewer keepers, e.g. "
            f"`keep={max(1, math.floor(keep * MAX_VARIANTS / plan.variants))}`, and run it twice."
        )
    return plan
