"""``/credits quote``: price a task, forecast its retries and compare it with limits and the balance."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config import CreditsConfig
from bot.domain.calendar import week_start
from bot.domain.commands import MAX_VARIANTS, TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.estimates import KeepHistory, KeepPlan, LikelyRange, likely_range, one_in, plan_keepers
from bot.domain.ledger import Balance
from bot.domain.limits import LimitCheck, check_limits
from bot.domain.pricing import Quote, TaskSpec, expected_retries, price_task, resolve_task
from bot.services.balances import peek_balance
from bot.services.members import Member
from bot.store import ledger as ledger_store
from bot.store import tasks as task_store
from bot.store.db import Database


@dataclass(frozen=True)
class QuoteReport:
    """A priced task in the context of the team's balance and the member's limits."""

    member: Member
    quote: Quote
    balance: Balance
    limits: LimitCheck
    likely: LikelyRange | None = None  # what it will likely cost (``/credits quote`` only)
    keep_plan: KeepPlan | None = None  # the variants planned for ``keep=`` keepers

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
    return ledger_store.member_usage_since(
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


def member_limits(
    db: Database, config: CreditsConfig, *, workspace_id: str, member: Member, now: datetime
) -> LimitCheck:
    """The member's role, limits and what they used this week (``/credits limits``)."""
    used = week_usage(db, config, workspace_id=workspace_id, member=member, now=now)
    return check_limits(member.role, config.roles[member.role], 0, used)


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


def quote_in_session(
    session: Session,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    spec: TaskSpec,
    balance: Balance,
    now: datetime,
) -> QuoteReport:
    """Price ``spec`` from the team's retry history and check it against the member's limits.

    ``/credits run`` calls it inside its write transaction, so the figures it checks are the ones it writes.
    """
    history = task_store.retry_history(
        session,
        workspace_id=workspace_id,
        team=member.team,
        tool=spec.tool,
        since=now - timedelta(days=config.pricing.history_days),
    )
    used = member_week_usage(session, config, workspace_id=workspace_id, member=member, now=now)
    quote = price_task(config.pricing, spec, history)
    limits = check_limits(member.role, config.roles[member.role], quote.total, used)
    return QuoteReport(member=member, quote=quote, balance=balance, limits=limits)


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
        plan = None
        if command.keep is not None:
            kept = task_store.keep_history(session, workspace_id=workspace_id, team=team, tool=tool, since=since)
            plan = keep_plan(config, spec, command.keep, kept)
            spec = replace(spec, variants=plan.variants)
        report = quote_in_session(
            session, config, workspace_id=workspace_id, member=member, spec=spec, balance=current.balance, now=now
        )
        shapes = task_store.finished_shapes(session, workspace_id=workspace_id, team=team, tool=tool, since=since)
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
