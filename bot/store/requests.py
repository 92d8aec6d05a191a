"""The replay cache: a signed request is handled once, however often it is delivered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.store.models import ProcessedRequest

# Slack's signatures are only accepted for five minutes, so a record older than that can go.
REPLAY_WINDOW = timedelta(minutes=10)


def claim_request(session: Session, *, signature_hash: str, now: datetime) -> bool:
    """Record a request; False when the same signed request was already handled.

    One ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint, no ORM): it runs before every ack.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ProcessedRequest)
        .values(signature_hash=signature_hash, received_at=now)
        .on_conflict_do_nothing()
        .returning(ProcessedRequest.signature_hash)  # rowcount is -1 on PostgreSQL; a returned row is not
    )
    return session.execute(statement).first() is not None


def forget_old_requests(session: Session, *, now: datetime) -> int:
    """Drop records that can no longer match a valid signature."""
    result = session.execute(delete(ProcessedRequest).where(col(ProcessedRequest.received_at) < now - REPLAY_WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
