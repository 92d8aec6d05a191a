"""Plan credits carried past a renewal to back older holds lapse when those holds close (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.ledger import Balance
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.balances.team_balances import current_balance
from bot.services.charges import recording as charges
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import settling as charge_settling
from bot.services.workspace.members import Member
from bot.store import ledger_checks, ledger_reads
from bot.store.db import Database
from tests.services.test_charges import charge

WORKSPACE = "T0FEED"
ALICE = Member("U0ALICE", "design", "creator", False)
NOV_30 = datetime(2026, 11, 30, 10, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, 12, tzinfo=UTC)  # design renews on the 1st (Europe/Berlin): 5,000 plan credits


def run(db: Database, config: CreditsConfig, now: datetime) -> int:
    """Alice's image task: 40 credits held (32 + 8 expected retries)."""
    command = RunCommand(TaskRequest(tool="image", quality="high", variants=4))
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=now)
    assert result.task is not None and result.task.number is not None
    return result.task.number


def cancel(db: Database, config: CreditsConfig, number: int, now: datetime) -> None:
    task_cancel.cancel_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=CancelCommand(number), now=now)


def renew(db: Database, config: CreditsConfig, now: datetime) -> Balance:
    return current_balance(db, config, workspace_id=WORKSPACE, team="design", now=now).balance


def checked(db: Database) -> tuple[Balance, int]:
    """The running figure, after checking it equals the ledger's sum (``db check``), and what is carried."""
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        assert ledger_reads.as_balance(row) == ledger_reads.ledger_sum(session, workspace_id=WORKSPACE, team="design")
        assert ledger_checks.check_running_balances(session) == []
        assert ledger_checks.check_task_holds(session, workspace_id=WORKSPACE) == []
        return ledger_reads.as_balance(row), row.carried


def test_a_hold_from_before_the_renewal_cancelled_after_it_lapses_its_carried_credits(
    database: Database, config: CreditsConfig
) -> None:
    number = run(database, config, NOV_30)
    assert renew(database, config, DEC_1).plan == 5040  # 40 carried to back the hold
    assert checked(database)[1] == 40
    cancel(database, config, number, DEC_1 + timedelta(hours=1))
    balance, carried = checked(database)
    assert (balance.plan, balance.available, balance.held, carried) == (5000, 5500, 0, 0)


def test_a_cancel_that_renews_in_the_same_request_lapses_them_too(database: Database, config: CreditsConfig) -> None:
    number = run(database, config, NOV_30)
    cancel(database, config, number, DEC_1)  # the renewal is written by the cancel's own transaction
    balance, carried = checked(database)
    assert (balance.plan, balance.available, carried) == (5000, 5500, 0)


def test_a_capture_below_the_hold_keeps_what_it_spent_and_lapses_the_rest(
    database: Database, config: CreditsConfig
) -> None:
    number = run(database, config, NOV_30)
    renew(database, config, DEC_1)
    done = DoneCommand(number=number, retries=0)
    result = tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=DEC_1)
    assert result.charged == 32
    balance, carried = checked(database)
    assert (balance.plan, balance.spent, balance.held, carried) == (5000, 32, 0, 0)  # 8 lapsed


def test_a_capture_above_the_hold_lapses_nothing(database: Database, config: CreditsConfig) -> None:
    number = run(database, config, NOV_30)
    renew(database, config, DEC_1)
    done = DoneCommand(number=number, cost=60)
    result = tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=DEC_1)
    assert result.charged == 60
    balance, carried = checked(database)
    assert (balance.plan, balance.spent, carried) == (5040 - 60, 60, 0)


def test_releasing_a_new_cycle_hold_leaves_the_older_ones_carried_credits(
    database: Database, config: CreditsConfig
) -> None:
    old = run(database, config, NOV_30)
    renew(database, config, DEC_1)
    new = run(database, config, DEC_1 + timedelta(hours=1))
    cancel(database, config, new, DEC_1 + timedelta(hours=2))
    balance, carried = checked(database)
    assert (balance.plan, balance.held, carried) == (5040, 40, 40)  # nothing lapsed
    cancel(database, config, old, DEC_1 + timedelta(hours=3))
    balance, carried = checked(database)
    assert (balance.plan, balance.held, carried) == (5000, 0, 0)


def test_two_renewals_in_a_row_carry_the_backing_once(database: Database, config: CreditsConfig) -> None:
    number = run(database, config, NOV_30)
    renew(database, config, DEC_1)
    assert renew(database, config, datetime(2027, 1, 1, 12, tzinfo=UTC)).plan == 5040
    assert checked(database)[1] == 40
    cancel(database, config, number, datetime(2027, 1, 2, 9, tzinfo=UTC))
    balance, carried = checked(database)
    assert (balance.plan, balance.available, carried) == (5000, 5500, 0)


@pytest.mark.parametrize("occurred", [DEC_1, NOV_30 + timedelta(hours=12)])  # or before the renewal, fed after it
def test_charges_from_a_carried_hold_spend_it_and_settling_lapses_the_rest(
    database: Database, config: CreditsConfig, occurred: datetime
) -> None:
    number = run(database, config, NOV_30)
    renew(database, config, DEC_1)
    fed = charge("ch_1", 32, reference=f"KC-{number}", occurred_at=occurred.isoformat())
    charges.record_charges(database, config, workspace_id=WORKSPACE, charges=[fed], now=DEC_1)
    balance, carried = checked(database)
    assert (balance.plan, balance.held, carried) == (5008, 8, 8)  # spent, nothing lapsed
    charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=DEC_1 + timedelta(hours=2))
    balance, carried = checked(database)
    assert (balance.plan, balance.held, balance.spent, carried) == (5000, 0, 32, 0)
