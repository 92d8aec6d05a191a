"""A task's ledger entries: the one hold, the one capture and the one release every path calls.

``run`` holds, ``done`` captures, and a cancel, a refusal, an expiry or a stale hold releases, all
through these functions, so an entry kind is written in exactly one place.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.credits_file import CreditsConfig, Pricing, ToolPricing
from bot.domain import ledger as rules
from bot.domain.calendar import local_date, week_start
from bot.domain.errors import UserFacingError
from bot.domain.ledger import EntryKind, InsufficientCreditsError, OverdrawnError
from bot.domain.lifecycle import TaskEvent, next_task_status
from bot.domain.pricing import TaskSpec, cost_of_retries
from bot.services.workspace.members import bot_admins
from bot.store import ledger_reads, ledger_writes
from bot.store.tables.ledger import TeamBalance
from bot.store.tables.tasks import Task


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
    """A ledger entry about a task, by its requester, dated in the team's timezone; it must be new.

    Closing a hold reserved before this week (the team's week) adds to the member's week only what it
    spent above that hold: the hold was counted in its own week, so a cancel never makes room now.
    """
    zone = config.teams[task.team].zone
    week_usage = None
    if delta.held < 0 and task.created_at < week_start(now, zone):
        week_usage = max(0, delta.held + delta.spent)
    ledger_writes.append_new_entry(
        session,
        row=row,
        kind=kind,
        delta=delta,
        idempotency_key=key,
        now=now,
        local_day=local_date(now, zone),
        member=task.requester,
        tool=task.tool,
        task_id=task.id,
        project=task.project,
        retry_credits=retry_credits,
        week_usage=week_usage,
    )


def lapse_carried(
    session: Session,
    config: CreditsConfig,
    row: TeamBalance,
    task: Task,
    *,
    held_before: int,
    spent: int,
    closed_by: str,
    now: datetime,
) -> int:
    """After an entry took the task's hold from ``held_before`` to ``task.held``, spending ``spent``: lapse the
    plan credits the last renewal carried for it that were not spent (a ``lapse`` entry); returns them.

    Only a task reserved before that renewal had plan credits carried for it; a newer hold lapses nothing.
    ``closed_by`` names the closing entry, so the lapse's key is unique and a retry writes nothing twice.
    """
    closed_hold = held_before - task.held
    if row.carried <= 0 or row.renewed_at is None or task.created_at >= row.renewed_at or closed_hold <= 0:
        return 0
    lapse, row.carried = rules.close_carried(row.carried, row.plan, closed_hold, spent)
    session.add(row)
    if lapse:
        ledger_writes.append_new_entry(
            session,
            row=row,
            kind=EntryKind.LAPSE,
            delta=rules.Delta(plan=-lapse),
            idempotency_key=f"lapse:carried:{task.id}:{closed_by}",
            now=now,
            local_day=local_date(now, config.teams[task.team].zone),
            task_id=task.id,
            note=f"task #{task.number}: {lapse:,} plan credits carried past renewal for its hold",
        )
    return lapse


def hold_credits(
    session: Session, config: CreditsConfig, row: TeamBalance, task: Task, amount: int, key: str, now: datetime
) -> None:
    """Reserve ``amount`` more for the task; ShortfallError (nothing written) when the team can't afford it."""
    try:
        delta = rules.place_hold(ledger_reads.as_balance(row), amount)
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

    The one capture: ``done`` (``FINISH``). It is never refused for want of credits: a charge is a fact,
    and the team may end overdrawn.
    """
    held = task.held
    delta = rules.capture(ledger_reads.as_balance(row), held, cost)
    status = next_task_status(task.status, event)
    spec = TaskSpec(task.tool, task.quality, task.variants, task.duration_seconds)
    retries = cost_of_retries(reserved_pricing(config, task), spec, cost)
    key = f"capture:task:{task.id}"
    write_task_entry(session, config, row, task, EntryKind.CAPTURE, delta, key, now, retry_credits=retries or None)
    task.actual_cost, task.held, task.status, task.finished_at = cost, 0, status, now
    session.add(task)
    lapse_carried(session, config, row, task, held_before=held, spent=cost, closed_by="capture", now=now)
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

    The one release: a cancel, a refused request and a stale hold (``amount`` is then the whole hold).
    """
    status = next_task_status(task.status, event)
    if amount:
        delta = rules.release_hold(ledger_reads.as_balance(row), amount)
        write_task_entry(session, config, row, task, EntryKind.RELEASE, delta, key, now)
    task.held -= amount
    task.status = status
    session.add(task)
    lapse_carried(session, config, row, task, held_before=task.held + amount, spent=0, closed_by=key, now=now)
    return amount


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
