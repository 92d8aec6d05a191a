"""Keeping an approval request's Slack message in step: posting it once, and redrawing it once it is settled.

The post is claimed before it is sent (``posting_at``, under a lease), so a crash mid-post leaves a try
the sweep retries; a settled request whose message still shows buttons is redrawn until it is announced.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.lifecycle import ASK_KINDS
from bot.services.approvals.decisions import task_of
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.tasks import Approval, Task

POST_LEASE = timedelta(minutes=2)  # a try at posting a request older than this is presumed dead
MAX_POST_ATTEMPTS = 10  # one every POST_LEASE: then, about 20 minutes on, withdrawn and its hold released
MAX_ANNOUNCE_ATTEMPTS = 3  # then the message is given up and the requester told directly


def claim_post(db: Database, *, approval_id: int, now: datetime) -> ApprovalRecord | None:
    """Take the next try at posting a request: None when it is posted, or another try began under POST_LEASE ago.

    ``posting_at`` is committed before the post, so a process that dies mid-post leaves a try the
    sweep sees as stale once the lease is over (and looks for in the channel before posting again).
    """
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        if approval is None or approval.message_ts is not None:
            return None
        if approval.posting_at is not None and now - approval.posting_at < POST_LEASE:
            return None
        approval.posting_at = now
        approval.post_attempts += 1
        session.add(approval)
        session.flush()
        return ApprovalRecord.of(approval)


def attach_message(
    db: Database, *, approval_id: int, channel_id: str, message_ts: str
) -> tuple[ApprovalRecord, TaskRecord | None]:
    """Remember where the request was posted (the post landed), so decisions can update it in place.

    Returns the request as it is now (and its task; None for a request for more): a click may have
    settled it while the post was on its way, and then the caller redraws it at once.
    """
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        assert approval is not None
        approval.channel_id, approval.message_ts, approval.posting_at = channel_id, message_ts, None
        session.add(approval)
        session.flush()
        task = session.get(Task, approval.task_id) if approval.task_id is not None else None
        return ApprovalRecord.of(approval), TaskRecord.of(task) if task is not None else None


def unposted(db: Database, *, now: datetime) -> list[tuple[ApprovalRecord, TaskRecord | None]]:
    """Requests whose post never landed and whose last try (or creation) is over POST_LEASE old,
    with their task (None: a request for more, which has none)."""
    with db.read() as session:
        found: list[tuple[ApprovalRecord, TaskRecord | None]] = []
        for approval in task_store.unposted_approvals(session, before=now - POST_LEASE):
            if approval.task_id is None:
                found.append((ApprovalRecord.of(approval), None))
                continue
            task = session.get(Task, approval.task_id)
            if task is not None:
                found.append((ApprovalRecord.of(approval), TaskRecord.of(task)))
        return found


def announce_failed(db: Database, *, approval_id: int) -> int:
    """Count a failed try at redrawing the request; how many there have been."""
    with db.write() as session:
        approval = task_store.approval_for_update(session, approval_id)
        assert approval is not None
        approval.announce_attempts += 1
        session.add(approval)
        return approval.announce_attempts


def mark_announced(db: Database, *, approval_id: int) -> None:
    """The Slack message and thread now show the outcome."""
    with db.write() as session:
        approval = session.get(Approval, approval_id)
        if approval is not None:
            approval.announced = True
            session.add(approval)


def unannounced(db: Database) -> list[tuple[ApprovalRecord, TaskRecord | None]]:
    """Settled requests whose message still shows buttons (a crash or a Slack error came between)."""
    with db.read() as session:
        found: list[tuple[ApprovalRecord, TaskRecord | None]] = []
        for approval in task_store.unannounced_approvals(session):
            task = task_of(session, approval)
            if task is not None:
                found.append((ApprovalRecord.of(approval), TaskRecord.of(task)))
            elif approval.kind in ASK_KINDS:
                found.append((ApprovalRecord.of(approval), None))
        return found
