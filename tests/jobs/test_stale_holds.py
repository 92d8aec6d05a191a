"""Stale holds: a reminder after a day and a release after a week, each exactly once, across restarts and processes."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.domain.lifecycle import TaskStatus
from bot.domain.task_commands import DoneCommand, parse_run
from bot.services.tasks import run_and_done as task_service
from bot.services.workspace.members import Member
from bot.store import ledger_checks, ledger_reads
from bot.store.db import Database
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task
from bot.store.tables.workspace import AuditEntry
from tests.e2e.conftest import WORKSPACE
from tests.jobs.conftest import SLOT, Harness

ALICE = Member(user_id="U0ALICE", team="design", role="creator", is_bot_admin=False)


def run_task(harness: Harness, text: str = "run image quality=standard variants=4 banner") -> Task:
    """Alice reserves a task now (16 credits + 4 expected retries = 20, within her limits)."""
    result = task_service.start_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=ALICE,
        command=parse_run(text[4:]),
        now=harness.clock(),
    )
    assert result.kind == "reserved" and result.task is not None
    return task_of(harness, result.task.id)


def task_of(harness: Harness, task_id: int) -> Task:
    with harness.db.read() as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def dms(harness: Harness, event: str) -> list[dict[str, Any]]:
    """Alice's direct messages of one kind (reminder or release), found by their metadata."""
    return [
        m
        for m in harness.standin.messages("U0ALICE")
        if (m.get("metadata") or {}).get("event_type") == f"keter_credits_hold_{event}"
    ]


def audit(harness: Harness) -> list[AuditEntry]:
    with harness.db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def held(harness: Harness) -> int:
    with harness.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        return row.held


def assert_ledger_consistent(harness: Harness) -> None:
    with harness.db.read() as session:
        assert ledger_checks.check_running_balances(session) == []


def test_a_reminder_after_a_day_and_a_release_after_a_week_each_once_across_restarts(harness: Harness) -> None:
    start = SLOT - timedelta(days=8)
    harness.clock.now = start
    task = run_task(harness)
    assert held(harness) == 20
    harness.runner().run_once()
    harness.clock.now = start + timedelta(hours=23, minutes=59)
    harness.runner().run_once()
    assert dms(harness, "reminder") == []

    harness.clock.now = start + timedelta(hours=24)
    first = harness.runner()
    first.run_once()
    first.run_once()
    [reminder] = dms(harness, "reminder")
    buttons = [e["action_id"] for b in reminder["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["hold_done", "hold_cost", "hold_cancel"]
    assert "still holds *20 credits*" in json.dumps(reminder["blocks"])
    harness.clock.advance(hours=1)
    harness.runner().run_once()  # a restart: a new runner (new process name) on the same database
    assert len(dms(harness, "reminder")) == 1

    harness.clock.now = start + timedelta(days=7) - timedelta(minutes=1)
    harness.runner().run_once()
    assert dms(harness, "release") == [] and held(harness) == 20
    harness.clock.now = start + timedelta(days=7)
    harness.runner().run_once()
    harness.runner().run_once()
    [release] = dms(harness, "release")
    assert "its *20 credits* were released" in json.dumps(release["blocks"])
    assert held(harness) == 0
    assert task_of(harness, int(task.id or 0)).status == TaskStatus.RELEASED
    assert [(a.action, a.actor, a.team, a.target) for a in audit(harness)] == [
        ("release_stale", "system", "design", f"task #{task.number}")
    ]
    assert len(dms(harness, "reminder")) == 1
    assert_ledger_consistent(harness)

    harness.clock.now = SLOT  # the digest of that week says so
    harness.runner().run_once()
    digest = harness.digests()[-1]
    assert "1 task released unreported*: 20 credits" in json.dumps(digest["blocks"])


def test_two_processes_at_once_remind_once_and_release_once(harness: Harness) -> None:
    start = harness.clock()
    task = run_task(harness)
    other_db = Database(harness.db.url)
    errors: list[BaseException] = []

    def both() -> None:
        runners = [harness.runner(), harness.runner(db=other_db)]
        barrier = threading.Barrier(len(runners))

        def run(runner: Any) -> None:
            try:
                barrier.wait()
                runner.run_once()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(r,)) for r in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    harness.clock.now = start + timedelta(hours=25)
    both()
    harness.clock.now = start + timedelta(days=7, hours=1)
    both()
    other_db.dispose()
    assert not errors
    assert len(dms(harness, "reminder")) == 1 and len(dms(harness, "release")) == 1
    with harness.db.read() as session:
        releases = session.exec(
            select(LedgerEntry).where(LedgerEntry.task_id == task.id, LedgerEntry.kind == "release")
        )
        assert [e.held_delta for e in releases] == [-20]
    assert held(harness) == 0
    assert_ledger_consistent(harness)


def test_a_task_reported_after_its_release_is_charged_all_the_same(harness: Harness) -> None:
    """A charge is a fact: ``done`` a week late is recorded from what the team has, not refused."""
    start = SLOT - timedelta(days=8)
    harness.clock.now = start
    task = run_task(harness)
    harness.clock.now = start + timedelta(days=7)
    harness.runner().run_once()
    [release] = dms(harness, "release")
    assert f"/credits done {task.number}` still records what it cost" in json.dumps(release["blocks"])
    assert held(harness) == 0
    harness.clock.advance(hours=2)
    result = task_service.finish_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=ALICE,
        command=DoneCommand(number=int(task.number or 0), retries=2),
        now=harness.clock(),
    )
    assert (result.charged, result.released, result.reported_late, result.flag) == (48, 0, True, None)
    assert task_of(harness, int(task.id or 0)).status == TaskStatus.DONE
    with harness.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and (row.held, row.spent) == (0, 48)
    assert_ledger_consistent(harness)


