"""The ledger on a real database (SQLite and PostgreSQL): idempotency, renewal, running figure == sum."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from bot.config import CreditsConfig
from bot.domain.ledger import Balance, InsufficientCreditsError
from bot.services.balances import current_balance, open_team_cycle
from bot.services.holds import EntryContext, capture_hold, place_hold, release_hold
from bot.store import ledger as store
from bot.store.db import Database
from bot.store.models import LedgerEntry

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
        row = store.get_balance_row(session, workspace_id=workspace, team=team)
        assert row is not None
        truth = store.ledger_sum(session, workspace_id=workspace, team=team)
        assert store.as_balance(row) == truth
        assert row.entry_count == len(entries(db, workspace))
        return truth


def ctx(key: str, workspace: str = WORKSPACE) -> EntryContext:
    return EntryContext(workspace_id=workspace, team="design", idempotency_key=key, member="U0ALICE", tool="image")


def test_a_new_team_gets_its_plan_and_opening_extra_credits(database: Database, config: CreditsConfig) -> None:
    snapshot = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)
    assert snapshot.balance == Balance(plan=5000, extra=500, held=0, spent=0)
    assert snapshot.cycle_start.isoformat() == "2026-11-01"
    assert [e.kind for e in entries(database)] == ["grant", "extra"]
    assert assert_running_equals_sum(database) == snapshot.balance


def test_the_same_idempotency_key_is_written_once(database: Database, config: CreditsConfig) -> None:
    first = place_hold(database, config, ctx("hold:1"), amount=100, now=NOW)
    again = place_hold(database, config, ctx("hold:1"), amount=100, now=NOW)
    assert first.written and not again.written
    assert again.balance.held == 100
    assert [e.kind for e in entries(database)].count("hold") == 1
    assert_running_equals_sum(database)


def test_capture_spends_plan_first_then_extra_and_feeds_daily_spend(database: Database, config: CreditsConfig) -> None:
    place_hold(database, config, ctx("hold:big"), amount=5200, now=NOW)
    result = capture_hold(database, config, ctx("capture:big"), hold_amount=5200, cost=5100, now=NOW)
    assert result.balance == Balance(plan=0, extra=400, held=0, spent=5100)
    with database.read() as session:
        day = NOW.date()
        assert store.spent_between(session, workspace_id=WORKSPACE, team="design", first_day=day, last_day=day) == 5100
    assert_running_equals_sum(database)


def test_a_hold_the_team_cannot_afford_writes_nothing(database: Database, config: CreditsConfig) -> None:
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)
    before = len(entries(database))
    with pytest.raises(InsufficientCreditsError) as refused:
        place_hold(database, config, ctx("hold:huge"), amount=6000, now=NOW)
    assert refused.value.shortfall == 500
    assert len(entries(database)) == before


def test_renewal_lapses_unreserved_plan_credits_once_even_after_downtime(
    database: Database, config: CreditsConfig
) -> None:
    place_hold(database, config, ctx("hold:open"), amount=300, now=NOW)
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


def test_concurrent_holds_never_reserve_more_than_the_team_has(database: Database, config: CreditsConfig) -> None:
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW)

    def try_hold(number: int) -> bool:
        try:
            place_hold(database, config, ctx(f"hold:{number}"), amount=1000, now=NOW)
        except InsufficientCreditsError:
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
    workspace = f"T{uuid.uuid4().hex[:10].upper()}"
    open_holds: list[tuple[str, int]] = []
    for number, (operation, amount) in enumerate(operations):
        key = f"{operation}:{number}"
        try:
            if operation == "hold":
                place_hold(database, config, ctx(key, workspace), amount=amount, now=NOW)
                open_holds.append((key, amount))
            elif operation == "capture" and open_holds:
                _, held = open_holds.pop()
                capture_hold(database, config, ctx(key, workspace), hold_amount=held, cost=min(amount, held), now=NOW)
            elif operation == "release" and open_holds:
                _, held = open_holds.pop(0)
                release_hold(database, config, ctx(key, workspace), hold_amount=held, now=NOW)
            elif operation == "replay" and open_holds:
                replay_key, held = open_holds[-1]
                assert not place_hold(database, config, ctx(replay_key, workspace), amount=held, now=NOW).written
        except InsufficientCreditsError:
            pass
        if open_holds or operation == "hold":
            balance = assert_running_equals_sum(database, workspace)
            assert balance.available >= 0
            assert balance.held == sum(held for _, held in open_holds)


def test_check_command_finds_no_difference(database: Database, config: CreditsConfig) -> None:
    place_hold(database, config, ctx("hold:x"), amount=10, now=NOW)
    with database.read() as session:
        assert store.check_running_balances(session) == []
        assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 3


def test_open_team_cycle_needs_the_write_lock_only_once_per_cycle(database: Database, config: CreditsConfig) -> None:
    with database.write() as session:
        row = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW)
        assert row.entry_count == 2
    with database.write() as session:
        again = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=NOW + timedelta(days=1))
        assert again.entry_count == 2
