"""The replay cache: a signed request is handled once, however often it is delivered."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.store.models import ProcessedRequest

# Slack's signatures are only accepted for five minutes, so a record older than that can go.
REPLAY_WINDOW = timedelta(minutes=10)


def claim_request(session: Session, *, signature_hash: str, now: datetime) -> bool:
    """Record a request; False when the same signed request was already handled."""
    try:
        with session.begin_nested():
            session.add(ProcessedRequest(signature_hash=signature_hash, received_at=now))
    except IntegrityError:
        return False
    return True


def forget_old_requests(session: Session, *, now: datetime) -> int:
    """Drop records that can no longer match a valid signature."""
    result = session.execute(delete(ProcessedRequest).where(col(ProcessedRequest.received_at) < now - REPLAY_WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
