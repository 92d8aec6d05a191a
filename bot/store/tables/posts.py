"""Tables of the digest and budget-alert feature: claims on posts, schedule overrides, the scheduler lease.

``ScheduledPost`` is what makes a post happen exactly once: a row is claimed (unique per workspace,
kind, team and slot) before anything goes to Slack, marked ``posting`` just before the call and
``posted`` with the message's ts after it. ``version`` grows with every change of hands, so an
update that names the version it read (compare-and-set) can only succeed for one process.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import UTCDateTime
from bot.store.tables.tasks import Approval, Task


def _utc_column(**kwargs: Any) -> Any:
    return Column(UTCDateTime(), **kwargs)


class PostKind(StrEnum):
    """What a scheduled post is."""

    DIGEST = "digest"
    ALERT = "budget_alert"
    HOLD_REMINDER = "hold_reminder"  # a direct message: your task still holds credits, did it run?
    HOLD_RELEASE = "hold_release"  # a direct message: nobody reported it, so its hold was given back
    REMINDER = "reminder"  # an approval request's reminder to its approvers (slot_key: approval:<id>)
    ESCALATION = "escalation"  # the same request escalated to the team's admins
    HOME_CHART = "home_chart"  # the Home tab's spend chart of one team for one hour (slot_key: the hour)
    PROJECT_ALERT = "project_alert"  # a project's charges reached 80 % or 100 % of its budget this cycle


class PostState(StrEnum):
    """Where a post is. ``posting`` means Slack may have the message: reconcile before posting again."""

    CLAIMED = "claimed"
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    SKIPPED_BEYOND_GRACE = "skipped_beyond_grace"
    SKIPPED_RECENT = "skipped_recent"
    SKIPPED_BEFORE_START = "skipped_before_start"
    SUPERSEDED = "superseded"
    ABANDONED = "abandoned"


class ChartState(StrEnum):
    """The digest's chart, uploaded into the message's thread after the message itself."""

    NONE = "none"
    PENDING = "pending"
    UPLOADED = "uploaded"
    FAILED = "failed"
    ABANDONED = "abandoned"


class ScheduledPost(SQLModel, table=True):
    """One digest slot or budget alert of a team, claimed before it is posted and marked once it is."""

    __tablename__ = "scheduled_post"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "team", "slot_key", name="uq_scheduled_post_slot"),
        Index("ix_scheduled_post_state", "state", "claimed_at"),
        Index("ix_scheduled_post_team", "workspace_id", "kind", "team", "slot_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    team: str = Field(max_length=40)
    slot_key: str = Field(max_length=64)
    slot_at: datetime = Field(sa_column=_utc_column(nullable=False))
    scheduled: bool = True
    state: str = Field(max_length=24)
    version: int = 0
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    chart_state: str = Field(default=ChartState.NONE.value, max_length=16)
    chart_file_id: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))
    posted_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class DigestScheduleOverride(SQLModel, table=True):
    """A digest slot set with ``/credits admin digest``; it overrides the team's ``digest`` in the file."""

    __tablename__ = "digest_schedule"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    schedule: str = Field(max_length=16)
    set_by: str = Field(max_length=32)
    set_at: datetime = Field(sa_column=_utc_column(nullable=False))


class SchedulerLease(SQLModel, table=True):
    """Which process runs the schedule now: one per deployment, taken over when its holder stops renewing."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    expires_at: datetime = Field(sa_column=_utc_column(nullable=False))


# The digest reads approvals and finished tasks of one team by time; these indexes (created by migration
# 0003) let it do so without scanning every team's rows. Declared here so the models and schema agree.
APPROVAL_TEAM_CREATED = Index(
    "ix_approval_team_created",
    Approval.__table__.c.workspace_id,  # type: ignore[attr-defined]
    Approval.__table__.c.team,  # type: ignore[attr-defined]
    Approval.__table__.c.created_at,  # type: ignore[attr-defined]
)
TASK_TEAM_FINISHED = Index(
    "ix_task_team_finished",
    Task.__table__.c.workspace_id,  # type: ignore[attr-defined]
    Task.__table__.c.team,  # type: ignore[attr-defined]
    Task.__table__.c.finished_at,  # type: ignore[attr-defined]
)
