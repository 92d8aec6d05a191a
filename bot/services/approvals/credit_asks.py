"""Asking for more: a limit raise or extra credits, requested by a member and decided by an admin.

The request is an approval row (kind ``limit_raise`` or ``extra_credits``, no task) beside a
``credit_ask`` row saying what is asked. ``services.approvals.decisions.decide`` settles it like any request
(admins only). An approved raise is read by the limit check until its last day; approved extra credits
are bought in Keter Labs' billing, and ``record_bought`` then adds them as a top-up, once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError
from bot.domain.ledger import Balance, EntryKind
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.domain.limits import LimitKind, describe_breach
from bot.domain.task_commands import RunCommand
from bot.services.approvals.decisions import StaleRequestError, check_eligible, workspace_approval
from bot.services.balances.team_balances import current_balance, open_team_cycle
from bot.services.quoting.quotes import QuoteReport, quote_in_session, resolve_spec
from bot.services.tasks.approval_requests import pending_approval
from bot.services.workspace.audit_trail import record_decision
from bot.services.workspace.members import Member
from bot.services.workspace.records import ApprovalRecord
from bot.store import ledger_reads, ledger_writes
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.tasks import Approval, CreditAsk


@dataclass(frozen=True)
class AskRecord:
    """What a request for more asks, and what came of it."""

    approval_id: int
    team: str
    member: str
    task_limit: int | None
    weekly_limit: int | None
    credits: int
    run_command: str
    until: date | None
    bought_credits: int | None
    bought_by: str | None
    bought_at: datetime | None

    @classmethod
    def of(cls, ask: CreditAsk) -> AskRecord:
        return cls(
            ask.approval_id,
            ask.team,
            ask.member,
            ask.task_limit,
            ask.weekly_limit,
            ask.credits,
            ask.run_command,
            ask.until,
            ask.bought_credits,
            ask.bought_by,
            ask.bought_at,
        )


@dataclass(frozen=True)
class Asked:
    """A request for more, just made: post it in the team's channel."""

    approval: ApprovalRecord
    ask: AskRecord
    week_used: int


@dataclass(frozen=True)
class Bought:
    """Extra credits recorded after an approved request: ``added`` False when an earlier click did it."""

    approval: ApprovalRecord
    ask: AskRecord
    added: bool
    balance: Balance


def _limit_raise(report: QuoteReport) -> tuple[int | None, int | None, str]:
    """The limits that would let the task through, and the breaches in words."""
    task_limit = weekly_limit = None
    phrases = []
    for breach in report.limits.breaches:
        if breach.kind is LimitKind.TASK:
            task_limit = report.quote.total
            phrases.append(f"per-task limit {breach.limit:,} → {task_limit:,}")
        else:
            weekly_limit = report.limits.weekly_used + report.quote.total
            phrases.append(f"weekly limit {breach.limit:,} → {weekly_limit:,}")
    return task_limit, weekly_limit, "; ".join(phrases)


