"""A workspace's setup and records: admin overrides, the audit trail, install state, Slack deliveries,
project budgets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import _utc_column


class ProcessedRequest(SQLModel, table=True):
    """Signed requests already handled: Bolt keeps no replay cache, so the bot does."""

    __tablename__ = "processed_request"

    signature_hash: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


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


class ProjectBudget(SQLModel, table=True):
    """A client project's budget for one cycle of its team, set with ``/credits admin budget``."""

    __tablename__ = "project_budget"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    project: str = Field(primary_key=True, max_length=80)
    cycle_start: date = Field(primary_key=True)
    credits: int
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
