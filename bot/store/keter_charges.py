"""Charge feed repository: raw Keter Labs charges, webhook deliveries, balance snapshots, quiet tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.domain.digest import FeedFigures, summarise_projects
from bot.domain.keter_charges import ChargeKind, Reconciliation
from bot.domain.ledger import EntryKind
from bot.domain.lifecycle import TaskStatus
from bot.store.digest import SPEND_KINDS
from bot.store.tables.keter import KeterBalance, KeterCharge, WebhookDelivery
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task


def _insert(session: Session, model: type[WebhookDelivery]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def task_charge_summary(session: Session, *, workspace_id: str, task_id: int) -> tuple[int, int | None]:
    """How many of a task's charges were retries, and the versions they kept (None: none said)."""
    retries, versions = session.exec(
        select(
            func.coalesce(func.sum(case((col(KeterCharge.kind) == ChargeKind.RETRY.value, 1), else_=0)), 0),
            func.sum(KeterCharge.version_kept),
        ).where(KeterCharge.workspace_id == workspace_id, KeterCharge.task_id == task_id)
    ).one()
    return int(retries or 0), (int(versions) if versions is not None else None)


def quiet_tasks(session: Session, *, workspace_id: str, cutoff: datetime) -> list[tuple[int, str]]:
    """(id, team) of tasks with charges and none since ``cutoff`` that are still open (held, or released
    unreported) or differ from them."""
    statement = select(Task.id, Task.team).where(
        Task.workspace_id == workspace_id,
        col(Task.charge_count) > 0,
        col(Task.last_charge_at) <= cutoff,
        col(Task.status).in_([TaskStatus.HELD.value, TaskStatus.RELEASED.value, TaskStatus.DONE.value]),
        col(Task.status).in_([TaskStatus.HELD.value, TaskStatus.RELEASED.value])
        | (col(Task.actual_cost) != col(Task.charged)),
    )
    return [(int(task_id), str(team)) for task_id, team in session.exec(statement) if task_id is not None]


def delivery_seen(session: Session, *, webhook_id: str) -> WebhookDelivery | None:
    """The delivery already handled under this ``webhook-id``, if any (its body's hash with it)."""
    return session.get(WebhookDelivery, webhook_id)


def mark_delivery(session: Session, *, webhook_id: str, body_hash: str, now: datetime) -> None:
    """Remember a handled ``webhook-id`` and its body's hash (a second process marking it too is fine)."""
    statement = _insert(session, WebhookDelivery).values(webhook_id=webhook_id, body_hash=body_hash, received_at=now)
    session.execute(statement.on_conflict_do_nothing())


def keter_balance(session: Session, *, workspace_id: str, team: str) -> KeterBalance | None:
    """The team's newest Keter Labs balance snapshot."""
    return session.get(KeterBalance, (workspace_id, team))


def as_reconciliation(snapshot: KeterBalance) -> Reconciliation:
    """The stored figures as the answer every caller gets."""
    return Reconciliation(
        snapshot.team, snapshot.plan_credits, snapshot.extra_credits, snapshot.as_of, snapshot.difference
    )


# Built once and read as a tuple: every ``/credits balance`` asks, and loading an ORM object through
# ``session.get`` was the costliest step of the balance's profile.
_RECONCILIATION = sa_select(
    col(KeterBalance.team),
    col(KeterBalance.plan_credits),
    col(KeterBalance.extra_credits),
    col(KeterBalance.as_of),
    col(KeterBalance.difference),
).where(col(KeterBalance.workspace_id) == bindparam("workspace_id"), col(KeterBalance.team) == bindparam("team"))


def reconciliation(session: Session, *, workspace_id: str, team: str) -> Reconciliation | None:
    """The team's newest Keter Labs balance and how far the bot was from it (None: none received)."""
    row = session.connection().execute(_RECONCILIATION, {"workspace_id": workspace_id, "team": team}).first()
    if row is None:
        return None
    team_name, plan_credits, extra_credits, as_of, difference = row
    return Reconciliation(team_name, plan_credits, extra_credits, as_of, difference)