def test_a_task_reported_in_time_gets_no_reminder_and_keeps_its_charge(harness: Harness) -> None:
    start = harness.clock()
    task = run_task(harness)
    harness.clock.now = start + timedelta(hours=2)
    task_service.finish_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=ALICE,
        command=DoneCommand(number=int(task.number or 0), retries=1),
        now=harness.clock(),
    )
    for days in (1, 8):
        harness.clock.now = start + timedelta(days=days)
        harness.runner().run_once()
    assert dms(harness, "reminder") == [] and dms(harness, "release") == []
    assert task_of(harness, int(task.id or 0)).status == TaskStatus.DONE
    assert audit(harness) == []


def test_a_reminder_slack_refused_is_retried_and_sent_once(harness: Harness) -> None:
    start = harness.clock()
    run_task(harness)
    harness.clock.now = start + timedelta(hours=24, minutes=1)
    harness.standin.fail_next("chat.postMessage", error="fatal_error", status=200)
    harness.runner().run_once()
    assert dms(harness, "reminder") == []
    [post] = [p for p in harness.posts() if p.kind == "hold_reminder"]
    assert post.state == "failed"
    harness.clock.advance(minutes=2)
    harness.runner().run_once()
    harness.runner().run_once()
    assert len(dms(harness, "reminder")) == 1
    [post] = [p for p in harness.posts() if p.kind == "hold_reminder"]
    assert (post.state, post.attempts) == ("posted", 2)


def test_the_hold_settings_come_from_the_credits_file(harness: Harness) -> None:
    harness.config = harness.config.model_copy(
        update={"holds": harness.config.holds.model_copy(update={"remind_after_hours": 2, "release_after_days": 1})}
    )
    start = harness.clock()
    run_task(harness)
    harness.clock.now = start + timedelta(hours=2)
    harness.runner().run_once()
    assert len(dms(harness, "reminder")) == 1
    harness.clock.now = start + timedelta(days=1)
    harness.runner().run_once()
    assert len(dms(harness, "release")) == 1 and held(harness) == 0
