"""The quote's rollups (SQLite and PostgreSQL): after any sequence of writes they equal a recomputation.

``member_usage``, ``task_rollup`` and ``task_rollup_week`` are derived data kept in the transaction of
the write that moves them; the figures a quote reads from them must be exactly those the plain scans of the ledger and
the tasks give, and ``db check`` (``check_rollups``) must find nothing, also after the migration's
backfill.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import delete, func
from sqlmodel import col, select

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.estimates import FinishedShape, KeepHistory
from bot.domain.keter_charges import Charge
from bot.domain.lifecycle import TaskStatus
from bot.domain.pricing import RetryHistory
from bot.domain.task_commands import DoneCommand, RunCommand
from bot.services.charges import recording as charges
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import settling as charge_settling
from bot.services.workspace.members import Member
from bot.store import rollup_checks, rollups
from bot.store.db import Database, alembic_config
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.rollups import MemberUsage, TaskRollup, TaskRollupWeek
from bot.store.tables.tasks import Task
from tests.services.production import CAROL, cancel, finish, number_of, run_for

WORKSPACE = "T0ROLL"
NOW = datetime(2026, 11, 24, 10, 17, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)


def charge(charge_id: str, credits: int, reference: str | None, kind: str = "attempt", **extra: Any) -> Charge:
    data: dict[str, Any] = {
        "id": charge_id,
        "occurred_at": "2026-11-24T09:55:00Z",
        "team": "design",
        "user_email": "alice@studio.example",
        "tool": "image",
        "quality": "high",
        "variants": 4,
        "credits": credits,
        "kind": kind,
        "reference": reference,
    }
    return Charge.model_validate(data | extra)


def alice_runs(db: Database, config: CreditsConfig, now: datetime) -> int:
    command = RunCommand(TaskRequest(tool="image", quality="high", variants=4))
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=now)
    assert result.task is not None
    return result.task.number


def operations(db: Database, config: CreditsConfig) -> None:
    """Runs, reports (with and without ``kept=``), a cancel, charges that settle and re-cost tasks, a refund."""
    for day in range(4):  # over several UTC days and hours, so windows split inside rollup rows
        at = NOW - timedelta(days=day, hours=3 * day, minutes=7 * day)
        kept = run_for(db, config, workspace_id=WORKSPACE, credits=4, note=f"kept {day}", now=at)
        command = DoneCommand(number=number_of(kept), cost=4 + day, kept=1 + day % 2)
        tasks.finish_task(db, config, workspace_id=WORKSPACE, member=CAROL, command=command, now=at)
        plain = run_for(db, config, workspace_id=WORKSPACE, credits=3, note=f"plain {day}", now=at)
        finish(db, config, workspace_id=WORKSPACE, number=number_of(plain), cost=3, now=at + timedelta(minutes=40))
        dropped = run_for(db, config, workspace_id=WORKSPACE, credits=2, note=f"dropped {day}", now=at)
        cancel(db, config, workspace_id=WORKSPACE, number=number_of(dropped), now=at)
    settled = alice_runs(db, config, NOW)
    reported = alice_runs(db, config, NOW)
    done = DoneCommand(number=reported, cost=32)
    tasks.finish_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    emails = {"alice@studio.example": "U0ALICE"}
    batch = [
        charge("ch_1", 32, f"KC-{settled}"),
        charge("ch_2", 32, f"KC-{settled}", kind="retry", version_kept=2),
        charge("ch_3", 32, f"KC-{reported}"),
        charge("ch_4", 8, f"KC-{reported}"),  # more than reported: an adjustment re-costs the done task
        charge("ch_5", 5, None),  # unplanned: counts for Alice's week
        charge("ch_6", 5, None, kind="refund", refunds="ch_5"),
    ]
    charges.record_charges(db, config, workspace_id=WORKSPACE, charges=batch, now=NOW, lookup=emails.get)
    charge_settling.settle_quiet(db, config, workspace_id=WORKSPACE, now=NOW + timedelta(hours=2))


def scanned_history(db: Database, tool: str, since: datetime) -> rollups.ToolHistory:
    """The tool's history from the tasks themselves, as the quote read it before the rollup."""
    with db.read() as session:
        done = session.exec(
            select(Task).where(
                Task.workspace_id == WORKSPACE,
                Task.tool == tool,
                Task.status == TaskStatus.DONE,
                col(Task.finished_at) >= since,
            )
        ).all()
    shapes: Counter[tuple[str, int, int | None, int | None, int]] = Counter()
    keep: dict[str, list[int]] = {}
    for task in done:
        if task.actual_cost is not None:
            shapes[(task.quality, task.variants, task.duration_seconds, task.retries_used, task.actual_cost)] += 1
        if task.kept is not None:
            totals = keep.setdefault(task.quality, [0, 0, 0])
            totals[0] += 1
            totals[1] += task.variants * (1 + (task.retries_used or 0))
            totals[2] += task.kept
    return rollups.ToolHistory(
        RetryHistory(len(done), sum(task.retries_used or 0 for task in done)),
        [FinishedShape(*shape, tasks=n) for shape, n in shapes.items()],
        {quality: KeepHistory(*figures) for quality, figures in keep.items()},
    )