def keter_balances(session: Session, *, workspace_id: str) -> list[KeterBalance]:
    """Every team's newest snapshot in the workspace."""
    return list(session.exec(select(KeterBalance).where(KeterBalance.workspace_id == workspace_id)).all())


def week_feed_figures(session: Session, *, workspace_id: str, team: str, start: datetime, end: datetime) -> FeedFigures:
    """The digest's charge-feed lines for [start, end): unplanned spend, adjustments, spend by project."""
    at = col(LedgerEntry.created_at)
    where = [
        col(LedgerEntry.workspace_id) == workspace_id,
        col(LedgerEntry.team) == team,
        at >= start,
        at < end,
    ]
    unplanned = [*where, col(LedgerEntry.kind) == EntryKind.CHARGE.value, col(LedgerEntry.task_id).is_(None)]
    by_who = session.execute(
        sa_select(col(LedgerEntry.member), col(LedgerEntry.tool), func.sum(col(LedgerEntry.spent_delta)), func.count())
        .where(*unplanned)
        .group_by(col(LedgerEntry.member), col(LedgerEntry.tool))
    ).all()
    members: dict[str, int] = {}
    tools: dict[str, int] = {}
    for member, tool, spent, _ in by_who:
        members[member or ""] = members.get(member or "", 0) + int(spent or 0)
        tools[tool or "other"] = tools.get(tool or "other", 0) + int(spent or 0)
    adjusted, entries = session.execute(
        sa_select(
            func.coalesce(func.sum(col(LedgerEntry.plan_delta) + col(LedgerEntry.extra_delta)), 0), func.count()
        ).where(*where, col(LedgerEntry.kind) == EntryKind.ADJUSTMENT.value)
    ).one()
    projects = session.execute(
        sa_select(col(LedgerEntry.project), func.sum(col(LedgerEntry.spent_delta)))
        .where(*where, col(LedgerEntry.project).is_not(None), col(LedgerEntry.kind).in_(SPEND_KINDS))
        .group_by(col(LedgerEntry.project))
    ).all()
    top, rest = summarise_projects({str(name): int(spent or 0) for name, spent in projects})
    top_member = max(members.items(), key=lambda kv: kv[1])[0] if members else None
    return FeedFigures(
        unplanned=sum(members.values()),
        unplanned_charges=sum(int(count) for *_, count in by_who),
        unplanned_member=top_member or None,
        unplanned_tool=max(tools.items(), key=lambda kv: kv[1])[0] if tools else None,
        adjustments=int(adjusted),
        adjustment_entries=int(entries),
        projects=top,
        other_projects=rest,
    )


def charges_by_ids(session: Session, *, workspace_id: str, charge_ids: list[str]) -> dict[str, KeterCharge]:
    """The charges of this list already recorded, by id (one query per batch)."""
    found: dict[str, KeterCharge] = {}
    unique = sorted(set(charge_ids))
    for n in range(0, len(unique), 500):
        statement = select(KeterCharge).where(
            KeterCharge.workspace_id == workspace_id, col(KeterCharge.charge_id).in_(unique[n : n + 500])
        )
        found |= {c.charge_id: c for c in session.exec(statement)}
    return found


def refunded(session: Session, *, workspace_id: str, charge_ids: list[str]) -> dict[str, int]:
    """What the recorded refunds naming each of these charges add up to (absent: none)."""
    found: dict[str, int] = {}
    unique = sorted(set(charge_ids))
    for n in range(0, len(unique), 500):
        statement = (
            select(KeterCharge.refunds, func.sum(KeterCharge.credits))
            .where(
                KeterCharge.workspace_id == workspace_id,
                KeterCharge.kind == "refund",
                col(KeterCharge.refunds).in_(unique[n : n + 500]),
            )
            .group_by(col(KeterCharge.refunds))
        )
        found |= {str(charge_id): int(total) for charge_id, total in session.exec(statement) if charge_id}
    return found


def add_charges(session: Session, charges: list[KeterCharge]) -> None:
    """Insert new raw charges in one statement (their ids were checked in the same locked transaction)."""
    if charges:
        session.execute(sa_insert(KeterCharge), [c.model_dump() for c in charges])
