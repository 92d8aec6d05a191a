"""Settling a task by its charges: close a held one at their sum, and correct a reported cost they differ from.

``done`` on a charged task and the quiet-charges sweep (``feed.settle_after_minutes``) both close it here,
and an overrun is flagged here (``flag_overrun``, as ``done`` does without charges); a cost its member
reported keeps its capture, and a difference is one adjustment entry the member is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.ledger import EntryKind
from bot.domain.lifecycle import TaskEvent, TaskStatus
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import release_credits
from bot.services.tasks.overruns import OverrunFlag, flag_overrun
from bot.services.workspace.audit_trail import record_decision
from bot.services.workspace.members import Member
from bot.store import keter_charges as charge_store
from bot.store import ledger_reads, ledger_writes
from bot.store.db import Database
from bot.store.tables.ledger import TeamBalance
from bot.store.tables.tasks import Task


@dataclass(frozen=True)
class ChargeDifference:
    """Settled charges differ from what the member reported: an adjustment was written; tell them."""

    team: str
    member: str
    task_number: int
    charged: int
    reported: int


def close_with_charges(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    *,
    kept: int | None,
    now: datetime,
    member: Member | None = None,
) -> tuple[int, OverrunFlag | None]:
    """Close a task whose cost is its charges (held, or released unreported): release the rest of its hold;
    returns what was released, and the overrun's flag when the charges went above what was reserved for it
    (its quote) and broke a limit in force or the amount approved.

    ``kept`` is what its member said (``done kept=``); else the charges' ``version_kept`` add up.
    ``member`` is who says ``done`` (None: the sweep; the requester's role comes from the credits file).
    """
    assert task.id is not None
    if member is None:
        member = Member(task.requester, task.team, config.teams[task.team].members.get(task.requester, ""), False)
    released = task.held
    key = f"release:charges:{task.id}"
    release_credits(session, config, row, task, amount=released, event=TaskEvent.FINISH, key=key, now=now)
    retries, versions = charge_store.task_charge_summary(session, workspace_id=task.workspace_id, task_id=task.id)
    task.actual_cost, task.finished_at = task.charged, now
    task.retries_used = retries
    task.kept = kept if kept is not None else versions
    session.add(task)
    session.flush()
    # The charges are already in the requester's week (recorded as they came), so nothing comes on top.
    flag = flag_overrun(
        session, config, task, member=member, cost=task.charged, held=task.quoted_cost, now=now, counted=True
    )
    return released, flag


@dataclass
class SettleReport:
    """What settling did: the corrected costs to tell their members, and whose tasks closed, by team."""

    differences: list[ChargeDifference] = field(default_factory=list)
    flags: list[OverrunFlag] = field(default_factory=list)  # settled above what was reserved: the team is told
    changed: dict[str, set[str]] = field(default_factory=dict)  # team -> requesters of the settled tasks


def settle_quiet(db: Database, config: CreditsConfig, *, workspace_id: str, now: datetime) -> SettleReport:
    """Settle tasks whose charges went quiet for ``feed.settle_after_minutes``.

    A held task is closed at the sum of its charges. A task its member reported whose charges add up to
    another figure gets an adjustment entry for the difference (idempotency key: the task and the figure).
    """
    cutoff = now - timedelta(minutes=config.feed.settle_after_minutes)
    with db.read() as session:
        due = charge_store.quiet_tasks(session, workspace_id=workspace_id, cutoff=cutoff)
    report = SettleReport()
    told = report.differences
    for task_id, team in due:
        if team not in config.teams:
            continue
        with db.write() as session:
            row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
            task = session.get(Task, task_id)
            if task is None or task.last_charge_at is None or task.last_charge_at > cutoff:
                continue
            if task.status in (TaskStatus.HELD, TaskStatus.RELEASED):
                _, flag = close_with_charges(session, config, row, task, kept=None, now=now)
                if flag is not None:
                    report.flags.append(flag)
                report.changed.setdefault(team, set()).add(task.requester)
            elif task.status == TaskStatus.DONE and task.actual_cost != task.charged:
                difference = correct_reported_cost(session, config, row, task, now=now)
                if difference is not None:
                    told.append(difference)
                    report.changed.setdefault(team, set()).add(task.requester)
    return report


def correct_reported_cost(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, *, now: datetime
) -> ChargeDifference | None:
    """The charges win over a reported cost: one adjustment entry for the difference (spent, plan first)."""
    assert task.id is not None and task.number is not None and task.actual_cost is not None
    reported, charged = task.actual_cost, task.charged
    diff = charged - reported
    balance = ledger_reads.as_balance(row)
    delta = rules.capture(balance, 0, diff) if diff > 0 else rules.refund(-diff)
    note = f"Keter Labs charged {charged:,}, reported {reported:,}"
    written = ledger_writes.append_entry(
        session,
        row=row,
        kind=EntryKind.ADJUSTMENT,
        delta=delta,
        idempotency_key=f"charges-differ:{task.id}:{reported}:{charged}",
        now=now,
        local_day=local_date(now, config.teams[task.team].zone),
        member=task.requester,
        tool=task.tool,
        task_id=task.id,
        note=note,
        project=task.project,
    )
    task.actual_cost = charged
    session.add(task)
    if not written:
        return None
    share = rules.earlier_cycle_share(balance, -diff) if diff < 0 else rules.Delta()
    if share.spent:  # charged less than reported after a renewal: this cycle's spent never goes below 0
        ledger_writes.append_new_entry(
            session,
            row=row,
            kind=EntryKind.LAPSE,
            delta=share,
            idempotency_key=f"charges-differ:{task.id}:{reported}:{charged}:earlier-cycle",
            now=now,
            local_day=local_date(now, config.teams[task.team].zone),
            note=f"task #{task.number}: {share.spent:,} credits an earlier cycle spent",
        )
    record_decision(
        session,
        workspace_id=task.workspace_id,
        team=task.team,
        action="charges_differ",
        target=f"task #{task.number}",
        now=now,
        member=task.requester,
        reported=reported,
        charged=charged,
    )
    return ChargeDifference(task.team, task.requester, task.number, charged, reported)
