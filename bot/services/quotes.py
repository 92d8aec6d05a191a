"""``/credits quote``: price a task, forecast its retries and compare it with limits and the balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config import CreditsConfig
from bot.domain.calendar import week_start
from bot.domain.commands import TaskRequest
from bot.domain.ledger import Balance
from bot.domain.limits import LimitCheck, check_limits
from bot.domain.pricing import Quote, TaskSpec, price_task, resolve_task
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
    """Price the task in one read transaction; nothing is written (a due renewal is applied in memory)."""
    spec = resolve_spec(config, command)
    with db.read() as session:
        current = peek_balance(session, config, workspace_id=workspace_id, team=member.team, now=now)
        return quote_in_session(
            session, config, workspace_id=workspace_id, member=member, spec=spec, balance=current.balance, now=now
        )
