"""The ledger's tables: append-only entries, the running balance, daily spend and the history rollup."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import _utc_column


class LedgerEntry(SQLModel, table=True):
    """One append-only ledger line: never updated or deleted; corrections are new entries."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key", name="uq_ledger_entry_idempotency"),
        Index("ix_ledger_entry_team_time", "workspace_id", "team", "created_at"),
        Index("ix_ledger_entry_member_time", "workspace_id", "team", "member", "created_at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    )
    workspace_id: str = Field(max_length=32)
    team: str = Field(max_length=40)
    kind: str = Field(max_length=16)
    plan_delta: int = 0
    extra_delta: int = 0
    held_delta: int = 0
    spent_delta: int = 0
    member: str | None = Field(default=None, max_length=32)
    tool: str | None = Field(default=None, max_length=40)
    task_id: int | None = None
    idempotency_key: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    project: str | None = Field(default=None, max_length=80)  # the task's or the charge's project
    charge_kind: str | None = Field(default=None, max_length=16)  # attempt, retry or refund: a Keter Labs charge
    # Of ``spent_delta``, what retries cost: a capture's cost over the price of its first attempt (at the
    # task's reserved rates). A Keter Labs ``retry`` charge is all retry and leaves it empty.
    retry_credits: int | None = None
    # What it adds to its member's week when that is not held + spent: closing a hold reserved before the
    # week began counts only what it spent above that hold (the hold counted in its own week).
    week_usage: int | None = None


class TeamBalance(SQLModel, table=True):
    """The running figure: the sum of a team's ledger entries, updated in the same transaction."""

    __tablename__ = "team_balance"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    cycle_start: date
    plan: int = 0
    extra: int = 0
    held: int = 0
    spent: int = 0
    entry_count: int = 0
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Plan credits the last renewal kept only to back holds reserved before it (``renewed_at``): they
    # lapse as those holds close without spending them (``ledger.close_carried``).
    carried: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    renewed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class DailySpend(SQLModel, table=True):
    """Spend per team, local day and tool: burn rates read a week of rows, not the whole ledger."""

    __tablename__ = "daily_spend"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    tool: str = Field(primary_key=True, max_length=40)
    spent: int = 0


class HistoryRollup(SQLModel, table=True):
    """The charge history's totals per UTC day, member, tool and project: a slice's footer reads days, not rows.

    Kept by ``bot.store.ledger_writes`` beside every entry the history shows, in the same transaction;
    ``""`` stands for no member, tool or project (part of the primary key).
    """

    __tablename__ = "history_rollup"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    member: str = Field(primary_key=True, max_length=32)
    tool: str = Field(primary_key=True, max_length=40)
    project: str = Field(primary_key=True, max_length=80)
    spent: int = 0
    retries: int = 0  # spent by Keter Labs' retry charges
    entries: int = 0
