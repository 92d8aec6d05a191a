"""Tables. Every row carries the Slack workspace id so one deployment can serve several workspaces."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Column, DateTime, Dialect, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.domain.lifecycle import ApprovalKind, ApprovalStatus, TaskStatus

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone, so naive values mean UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(**kwargs: Any) -> Any:
    return Column(UTCDateTime(), **kwargs)


class StrEnumText(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as its plain value in a VARCHAR column (no database enum type, no migration).

    Rows read back carry the enum member, so ``task.status is TaskStatus.DONE`` holds as well as
    ``== "done"``; an unknown stored value fails loudly instead of passing as a string.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def _enum_column(enum: type[StrEnum], length: int) -> Any:
    return Column(StrEnumText(enum, length), nullable=False)


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


class Task(SQLModel, table=True):
    """A generation task a member priced and ran; finished tasks feed the team's retry rate."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_team_tool_finished", "workspace_id", "team", "tool", "finished_at"),
        Index("ix_task_member_status", "workspace_id", "team", "requester", "status"),
        Index("ix_task_member_created", "workspace_id", "team", "requester", "created_at"),
        Index("ix_task_status_created", "status", "created_at"),  # held tasks by age (stale holds)
        # The team's tasks with a project (balance's budgets, ``project=``): only those rows, so a team's
        # history of tasks without one is never read.
        Index(
            "ix_task_team_project",
            "workspace_id",
            "team",
            "project",
            sqlite_where=text("project IS NOT NULL"),
            postgresql_where=text("project IS NOT NULL"),
        ),
        UniqueConstraint("workspace_id", "team", "number", name="uq_task_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team: str = Field(max_length=40)
    number: int | None = None
    requester: str = Field(max_length=32)
    tool: str = Field(max_length=40)
    quality: str = Field(max_length=40)
    variants: int = 1
    duration_seconds: int | None = None
    retries_planned: int | None = None
    quoted_cost: int
    held: int = 0
    status: TaskStatus = Field(sa_column=_enum_column(TaskStatus, 20))
    actual_cost: int | None = None
    retries_used: int | None = None
    kept: int | None = None
    note: str | None = Field(default=None, max_length=500)
    fingerprint: str | None = Field(default=None, max_length=300)
    # The pricing in force when the task was reserved: ``done`` charges at these (None: a task from
    # before they were stored, charged at today's pricing).
    rate: float | None = None
    unit: str | None = Field(default=None, max_length=16)
    minimum: float | None = None
    retry_cost: float | None = None
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    project: str | None = Field(default=None, max_length=80)  # ``run … project=``; its charges inherit it
    charged: int = 0  # what Keter Labs' charges naming this task add up to (refunds taken off)
    charge_count: int = 0
    last_charge_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ProcessedRequest(SQLModel, table=True):
    """Signed requests already handled: Bolt keeps no replay cache, so the bot does."""

    __tablename__ = "processed_request"

    signature_hash: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


class Approval(SQLModel, table=True):
    """A request for an approver's decision, posted in the team's channel; decided exactly once."""

    __tablename__ = "approval"
    __table_args__ = (
        Index("ix_approval_status_expiry", "status", "expires_at"),
        Index("ix_approval_task", "workspace_id", "task_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    team: str = Field(max_length=40)
    task_id: int | None = None  # None: a request for more (a limit raise, extra credits), not about a task
    kind: ApprovalKind = Field(default=ApprovalKind.TASK, sa_column=_enum_column(ApprovalKind, 16))
    requester: str = Field(max_length=32)
    amount: int
    reasons: str = Field(max_length=500)
    details: str = Field(default="", max_length=2000)
    status: ApprovalStatus = Field(sa_column=_enum_column(ApprovalStatus, 16))
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    decision_note: str | None = Field(default=None, max_length=500)
    announced: bool = False
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # Delivery of the request's message (issue 10): tries so far, and when the latest try began (None:
    # no try under way); tries at redrawing it with its outcome, given up after a few.
    post_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    posting_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    announce_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class AuditEntry(SQLModel, table=True):
    """Who changed or decided what, and when: every admin command and every decision leaves one."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_time", "workspace_id", "created_at"),
        Index("ix_audit_entry_team_id", "workspace_id", "team", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=40)
    target: str = Field(max_length=200)
    details: str = Field(default="", max_length=1000)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    team: str | None = Field(default=None, max_length=40)  # the team a decision or change concerns, if one


class MemberRole(SQLModel, table=True):
    """A role given with ``/credits admin role``; it overrides the credits file."""

    __tablename__ = "member_role"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=40)


class RoleLimit(SQLModel, table=True):
    """Limits set with ``/credits admin limit``; they override the credits file."""

    __tablename__ = "role_limit"

    workspace_id: str = Field(primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=40)
    task_limit: int | None = None
    weekly_limit: int | None = None


class TeamSetting(SQLModel, table=True):
    """A team created or changed with ``/credits admin team``; it overrides the credits file."""

    __tablename__ = "team_setting"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    channel: str = Field(max_length=32)
    plan: str = Field(max_length=40)
    timezone: str | None = Field(default=None, max_length=64)


class WorkspaceState(SQLModel, table=True):
    """A workspace the app was uninstalled from (or whose tokens were revoked); its data is kept.

    No row means installed. Scheduled work skips a workspace marked not installed until a signed
    request from it arrives while the bot token works again.
    """

    __tablename__ = "workspace_state"

    workspace_id: str = Field(primary_key=True, max_length=32)
    installed: bool
    reason: str = Field(max_length=40)
    changed_at: datetime = Field(sa_column=_utc_column(nullable=False))


class KeterCharge(SQLModel, table=True):
    """A charge as Keter Labs sent it (feed or file), once per charge id: the fact behind its ledger entry."""

    __tablename__ = "keter_charge"
    __table_args__ = (Index("ix_keter_charge_task", "workspace_id", "task_id"),)

    workspace_id: str = Field(primary_key=True, max_length=32)
    charge_id: str = Field(primary_key=True, max_length=120)
    team: str = Field(max_length=40)
    member: str | None = Field(default=None, max_length=32)
    user_email: str | None = Field(default=None, max_length=254)
    tool: str = Field(max_length=40)
    quality: str | None = Field(default=None, max_length=40)
    variants: int | None = None
    duration_seconds: int | None = None
    credits: int
    kind: str = Field(max_length=16)
    version_kept: int | None = None
    project: str | None = Field(default=None, max_length=80)
    reference: str | None = Field(default=None, max_length=80)
    task_id: int | None = None
    occurred_at: datetime = Field(sa_column=_utc_column(nullable=False))
    recorded_at: datetime = Field(sa_column=_utc_column(nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """A ``webhook-id`` already handled: a redelivery changes nothing."""

    __tablename__ = "webhook_delivery"

    webhook_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


class KeterBalance(SQLModel, table=True):
    """The newest ``balance.updated`` of a team: Keter Labs' own figure, for reconciliation."""

    __tablename__ = "keter_balance"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    plan_credits: int
    extra_credits: int
    as_of: datetime = Field(sa_column=_utc_column(nullable=False))
    difference: int = 0  # Keter Labs' figure minus the bot's when it came in
    alerted_difference: int | None = None  # the difference the admins were last told about


class HistoryRollup(SQLModel, table=True):
    """The charge history's totals per UTC day, member, tool and project: a slice's footer reads days, not rows.

    Kept by ``bot.store.ledger`` beside every entry the history shows, in the same transaction;
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


class ProjectBudget(SQLModel, table=True):
    """A client project's budget for one cycle of its team, set with ``/credits admin budget``."""

    __tablename__ = "project_budget"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    project: str = Field(primary_key=True, max_length=80)
    cycle_start: date = Field(primary_key=True)
    credits: int
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))


class CreditAsk(SQLModel, table=True):
    """What an "Ask for a limit raise" or "Ask for extra credits" request asks, beside its approval row.

    An approved limit raise is the member's override until ``until`` (inclusive, team's timezone);
    an approved ask for extra credits becomes a top-up when an admin clicks "Bought" (``bought_*``).
    """

    __tablename__ = "credit_ask"
    __table_args__ = (Index("ix_credit_ask_member", "workspace_id", "team", "member"),)

    approval_id: int = Field(primary_key=True)
    workspace_id: str = Field(max_length=32)
    team: str = Field(max_length=40)
    member: str = Field(max_length=32)
    task_limit: int | None = None  # the per-task limit asked for (None: unchanged)
    weekly_limit: int | None = None  # the weekly limit asked for (None: unchanged)
    credits: int = 0  # the extra credits asked for
    run_command: str = Field(default="", max_length=400)  # what the member wanted to run
    until: date | None = None  # an approved raise lasts to the end of this day
    bought_credits: int | None = None
    bought_by: str | None = Field(default=None, max_length=32)
    bought_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class MemberUsage(SQLModel, table=True):
    """What each member reserved or spent per UTC hour: a week's usage reads at most 168 rows, not entries.

    Kept by ``bot.store.ledger`` beside every entry of a usage kind (holds, captures, releases,
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
