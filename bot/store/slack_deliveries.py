"""The delivery record: a delivery that wrote is handled once, however often it arrives.

Keys name deliveries (a slash command's or click's ``trigger_id``, an event's ``event_id``, else the
request's signature), hashed; ``Database.claim_on_first_write`` records one in the same transaction as
the first write its request makes, and the events wrapper records an event before its handler runs.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.store.tables.workspace import ProcessedRequest

# Slack's signatures are only accepted for five minutes, and Slack retries an event within about
# six (immediately, after 1 minute, after 5 minutes), so a record older than this can go.
REPLAY_WINDOW = timedelta(minutes=10)
PRUNE_EVERY = 200  # every 200th claim in a process also drops the records past the window
_claims = itertools.count(1)


def claim_request(session: Session, *, signature_hash: str, now: datetime) -> bool:
    """Record a delivery; False when the same delivery was already recorded.

    One ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint, no ORM), inside the caller's write transaction.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ProcessedRequest)
        .values(signature_hash=signature_hash, received_at=now)
        .on_conflict_do_nothing()
        .returning(ProcessedRequest.signature_hash)  # rowcount is -1 on PostgreSQL; a returned row is not
    )
    fresh = session.execute(statement).first() is not None
    if next(_claims) % PRUNE_EVERY == 0:
        forget_old_requests(session, now=now)
    return fresh


def forget_old_requests(session: Session, *, now: datetime) -> int:
    """Drop records that can no longer match a valid signature."""
    result = session.execute(delete(ProcessedRequest).where(col(ProcessedRequest.received_at) < now - REPLAY_WINDOW))
    return int(getattr(result, "rowcount", 0) or 0)