def scanned_usage(db: Database, member: str, since: datetime) -> int:
    with db.read() as session:
        total = session.exec(
            select(func.coalesce(func.sum(LedgerEntry.held_delta + LedgerEntry.spent_delta), 0)).where(
                LedgerEntry.workspace_id == WORKSPACE,
                LedgerEntry.member == member,
                col(LedgerEntry.created_at) >= since,
                col(LedgerEntry.kind).in_(rollups.USAGE_KINDS),
            )
        ).one()
    return int(total)


def assert_rollups_match(db: Database) -> None:
    with db.read() as session:
        assert rollup_checks.check_rollups(session) == []
        assert session.exec(select(func.count()).select_from(TaskRollup)).one() > 0
        assert session.exec(select(func.count()).select_from(TaskRollupWeek)).one() > 0
        assert session.exec(select(func.count()).select_from(MemberUsage)).one() > 0
    # Windows starting on, just after and inside rollup rows' hours and days.
    starts = [NOW - timedelta(days=n, hours=h, minutes=m) for n in (0, 1, 2, 5) for h in (0, 10) for m in (0, 17, 30)]
    for since in starts:
        for tool in ("image", "video"):
            with db.read() as session:
                rolled = rollups.tool_history(session, workspace_id=WORKSPACE, team="design", tool=tool, since=since)
            scanned = scanned_history(db, tool, since)
            assert rolled.retries == scanned.retries
            assert sorted(rolled.shapes, key=repr) == sorted(scanned.shapes, key=repr)
            assert rolled.keep == scanned.keep
        for member in ("U0ALICE", "U0CAROL"):
            with db.read() as session:
                used = rollups.usage_since(session, workspace_id=WORKSPACE, team="design", member=member, since=since)
            assert used == scanned_usage(db, member, since)


def test_rollups_equal_a_recomputation_after_runs_reports_cancels_and_charges(
    database: Database, config: CreditsConfig
) -> None:
    operations(database, config)
    with database.read() as session:
        assert session.exec(select(func.count()).select_from(Task).where(Task.kept != None)).one() >= 4  # noqa: E711
    assert_rollups_match(database)


def test_a_month_of_tasks_reads_the_same_from_weeks_days_and_hours_of_tasks(
    database: Database, config: CreditsConfig
) -> None:
    """Windows starting at any hour over six weeks: whole weeks plus or minus days plus or minus tasks."""
    for n in range(40):  # a task every 23 hours over 38 days: every weekday, every few hours of the day
        at = NOW - timedelta(hours=23 * n, minutes=11 * n)
        run = run_for(database, config, workspace_id=WORKSPACE, credits=1 + n % 3, note=f"task {n}", now=at)
        finish(database, config, workspace_id=WORKSPACE, number=number_of(run), cost=1 + n % 4, now=at)
    with database.read() as session:
        assert rollup_checks.check_rollups(session) == []
    for hours in range(0, 40 * 24, 7):
        since = NOW - timedelta(hours=hours, minutes=hours % 60)
        parts = rollups.window_parts(since)
        assert abs(parts["task_to"] - parts["task_from"]) <= timedelta(hours=12)
        assert abs(parts["day_to"] - parts["day_from"]) <= timedelta(days=3)
        assert parts["week_from"].weekday() == 0
        with database.read() as session:
            rolled = rollups.tool_history(session, workspace_id=WORKSPACE, team="design", tool="image", since=since)
        scanned = scanned_history(database, "image", since)
        assert rolled.retries == scanned.retries, since
        assert sorted(rolled.shapes, key=repr) == sorted(scanned.shapes, key=repr), since


def test_a_rolled_back_write_leaves_the_rollups_as_they_were(database: Database, config: CreditsConfig) -> None:
    operations(database, config)
    with database.read() as session:
        before = sorted(repr(row.model_dump()) for row in session.exec(select(TaskRollup)))
        weeks_before = sorted(repr(row.model_dump()) for row in session.exec(select(TaskRollupWeek)))
    try:
        with database.write() as session:
            task = session.exec(select(Task).where(Task.status == TaskStatus.DONE)).first()
            assert task is not None
            task.actual_cost = (task.actual_cost or 0) + 100
            session.add(task)
            session.flush()
            assert rollup_checks.check_rollups(session) == []  # the rollup moved inside the transaction…
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with database.read() as session:  # …and went back with it
        assert sorted(repr(row.model_dump()) for row in session.exec(select(TaskRollup))) == before
        assert sorted(repr(row.model_dump()) for row in session.exec(select(TaskRollupWeek))) == weeks_before
        assert rollup_checks.check_rollups(session) == []


def test_db_check_names_a_rollup_row_that_differs(database: Database, config: CreditsConfig) -> None:
    operations(database, config)
    with database.write() as session:
        session.connection().execute(delete(MemberUsage).where(col(MemberUsage.member) == "U0ALICE"))
    with database.read() as session:
        problems = rollup_checks.check_rollups(session)
    assert problems and all(p.startswith("member_usage T0ROLL/design/U0ALICE/") for p in problems)
    with database.write() as session:
        rollup_checks.rebuild_rollups(session)
    assert_rollups_match(database)


def test_the_migration_backfills_both_rollups_from_existing_rows(database: Database, config: CreditsConfig) -> None:
    operations(database, config)
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0010_budgets")
    database.upgrade()  # 0011 creates the tables and fills them from the ledger and the tasks
    assert_rollups_match(database)