def ask_for_more(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    member: Member,
    kind: ApprovalKind,
    command: RunCommand,
    run_command: str,
    now: datetime,
) -> Asked:
    """Price the task again now and ask for what it still lacks: a higher limit, or the credits the team is short.

    Nothing is held. A second click while the member's request of that kind is pending is told so.
    """
    spec = resolve_spec(config, command.request)
    current_balance(db, config, workspace_id=workspace_id, team=member.team, now=now)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=member.team, now=now)
        waiting = task_store.pending_ask(
            session, workspace_id=workspace_id, team=member.team, member=member.user_id, kind=kind
        )
        if waiting is not None:
            raise UserFacingError(
                f"You already asked for {'a limit raise' if kind is ApprovalKind.LIMIT_RAISE else 'extra credits'}"
                " and an admin has not decided yet; the request is in the team's channel."
            )
        balance = ledger_reads.as_balance(row)
        report = quote_in_session(
            session,
            config,
            workspace_id=workspace_id,
            member=member,
            spec=spec,
            balance=balance,
            now=now,
            project=command.request.project,
            new_project=command.request.new_project,
        )
        task_limit = weekly_limit = None
        credits = 0
        if kind is ApprovalKind.LIMIT_RAISE:
            if not report.limits.breaches:
                raise UserFacingError(f"Your limits already allow it now: `{run_command}`.")
            task_limit, weekly_limit, details = _limit_raise(report)
            amount = report.quote.total
            reasons = "; ".join(describe_breach(b) for b in report.limits.breaches)
        else:
            credits = report.quote.total - balance.available
            if credits <= 0:
                raise UserFacingError(f"Team {member.team} can afford it now: `{run_command}`.")
            amount = credits
            overdrawn = f" (overdrawn by {balance.overdrawn_by:,})" if balance.overdrawn_by else ""
            reasons = f"the team has {balance.available:,} available{overdrawn}; the task needs {report.quote.total:,}"
            details = f"{credits:,} extra credits, bought in Keter Labs' billing"
        approval = pending_approval(
            config,
            workspace_id=workspace_id,
            team=member.team,
            requester=member.user_id,
            task_id=None,
            kind=kind,
            amount=amount,
            reasons=reasons,
            details=details,
            now=now,
        )
        session.add(approval)
        session.flush()
        assert approval.id is not None
        ask = CreditAsk(
            approval_id=approval.id,
            workspace_id=workspace_id,
            team=member.team,
            member=member.user_id,
            task_limit=task_limit,
            weekly_limit=weekly_limit,
            credits=credits,
            run_command=run_command[:400],
        )
        session.add(ask)
        session.flush()
        return Asked(ApprovalRecord.of(approval), AskRecord.of(ask), report.limits.weekly_used)


def ask_of(db: Database, approval_id: int) -> AskRecord | None:
    """What a request for more asks (None: the approval is not one)."""
    with db.read() as session:
        ask = session.get(CreditAsk, approval_id)
        return AskRecord.of(ask) if ask is not None else None


def record_bought(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    approval_id: int,
    admin: str,
    is_workspace_admin: bool,
    now: datetime,
) -> Bought:
    """Add the extra credits an approved request asked for, once they are bought (admins only).

    The top-up's idempotency key names the request, so a double click or a second admin adds nothing more.
    """
    with db.read() as session:
        team = workspace_approval(session, workspace_id=workspace_id, approval_id=approval_id).team
    if team not in config.teams:
        raise StaleRequestError
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
        approval = session.get(Approval, approval_id)
        ask = session.get(CreditAsk, approval_id)
        assert approval is not None
        if ask is None or approval.kind != ApprovalKind.EXTRA_CREDITS:
            raise UserFacingError("That request is not for extra credits.")
        check_eligible(config, approval, user_id=admin, is_workspace_admin=is_workspace_admin)
        if approval.status != ApprovalStatus.APPROVED:
            raise UserFacingError(f"That request is {approval.status}, not approved; nothing was added.")
        added = ledger_writes.append_entry(
            session,
            row=row,
            kind=EntryKind.EXTRA,
            delta=rules.add_extra(ask.credits),
            idempotency_key=f"bought:approval:{approval_id}",
            now=now,
            local_day=local_date(now, config.teams[team].zone),
            member=admin,
            note=f"bought after request {approval_id} of {approval.requester}",
        )
        if added:
            ask.bought_credits, ask.bought_by, ask.bought_at = ask.credits, admin, now
            session.add(ask)
            approval.announced = False  # the message is redrawn to show the purchase
            session.add(approval)
            record_decision(
                session,
                workspace_id=workspace_id,
                team=team,
                action="bought",
                actor=admin,
                target=f"extra credits request #{approval_id}",
                requester=approval.requester,
                now=now,
                credits=ask.credits,
                request=approval_id,
            )
        session.flush()
        return Bought(ApprovalRecord.of(approval), AskRecord.of(ask), bool(added), ledger_reads.as_balance(row))
