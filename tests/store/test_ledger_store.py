"""The ledger on a real database (SQLite and PostgreSQL): idempotency, renewal, running figure == sum."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.errors import UserFacingError
from bot.domain.ledger import Balance, EntryKind
from bot.services.balances.team_balances import current_balance, open_team_cycle
from bot.services.tasks.holds import ShortfallError
from bot.store import ledger_checks, ledger_reads, ledger_writes
from bot.store.db import Database
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task
from tests.services.production import cancel, finish, number_of, run_for

WORKSPACE = "T0TEST"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def entries(db: Database, workspace: str = WORKSPACE) -> list[LedgerEntry]:
    with db.read() as session:
        return list(
            session.exec(
                select(LedgerEntry).where(LedgerEntry.workspace_id == workspace).order_by(LedgerEntry.id)
            ).all()
        )  # type: ignore[arg-type]


def assert_running_equals_sum(db: Database, workspace: str = WORKSPACE, team: str = "design") -> Balance:
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=workspace, team=team)
        assert row is not None
        truth = ledger_reads.ledger_sum(session, workspace_id=workspace, team=team)
        assert ledger_reads.as_balance(row) == truth
        assert row.entry_count == len(entries(db, workspace))
        return truth


def test_a_new_team_gets_its_plan_and_opening_extra_credits(database: Database, config: CreditsConfig) -> None:
    snapshot = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)
    assert snapshot.balance == Balance(plan=5000, extra=500, held=0, spent=0)
    assert snapshot.cycle_start.isoformat() == "2026-11-01"
    assert [e.kind for e in entries(database)] == ["grant", "extra"]
    assert assert_running_equals_sum(database) == snapshot.balance


def test_the_same_idempotency_key_is_written_once(database: Database, config: CreditsConfig) -> None:
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)

    def hold(key: str) -> tuple[bool, Balance]:
        with database.write() as session:
            row = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW)
            written = ledger_writes.append_entry(
                session,
                row=row,
                kind=EntryKind.HOLD,
                delta=rules.place_hold(ledger_reads.as_balance(row), 100),
                idempotency_key=key,
                now=NOW,
                local_day=NOW.date(),
                member="U0ALICE",
                tool="image",
            )
            return written, ledger_reads.as_balance(row)

    first, _ = hold("hold:1")
    again, balance = hold("hold:1")
    assert first and not again
    assert balance.held == 100
    assert [e.kind for e in entries(database)].count("hold") == 1
    assert_running_equals_sum(database)


def test_a_task_is_held_and_charged_once_however_often_it_is_reported(
    database: Database, config: CreditsConfig
) -> None:
    number = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=100, note="once", now=NOW))
    again = run_for(database, config, workspace_id=WORKSPACE, credits=100, note="once", now=NOW)
    assert again.kind == "duplicate" and number_of(again) == number  # the same run a moment later reserves nothing
    finish(database, config, workspace_id=WORKSPACE, number=number, cost=90, now=NOW)
    with pytest.raises(UserFacingError, match="already done"):
        finish(database, config, workspace_id=WORKSPACE, number=number, cost=90, now=NOW)
    kinds = [e.kind for e in entries(database)]
    assert kinds.count("hold") == 1 and kinds.count("capture") == 1
    assert assert_running_equals_sum(database) == Balance(plan=4910, extra=500, held=0, spent=90)


def test_capture_spends_plan_first_then_extra_and_feeds_daily_spend(database: Database, config: CreditsConfig) -> None:
    number = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=5200, note="big", now=NOW))
    result = finish(database, config, workspace_id=WORKSPACE, number=number, cost=5100, now=NOW)
    assert (result.kind, result.charged, result.released) == ("captured", 5100, 100)
    with database.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None and ledger_reads.as_balance(row) == Balance(plan=0, extra=400, held=0, spent=5100)
        day = NOW.date()
        assert (
            ledger_reads.spent_between(session, workspace_id=WORKSPACE, team="design", first_day=day, last_day=day)
            == 5100
        )
    assert_running_equals_sum(database)


def test_a_hold_the_team_cannot_afford_writes_nothing(database: Database, config: CreditsConfig) -> None:
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)
    before = len(entries(database))
    with pytest.raises(ShortfallError) as refused:
        run_for(database, config, workspace_id=WORKSPACE, credits=6000, note="huge", now=NOW)
    assert refused.value.shortfall == 500
    assert len(entries(database)) == before


def test_renewal_lapses_unreserved_plan_credits_once_even_after_downtime(
    database: Database, config: CreditsConfig
) -> None:
    run_for(database, config, workspace_id=WORKSPACE, credits=300, note="open", now=NOW)
    later = NOW + timedelta(days=70)  # the bot was down across two renewals
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda _: current_balance(database, config, workspace_id=WORKSPACE, team="design", now=later), range(4)
            )
        )
    kinds = [e.kind for e in entries(database)]
    assert kinds.count("lapse") == 1 and kinds.count("grant") == 2
    balance = assert_running_equals_sum(database)
    # 300 plan credits back the open hold and are kept; the new allowance is added to them.
    assert balance == Balance(plan=5300, extra=500, held=300, spent=0)
    assert balance.available == 5500


def test_an_overdrawn_team_repays_its_deficit_from_the_next_grant_and_stays_whole_after(
    database: Database, config: CreditsConfig
) -> None:
    # Issue 24: a task reported at 6,210 against 5,500 left the team 710 short; the December grant
    # must repay it, so spending what December leaves ends the cycle at zero and January is whole.
    number = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=100, note="big", now=NOW))
    finish(database, config, workspace_id=WORKSPACE, number=number, cost=6210, now=NOW)
    assert assert_running_equals_sum(database) == Balance(plan=0, extra=-710, held=0, spent=6210)
    december = NOW + timedelta(days=10)
    assert current_balance(database, config, workspace_id=WORKSPACE, team="design", now=december).balance == Balance(
        plan=4290, extra=0, held=0, spent=0
    )
    number = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=4290, note="all", now=december))
    finish(database, config, workspace_id=WORKSPACE, number=number, cost=4290, now=december)
    january = december + timedelta(days=31)
    snapshot = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=january)
    assert snapshot.balance == Balance(plan=5000, extra=0, held=0, spent=0)
    assert snapshot.balance.available == 5000  # not 4,290 again: the debt was paid once, in December
    february = january + timedelta(days=31)
    assert current_balance(database, config, workspace_id=WORKSPACE, team="design", now=february).balance == Balance(
        plan=5000, extra=0, held=0, spent=0
    )
    grants = [(e.plan_delta, e.extra_delta) for e in entries(database) if e.kind == "grant"]
    assert grants == [(5000, 0), (4290, 710), (5000, 0), (5000, 0)]
    assert_running_equals_sum(database)


def test_concurrent_holds_never_reserve_more_than_the_team_has(database: Database, config: CreditsConfig) -> None:
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)

    def try_hold(number: int) -> bool:
        try:
            run_for(database, config, workspace_id=WORKSPACE, credits=1000, note=f"batch {number}", now=NOW)
        except ShortfallError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(try_hold, range(12)))
    assert sum(outcomes) == 5
    balance = assert_running_equals_sum(database)
    assert balance.held == 5000 and balance.available == 500


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["hold", "capture", "release", "replay"]), st.integers(min_value=1, max_value=2500)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_random_operations_keep_the_running_figure_equal_to_the_ledger(
    database: Database, config: CreditsConfig, operations: list[tuple[str, int]]
) -> None:
    """``run``, ``done`` (at most the hold), ``cancel`` and a repeated ``run``, in any order."""
    workspace = f"T{uuid.uuid4().hex[:10].upper()}"
    open_holds: list[tuple[int, str, int]] = []  # task number, note, credits held
    for step, (operation, amount) in enumerate(operations):
        try:
            if operation == "hold":
                note = f"step {step}"
                result = run_for(database, config, workspace_id=workspace, credits=amount, note=note, now=NOW)
                open_holds.append((number_of(result), note, amount))
            elif operation == "capture" and open_holds:
                number, _, held = open_holds.pop()
                finish(database, config, workspace_id=workspace, number=number, cost=min(amount, held), now=NOW)
            elif operation == "release" and open_holds:
                number, _, held = open_holds.pop(0)
                assert cancel(database, config, workspace_id=workspace, number=number, now=NOW) == held
            elif operation == "replay" and open_holds:
                number, note, held = open_holds[-1]
                replay = run_for(database, config, workspace_id=workspace, credits=held, note=note, now=NOW)
                assert replay.kind == "duplicate" and number_of(replay) == number
        except ShortfallError:
            pass
        if open_holds or operation == "hold":
            balance = assert_running_equals_sum(database, workspace)
            assert balance.available >= 0
            assert balance.held == sum(held for _, _, held in open_holds)


def test_check_command_finds_no_difference(database: Database, config: CreditsConfig) -> None:
    run_for(database, config, workspace_id=WORKSPACE, credits=10, note="x", now=NOW)
    with database.read() as session:
        assert ledger_checks.check_running_balances(session) == []
        assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 3


def test_open_team_cycle_needs_the_write_lock_only_once_per_cycle(database: Database, config: CreditsConfig) -> None:
    with database.write() as session:
        row = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW)
        assert row.entry_count == 2
    with database.write() as session:
        again = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW + timedelta(days=1))
        assert again.entry_count == 2


def _hold_with(database: Database, config: CreditsConfig, key: str, amount: int, member: str) -> bool:
    with database.write() as session:
        row = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW)
        return ledger_writes.append_entry(
            session,
            row=row,
            kind=EntryKind.HOLD,
            delta=rules.place_hold(ledger_reads.as_balance(row), amount),
            idempotency_key=key,
            now=NOW,
            local_day=NOW.date(),
            member=member,
            tool="image",
        )


@pytest.mark.parametrize(("amount", "member"), [(101, "U0ALICE"), (100, "U0BOB")])
def test_a_reused_key_with_other_content_is_a_conflict_not_a_no_op(
    database: Database, config: CreditsConfig, amount: int, member: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert _hold_with(database, config, "hold:same", 100, "U0ALICE")
    assert not _hold_with(database, config, "hold:same", 100, "U0ALICE")  # a retry: the original outcome
    before = assert_running_equals_sum(database)
    with pytest.raises(ledger_writes.IdempotencyConflictError, match="hold:same"):
        _hold_with(database, config, "hold:same", amount, member)
    assert "idempotency conflict on hold:same" in caplog.text
    assert assert_running_equals_sum(database) == before


def test_check_task_holds_finds_a_task_whose_holds_do_not_add_up(database: Database, config: CreditsConfig) -> None:
    number = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=40, note="kept", now=NOW))
    finished = number_of(run_for(database, config, workspace_id=WORKSPACE, credits=30, note="done", now=NOW))
    finish(database, config, workspace_id=WORKSPACE, number=finished, cost=35, now=NOW)
    with database.read() as session:
        assert ledger_checks.check_task_holds(session) == []
    with database.write() as session:  # tasks are not append-only: damage them as a bug would
        for task in session.exec(select(Task)).all():
            if task.number == number:
                task.held = 10
            else:
                task.actual_cost = 99
            session.add(task)
    with database.read() as session:
        problems = ledger_checks.check_task_holds(session)
    assert len(problems) == 2
    assert f"task #{number} (held): holds 10 but its entries hold 40" in problems[0] + problems[1]
    assert f"task #{finished}: cost 99 but 1 capture(s) of 35" in problems[0] + problems[1]
