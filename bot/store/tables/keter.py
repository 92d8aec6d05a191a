"""What Keter Labs told us: its charges, the webhook deliveries that carried them, its reported balances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.store.tables.columns import _utc_column

WEBHOOK_ID_LIMIT = 200
"""The longest ``webhook-id`` kept (the feed refuses a longer one before it writes anything)."""


class KeterCharge(SQLModel, table=True):
    """A charge as Keter Labs sent it (feed or file), once per charge id: the fact behind its ledger entry."""

    __tablename__ = "keter_charge"
    __table_args__ = (
        Index("ix_keter_charge_task", "workspace_id", "task_id"),
        Index("ix_keter_charge_refunds", "workspace_id", "refunds"),
    )

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
    refunds: str | None = Field(default=None, max_length=120)  # a refund: the charge it gives back
    task_id: int | None = None
    occurred_at: datetime = Field(sa_column=_utc_column(nullable=False))
    recorded_at: datetime = Field(sa_column=_utc_column(nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """A ``webhook-id`` already handled: a redelivery changes nothing."""

    __tablename__ = "webhook_delivery"

    webhook_id: str = Field(primary_key=True, max_length=WEBHOOK_ID_LIMIT)
    body_hash: str | None = Field(default=None, max_length=64)  # SHA-256 of the body, hex (None: before 113f80c909a1)
    received_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


class KeterBalance(SQLModel, table=True):
    """The newest ``balance.updated`` of a team: Keter Labs' own figure, for reconciliation."""

    __tablename__ = "keter_balance"

    workspace_id: str = Field(primary_key=True, max_length=32)
    team: str = Field(primary_key=True, max_length=40)
    plan_credits: int
    extra_credits: int
    as_of: datetime = Field(sa_column=_utc_column(nullable=False))
    # Keter Labs' figure minus the bot's when it came in.
    difference: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    alerted_difference: int | None = None  # the difference the admins were last told about
