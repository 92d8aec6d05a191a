"""Slack deliveries handled once: an Events API event is recorded by its ``event_id`` before it runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from bot.store.db import Database, DeliveryAlreadyHandledError
from bot.store.slack_deliveries import claim_request

# The replay error is raised by the store's claim; named here so the Slack edge imports no store module.
__all__ = ["DeliveryAlreadyHandledError", "claim_event", "claimed_by_first_write"]


def claim_event(db: Database, *, key: str, now: datetime) -> bool:
    """Record the delivery; False when the same key was recorded before (Slack's retry of one event)."""
    with db.write() as session:
        return claim_request(session, signature_hash=key, now=now)


@contextmanager
def claimed_by_first_write(db: Database, *, key: str, now: datetime) -> Iterator[None]:
    """Within it, the first write transaction also records ``key`` (a replayed delivery then writes nothing)."""
    with db.claim_on_first_write(key, now):
        yield
