"""Tasks, their approvals, and requests for more credits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.domain.lifecycle import ApprovalKind, ApprovalStatus, TaskStatus
from bot.store.tables.columns import _enum_column, _utc_column


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
    # What Keter Labs' charges naming this task add up to (refunds taken off), and how many there were.
    charged: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    charge_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_charge_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


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
