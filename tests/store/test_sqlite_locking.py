"""SQLite specifics: WAL, a busy timeout, and write transactions that take the lock up front."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.credits_file import load_config
from bot.services.balances.team_balances import current_balance
from bot.services.tasks.holds import ShortfallError
from bot.store import ledger_reads
from bot.store.db import SQLITE_BUSY_TIMEOUT_MS, Database
from bot.store.tables.tasks import Task
from tests.services.production import run_for

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_wal_mode_and_busy_timeout(sqlite_db: Database) -> None:
    with sqlite_db.read() as session:
        assert session.exec(text("PRAGMA journal_mode")).one()[0] == "wal"  # type: ignore[call-overload]
        assert session.exec(text("PRAGMA busy_timeout")).one()[0] == SQLITE_BUSY_TIMEOUT_MS  # type: ignore[call-overload]


def test_a_write_transaction_holds_the_write_lock_before_its_first_statement(
    sqlite_db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "ledger.db", timeout=0.05, isolation_level=None)
    with sqlite_db.write() as session:
        session.connection()  # begins the transaction; nothing read or written yet
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # free again once the write transaction ended
    other.execute("ROLLBACK")
    other.close()


def test_a_read_transaction_does_not_block_writers(sqlite_db: Database, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "ledger.db", timeout=0.05, isolation_level=None)
    with sqlite_db.read() as session:
        session.exec(text("SELECT count(*) FROM ledger_entry")).one()  # type: ignore[call-overload]
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    other.close()


def _run_in_another_process(url: str, worker: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Three ``/credits run`` of 700 credits each, through the tasks service as the bot runs them."""
    db = Database(url)
    config = load_config(None)
    granted = 0
    for attempt in range(3):
        try:
            run_for(db, config, workspace_id="T0PROC", credits=700, note=f"worker {worker} try {attempt}", now=NOW)
            granted += 1
        except ShortfallError:
            pass
    db.dispose()
    results.put(granted)


def test_processes_holding_at_once_never_overspend(sqlite_db: Database) -> None:
    config = load_config(None)
    current_balance(sqlite_db, config, workspace_id="T0PROC", team="design", now=NOW)
    spawn = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = spawn.Queue()  # type: ignore[type-arg]
    workers = [spawn.Process(target=_run_in_another_process, args=(sqlite_db.url, n, results)) for n in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    granted = sum(results.get(timeout=5) for _ in workers)
    assert granted == 5500 // 700  # 7 of the 12 attempts fit
    with sqlite_db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id="T0PROC", team="design")
        assert row is not None and row.held == 7 * 700
        held_by_tasks = session.exec(
            select(func.coalesce(func.sum(Task.held), 0)).where(Task.workspace_id == "T0PROC")
        ).one()
        assert held_by_tasks == 7 * 700  # every hold belongs to a task the bot created
        assert ledger_reads.ledger_sum(session, workspace_id="T0PROC", team="design") == ledger_reads.as_balance(row)
