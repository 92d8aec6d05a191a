"""Derived rollups the quote reads instead of scanning history (kept in the writing transaction)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import UTCDateTime


class MemberUsage(SQLModel, table=True):
    """What each member reserved or spent per UTC hour: a week's usage reads at most 168 rows, not entries.

    Kept by ``bot.store.ledger_writes`` beside every entry of a usage kind (holds, captures, releases,
    charges, refunds, adjustments), in the same transaction; derived data, checked by ``db check``.
    """

    __tablename__ = "member_usage"
    __table_args__ = {"sqlite_with_rowid": False}  # rows stored in key order: a week is one range read

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    member: str = Field(primary_key=True, max_length=32)
    hour: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))  # UTC, on the hour
    amount: int = 0  # held plus spent deltas


class TaskRollup(SQLModel, table=True):
    """Finished tasks per UTC day of finishing, tool and price shape: a quote's history reads days, not tasks.

    Kept by ``bot.store.rollups`` at every flush that finishes, changes or reopens a task, in the same
    transaction; derived data, checked by ``db check``. ``-1`` stands for no duration, retries or cost.
    """

    __tablename__ = "task_rollup"
    __table_args__ = {"sqlite_with_rowid": False}  # rows stored in key order: 30 days are one range read

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    tool: str = Field(primary_key=True, max_length=40)
    day: date = Field(primary_key=True)
    quality: str = Field(primary_key=True, max_length=40)
    variants: int = Field(primary_key=True)
    duration_seconds: int = Field(primary_key=True)
    retries_used: int = Field(primary_key=True)
    actual_cost: int = Field(primary_key=True)
    tasks: int = 0
    kept_tasks: int = 0  # of them, those that recorded ``kept=``
    kept: int = 0  # the versions they kept


class TaskRollupWeek(SQLModel, table=True):
    """``task_rollup`` per UTC week (``week`` is its Monday): a quote's 30 days read about five weeks of rows.

    Kept beside ``task_rollup`` by the same flush hook, in the same transaction; checked by ``db check``.
    """

    __tablename__ = "task_rollup_week"
    __table_args__ = {"sqlite_with_rowid": False}  # rows stored in key order: a window is one range read

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    tool: str = Field(primary_key=True, max_length=40)
    week: date = Field(primary_key=True)  # the Monday (UTC) of the days it sums
    quality: str = Field(primary_key=True, max_length=40)
    variants: int = Field(primary_key=True)
    duration_seconds: int = Field(primary_key=True)
    retries_used: int = Field(primary_key=True)
    actual_cost: int = Field(primary_key=True)
    tasks: int = 0
    kept_tasks: int = 0
    kept: int = 0
