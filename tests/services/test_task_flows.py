"""Tasks and approvals at the service level, on both databases: races, and a stateful property test."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.credits_file import CreditsConfig, load_config
from bot.domain.commands import TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.approvals import decisions as approvals
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import run_and_done as tasks
from bot.services.workspace.members import Member
from bot.store import ledger_reads
from bot.store.db import Database

WORKSPACE = "T0FLOW"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)
CAROL = Member("U0CAROL", "design", "admin", True)


def run(
    db: Database,
    config: CreditsConfig,
    member: Member,
    variants: int,
    note: str,
    now: datetime = NOW,
    quality: str = "ultra",
) -> tasks.RunResult:
    command = RunCommand(TaskRequest(tool="image", quality=quality, variants=variants), note=note)
    return tasks.start_task(db, config, workspace_id=WORKSPACE, member=member, command=command, now=now)


def figures(db: Database) -> tuple[int, int]:
    """(held, available), after checking the running balance against the ledger."""
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        assert ledger_reads.as_balance(row) == ledger_reads.ledger_sum(session, workspace_id=WORKSPACE, team="design")
        balance = ledger_reads.as_balance(row)
        return balance.held, balance.available


def test_concurrent_runs_never_spend_more_than_the_team_has(database: Database, config: CreditsConfig) -> None:
    # Each admin run of 20 ultra variants costs 320 + 80 = 400; 5,500 available fits 13 of them.
    def attempt(number: int) -> bool:
        try:
            run(database, config, CAROL, 20, f"batch {number}")
        except UserFacingError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert sum(outcomes) == 13
    held, available = figures(database)
    assert held == 13 * 400 and available == 300


def test_approve_racing_deny_and_the_sweep_settles_once(database: Database, config: CreditsConfig) -> None:
    for round_number in range(4):
        result = run(database, config, ALICE, 4, f"race {round_number}")
        assert result.approval is not None
        approval_id = result.approval.id
        start = threading.Barrier(3)
        late = NOW + timedelta(hours=24)  # exactly at expiry: the sweep may expire it, a click may not approve

        def approve(start: threading.Barrier = start, approval_id: int = approval_id, late: datetime = late) -> str:
            start.wait()
            return approvals.decide(
                database,
                config,
                workspace_id=WORKSPACE,
                approval_id=approval_id,
                is_workspace_admin=False,
                decider="U0BOB",
                approve=True,
                note=None,
                now=late - timedelta(seconds=1),
            ).outcome

        def deny(start: threading.Barrier = start, approval_id: int = approval_id, late: datetime = late) -> str:
            start.wait()
            return approvals.decide(
                database,
                config,
                workspace_id=WORKSPACE,
                approval_id=approval_id,
                is_workspace_admin=False,
                decider="U0CAROL",
                approve=False,
                note="no",
                now=late - timedelta(seconds=1),
            ).outcome

        def sweep(start: threading.Barrier = start, late: datetime = late) -> str:
            start.wait()
            return "expired_now" if approvals.expire_due(database, lambda _: config, now=late) else "already"

        with ThreadPoolExecutor(max_workers=3) as pool:
            outcomes = [f.result() for f in [pool.submit(approve), pool.submit(deny), pool.submit(sweep)]]
        assert sorted(outcomes).count("already") == 2, outcomes
        view, task = approvals.get_approval(database, approval_id, workspace_id=WORKSPACE)
        assert view.status in ("approved", "denied", "expired")
        assert task.held == (80 if view.status == "approved" else 0)
        figures(database)


def test_weekly_use_restarts_on_monday_in_the_teams_timezone(database: Database, config: CreditsConfig) -> None:
    sunday_evening = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # 23:30 Sunday in Berlin
    run(database, config, ALICE, 5, "sunday", now=sunday_evening, quality="high")  # 50, within limits
    monday_berlin = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 00:30 Monday in Berlin, still Sunday in UTC
    with database.read() as session:
        from bot.services.quoting.quotes import member_week_usage

        assert member_week_usage(session, config, workspace_id=WORKSPACE, member=ALICE, now=sunday_evening) == 50
        assert member_week_usage(session, config, workspace_id=WORKSPACE, member=ALICE, now=monday_berlin) == 0


class TaskLifecycle(RuleBasedStateMachine):
    """Random run / approve / deny / expire / done / cancel / replay: no credit lost or counted twice."""

    def __init__(self) -> None:
        super().__init__()
        self.db: Database = DATABASE["db"]
        self.config = load_config(None)
        self.workspace = f"T{id(self) % 10**9:09d}{len(DATABASE['seen'])}"
        DATABASE["seen"].append(self.workspace)
        self.now = NOW
        self.count = 0

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=3)  # past the duplicate window
        return self.now

    def _numbers(self) -> list[int]:
        with self.db.read() as session:
            from bot.store.tasks import open_tasks

            return [
                t.number or 0
                for t in open_tasks(session, workspace_id=self.workspace, team="design", requester=ALICE.user_id)
            ]

    @rule(variants=st.integers(1, 30), quality=st.sampled_from(["draft", "high", "ultra"]))
    def run_task(self, variants: int, quality: str) -> None:
        self.count += 1
        command = RunCommand(TaskRequest(tool="image", quality=quality, variants=variants), note=f"n{self.count}")
        with contextlib.suppress(UserFacingError):
            tasks.start_task(
                self.db, self.config, workspace_id=self.workspace, member=ALICE, command=command, now=self._tick()
            )

    @rule(approve=st.booleans(), pick=st.integers(0, 50))
    def decide(self, approve: bool, pick: int) -> None:
        pending = self._pending()
        if pending:
            approvals.decide(
                self.db,
                self.config,
                workspace_id=self.workspace,
                is_workspace_admin=False,
                approval_id=pending[pick % len(pending)],
                decider="U0CAROL",
                approve=approve,
                note=None,
                now=self._tick(),
            )

    @rule()
    def expire(self) -> None:
        self.now += timedelta(hours=25)
        approvals.expire_due(self.db, lambda _: self.config, now=self.now)

    @rule(pick=st.integers(0, 50), retries=st.integers(0, 3), cost=st.one_of(st.none(), st.integers(0, 600)))
    def done(self, pick: int, retries: int, cost: int | None) -> None:
        numbers = self._numbers()
        if numbers:
            command = DoneCommand(number=numbers[pick % len(numbers)], retries=None if cost else retries, cost=cost)
            with contextlib.suppress(UserFacingError):
                tasks.finish_task(
                    self.db, self.config, workspace_id=self.workspace, member=ALICE, command=command, now=self._tick()
                )

    @rule(pick=st.integers(0, 50))
    def cancel(self, pick: int) -> None:
        numbers = self._numbers()
        if numbers:
            with contextlib.suppress(UserFacingError):
                task_cancel.cancel_task(
                    self.db,
                    self.config,
                    workspace_id=self.workspace,
                    member=ALICE,
                    command=CancelCommand(number=numbers[pick % len(numbers)]),
                    now=self._tick(),
                )

    @rule(pick=st.integers(0, 50))
    def replay_decision(self, pick: int) -> None:
        with self.db.read() as session:
            from sqlmodel import select

            from bot.store.tables.tasks import Approval

            settled = [
                a.id
                for a in session.exec(
                    select(Approval).where(Approval.workspace_id == self.workspace, Approval.status != "pending")
                ).all()
            ]
        if settled:
            outcome = approvals.decide(
                self.db,
                self.config,
                workspace_id=self.workspace,
                is_workspace_admin=False,
                approval_id=settled[pick % len(settled)] or 0,
                decider="U0BOB",
                approve=True,
                note=None,
                now=self._tick(),
            )
            assert outcome.outcome == "already"

    def _pending(self) -> list[int]:
        with self.db.read() as session:
            from sqlmodel import select

            from bot.store.tables.tasks import Approval

            return [
                a.id or 0
                for a in session.exec(
                    select(Approval).where(Approval.workspace_id == self.workspace, Approval.status == "pending")
                ).all()
            ]

    @invariant()
    def ledger_matches_and_nothing_is_overspent(self) -> None:
        with self.db.read() as session:
            row = ledger_reads.get_balance_row(session, workspace_id=self.workspace, team="design")
            if row is None:
                return
            balance = ledger_reads.as_balance(row)
            assert balance == ledger_reads.ledger_sum(session, workspace_id=self.workspace, team="design")
            assert balance.available >= 0 and balance.held >= 0
            from sqlalchemy import func
            from sqlmodel import select

            from bot.store.tables.tasks import Task

            task_held = session.exec(
                select(func.coalesce(func.sum(Task.held), 0)).where(Task.workspace_id == self.workspace)
            ).one()
            assert int(task_held) == balance.held


DATABASE: dict[str, object] = {"seen": []}


def test_random_task_lifecycles_keep_the_ledger_whole(database: Database) -> None:
    DATABASE["db"] = database
    TaskLifecycle.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    TaskLifecycle.TestCase().runTest()


@pytest.fixture(autouse=True)
def _forget_database() -> None:
    DATABASE.pop("db", None)
