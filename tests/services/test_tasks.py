"""The tasks service on both databases: what it returns (ids, this week's use) and its one capture/release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus, TaskStatus
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.approvals import decisions as approvals
from bot.services.approvals import posts as approval_posts
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import holds as task_ledger
from bot.services.tasks import run_and_done as tasks
from bot.services.workspace.members import Member
from bot.slack.blocks.errors import user_error_text
from bot.store import ledger_reads
from bot.store.db import Database
from bot.store.tables.tasks import Approval, Task

WORKSPACE = "T0TASKS"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)
BOB = Member("U0BOB", "design", "lead", False)


def run(db: Database, config: CreditsConfig, quality: str, variants: int, note: str) -> tasks.RunResult:
    command = RunCommand(TaskRequest(tool="image", quality=quality, variants=variants), note=note)
    return tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=NOW)


def done(db: Database, config: CreditsConfig, number: int, cost: int) -> tasks.FinishResult:
    command = DoneCommand(number=number, cost=cost)
    return tasks.finish_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=NOW)


def held_and_spent(db: Database) -> tuple[int, int]:
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        assert ledger_reads.as_balance(row) == ledger_reads.ledger_sum(session, workspace_id=WORKSPACE, team="design")
        return row.held, row.spent


def test_run_reports_the_weekly_use_it_checked(database: Database, config: CreditsConfig) -> None:
    first = run(database, config, "high", 4, "first")  # 32 + 8 = 40
    second = run(database, config, "high", 4, "second")
    assert (first.kind, first.week_spend, first.report.limits.weekly_used) == ("reserved", 0, 0)
    assert (second.week_spend, second.report.limits.weekly_used) == (40, 40)
    assert second.report.balance.held == 40  # the balance it checked, before its own hold


def test_done_returns_the_members_use_this_week_after_it(database: Database, config: CreditsConfig) -> None:
    first = run(database, config, "high", 4, "charged")
    assert first.task is not None
    captured = done(database, config, first.task.number, 30)
    assert (captured.kind, captured.charged, captured.released, captured.week_spend) == ("captured", 30, 10, 30)
    assert captured.flag is None
    second = run(database, config, "high", 4, "overrun")
    assert second.task is not None
    overrun = done(database, config, second.task.number, 120)  # 80 over the 40 held: over the per-task limit
    assert (overrun.kind, overrun.charged, overrun.released) == ("captured", 120, 0)
    assert overrun.week_spend == 30 + 120
    assert held_and_spent(database) == (0, 150)


def test_an_overrun_is_charged_at_once_and_flagged_never_held_for_approval(
    database: Database, config: CreditsConfig
) -> None:
    """Changed on purpose (issue 8): an overrun beyond limits used to wait for approval; now it is a flag."""
    started = run(database, config, "high", 4, "twice over")
    assert started.task is not None
    result = done(database, config, started.task.number, 120)
    assert result.task.status is TaskStatus.DONE and result.task.actual_cost == 120
    assert result.flag is not None
    assert (result.flag.member, result.flag.quoted, result.flag.held, result.flag.cost) == ("U0ALICE", 40, 40, 120)
    assert result.flag.broken == ("over the per-task limit of 50 by 70 credits",)
    assert result.flag.channel == "C0DESIGN" and result.flag.thread_ts is None
    assert held_and_spent(database) == (0, 120)
    with database.read() as session:
        assert session.exec(select(Approval)).first() is None  # charged at once: nothing waits for approval


def test_an_approved_task_that_costs_more_than_approved_is_flagged_in_its_thread(
    database: Database, config: CreditsConfig
) -> None:
    started = run(database, config, "ultra", 4, "big")  # 80: over the per-task limit, waits for approval
    assert started.task is not None and started.approval is not None
    approval_posts.attach_message(
        database, approval_id=started.approval.id, channel_id="C0DESIGN", message_ts="1.000100"
    )
    approvals.decide(
        database,
        config,
        workspace_id=WORKSPACE,
        approval_id=started.approval.id,
        decider="U0BOB",
        is_workspace_admin=False,
        approve=True,
        note=None,
        now=NOW + timedelta(minutes=1),
    )
    result = done(database, config, started.task.number, 100)
    assert result.flag is not None and result.flag.thread_ts == "1.000100"
    assert "20 above the 80 credits approved" in result.flag.broken
    assert held_and_spent(database) == (0, 100)


def test_services_name_people_by_id_and_the_slack_edge_mentions_them(database: Database, config: CreditsConfig) -> None:
    with pytest.raises(task_ledger.ShortfallError) as short:
        run(database, config, "ultra", 500, "too big")  # 10,000 credits, 5,500 available
    assert short.value.admins == ("U0CAROL",) and "<@" not in short.value.message
    assert "Team design is 4,500 credits short" in short.value.message
    assert "<@U0CAROL> can add extra credits" in user_error_text(short.value)

    started = run(database, config, "high", 4, "mine")
    assert started.task is not None
    with pytest.raises(tasks.NotYourTaskError) as not_yours:
        task_cancel.cancel_task(
            database,
            config,
            workspace_id=WORKSPACE,
            member=BOB,
            command=CancelCommand(number=started.task.number),
            now=NOW,
        )
    assert not_yours.value.owner == "U0ALICE" and "<@" not in not_yours.value.message
    assert "is <@U0ALICE>'s; only they or an admin can cancel it" in user_error_text(not_yours.value)


def test_statuses_read_back_from_the_database_are_the_enums(database: Database, config: CreditsConfig) -> None:
    started = run(database, config, "ultra", 4, "over the limit")  # 80: waits for approval
    assert started.task is not None and started.approval is not None
    with database.read() as session:
        task = session.get(Task, started.task.id)
        approval = session.get(Approval, started.approval.id)
        assert task is not None and approval is not None
        assert task.status is TaskStatus.PENDING and task.status == "pending"
        assert approval.status is ApprovalStatus.PENDING and approval.kind is ApprovalKind.TASK
        by_enum = session.exec(select(Task).where(Task.status == TaskStatus.PENDING)).all()
        by_text = session.exec(select(Task).where(Task.status == "pending")).all()
        assert [t.id for t in by_enum] == [t.id for t in by_text] == [task.id]


def test_closing_last_weeks_holds_never_lowers_this_weeks_use(database: Database, config: CreditsConfig) -> None:
    """Audit finding: cancelling (or reporting below its hold) a task reserved before Monday gave this week room.

    Alice (creator: 300 a week) reserves 6 × 40 on Sunday; on Monday she cancels four, reports one for less than
    its hold (nothing counts this week) and one for 100 (its 60 above the hold count this week, when charged).
    So six more runs of 40 fit, and the seventh needs approval.
    """
    sunday, monday = datetime(2026, 11, 22, 20, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def run_at(at: datetime, note: str) -> tasks.RunResult:
        command = RunCommand(TaskRequest(tool="image", quality="high", variants=4), note=note)
        return tasks.start_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=at)

    old = [run_at(sunday, f"old {i}") for i in range(6)]
    assert all(r.kind == "reserved" and r.task is not None for r in old)
    numbers = [r.task.number for r in old if r.task is not None]
    for number in numbers[:4]:
        task_cancel.cancel_task(
            database, config, workspace_id=WORKSPACE, member=ALICE, command=CancelCommand(number=number), now=monday
        )
    for number, cost in zip(numbers[4:], (10, 100), strict=True):
        command = DoneCommand(number=number, cost=cost)
        tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=monday)
    new = [run_at(monday + timedelta(minutes=5 * i), f"new {i}") for i in range(7)]
    assert [r.week_spend for r in new[:2]] == [60, 100]
    assert [r.kind for r in new] == ["reserved"] * 6 + ["approval_needed"]
