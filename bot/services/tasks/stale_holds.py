"""Stale holds: a reserved task nobody reported gets a reminder, then its hold is given back.

A held task blocks the team's available credits until someone reports it with ``done`` or cancels
it. After ``holds.remind_after_hours`` its requester gets a direct message; after
``holds.release_after_days`` the hold is released through the one release path
(``services.tasks.holds.release_credits``) and the requester is told.

Exactly once, across restarts and processes: each reminder and each release message is claimed in
``scheduled_post`` (kind ``hold_reminder`` / ``hold_release``, slot ``task:<id>``; unique) before it
is sent. The release, its audit entry and the claim on its message are one transaction under the
team's lock, so a hold is released once and its message claimed once, or neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.credits_file import CreditsConfig
from bot.domain.lifecycle import TaskEvent, TaskStatus
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import release_credits
from bot.services.workspace.audit_trail import record_decision
from bot.services.workspace.records import TaskRecord
from bot.store import digest as post_store
from bot.store import stale_holds as hold_store
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.posts import PostKind, PostState
from bot.store.tables.tasks import Task


@dataclass(frozen=True)
class HoldNotice:
    """A claimed direct message about a stale hold: which claim row, which task, what was released."""

    post_id: int
    kind: PostKind
    task: TaskRecord
    released: int = 0


def slot_key(task_id: int) -> str:
    """The claim's slot: one reminder and one release message per task."""
    return f"task:{task_id}"


def task_id_of(slot: str) -> int:
    """The task id a claim's slot names."""
    return int(slot.removeprefix("task:"))


def remind_at(config: CreditsConfig, created_at: datetime) -> datetime:
    """When a task reserved at ``created_at`` gets its reminder."""
    return created_at + timedelta(hours=config.holds.remind_after_hours)


def release_at(config: CreditsConfig, created_at: datetime) -> datetime:
    """When a task reserved at ``created_at`` has its hold released if still unreported."""
    return created_at + timedelta(days=config.holds.release_after_days)


def claim_reminders(
    db: Database, config: CreditsConfig, *, workspace_id: str, now: datetime, owner: str
) -> list[HoldNotice]:
    """Claim a reminder for each held task past its reminder time (and not yet due for release)."""
    cutoff = now - timedelta(hours=config.holds.remind_after_hours)
    with db.read() as session:
        due = [
            t
            for t in task_store.held_tasks_created_before(session, workspace_id=workspace_id, cutoff=cutoff)
            if t.team in config.teams and release_at(config, t.created_at) > now
        ]
        if not due:
            return []
        claimed = post_store.posts_for_slots(
            session,
            workspace_id=workspace_id,
            kind=PostKind.HOLD_REMINDER,
            slot_keys=[slot_key(int(t.id or 0)) for t in due],
        )
        todo = [TaskRecord.of(t) for t in due if (t.team, slot_key(int(t.id or 0))) not in claimed]
    notices = []
    for task in todo:
        with db.write() as session:
            post = post_store.insert_post(
                session,
                workspace_id=workspace_id,
                kind=PostKind.HOLD_REMINDER,
                team=task.team,
                slot_key=slot_key(task.id),
                slot_at=remind_at(config, task.created_at),
                state=PostState.CLAIMED,
                owner=owner,
                channel_id=task.requester,
                now=now,
            )
        if post is not None and post.id is not None:
            notices.append(HoldNotice(post.id, PostKind.HOLD_REMINDER, task))
    return notices


def release_stale(
    db: Database, config: CreditsConfig, *, workspace_id: str, now: datetime, owner: str
) -> list[HoldNotice]:
    """Release every held task past ``holds.release_after_days``; claim the message to its requester with it."""
    cutoff = now - timedelta(days=config.holds.release_after_days)
    with db.read() as session:
        due = [
            (int(t.id or 0), t.team)
            for t in task_store.held_tasks_created_before(session, workspace_id=workspace_id, cutoff=cutoff)
            if t.team in config.teams
        ]
    notices = []
    for task_id, team in due:
        with db.write() as session:
            row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
            task = session.get(Task, task_id)
            assert task is not None
            session.refresh(task)  # read again under the team's lock: a `done` may have come first
            if task.status != TaskStatus.HELD or task.created_at > cutoff:
                continue
            released = release_credits(
                session,
                config,
                row,
                task,
                amount=task.held,
                event=TaskEvent.RELEASE_STALE,
                key=hold_store.stale_release_key(task_id),
                now=now,
            )
            task.finished_at = now
            session.add(task)
            record_decision(
                session,
                workspace_id=workspace_id,
                team=team,
                action="release_stale",
                target=f"task #{task.number}",
                now=now,
                credits=released,
                requester=task.requester,
                reserved_at=task.created_at.isoformat(),
            )
            post = post_store.insert_post(
                session,
                workspace_id=workspace_id,
                kind=PostKind.HOLD_RELEASE,
                team=team,
                slot_key=slot_key(task_id),
                slot_at=now,
                state=PostState.CLAIMED,
                owner=owner,
                channel_id=task.requester,
                now=now,
            )
            session.flush()
            record = TaskRecord.of(task)
        if post is not None and post.id is not None:
            notices.append(HoldNotice(post.id, PostKind.HOLD_RELEASE, record, released))
    return notices


def task_for_notice(db: Database, *, task_id: int) -> TaskRecord | None:
    """The task a claimed notice is about (to rebuild its message on a retry)."""
    with db.read() as session:
        task = session.get(Task, task_id)
        return TaskRecord.of(task) if task is not None else None


def released_amount(db: Database, *, workspace_id: str, task_id: int) -> int:
    """What a stale release gave back (from its ledger entry), for a retried message."""
    with db.read() as session:
        return hold_store.released_for_task(session, workspace_id=workspace_id, task_id=task_id)
