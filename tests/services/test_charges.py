"""Keter Labs' charges on both databases: matching, unplanned spend, settling, corrections, reconciliation, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.keter_charges import Charge, KeterBalanceData, parse_csv
from bot.domain.lifecycle import TaskStatus
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.approvals import decisions as approvals
from bot.services.balances.team_balances import current_balance
from bot.services.charges import history
from bot.services.charges import reconciliation as keter_balances
from bot.services.charges import recording as charges
from bot.services.quoting.quotes import member_week_usage
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import settling as charge_settling
from bot.services.tasks import stale_holds
from bot.services.workspace.members import Member
from bot.store import ledger_checks, ledger_reads
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.ledger import LedgerEntry
from tests.conftest import fresh_sqlite

WORKSPACE = "T0FEED"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)
EMAILS = {"alice@studio.example": "U0ALICE", "bob@studio.example": "U0BOB"}


def lookup(email: str) -> str | None:
    """Stands in for users.lookupByEmail (the Slack edge), not for the code under test."""
    return EMAILS.get(email)


def charge(
    charge_id: str, credits: int, *, kind: str = "attempt", reference: str | None = None, **extra: Any
) -> Charge:
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


def record(db: Database, config: CreditsConfig, *items: Charge, now: datetime = NOW) -> charges.ChargeReport:
    return charges.record_charges(db, config, workspace_id=WORKSPACE, charges=list(items), now=now, lookup=lookup)


def run_task(db: Database, config: CreditsConfig, project: str | None = None) -> int:
    command = RunCommand(TaskRequest(tool="image", quality="high", variants=4, project=project))
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=NOW)
    assert result.task is not None
    return result.task.number  # holds 40 (32 + 8 expected retries)


def consistent(db: Database) -> ledger_reads.Balance:
    with db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        assert ledger_reads.as_balance(row) == ledger_reads.ledger_sum(session, workspace_id=WORKSPACE, team="design")
        assert ledger_checks.check_task_holds(session, workspace_id=WORKSPACE) == []
        return ledger_reads.as_balance(row)


def task_of(db: Database, number: int) -> Any:
    with db.read() as session:
        task = task_store.task_by_number(session, workspace_id=WORKSPACE, team="design", number=number)
        assert task is not None
        session.expunge(task)
        return task


def test_a_charge_naming_an_open_task_spends_from_its_hold_and_settles_after_quiet(
    database: Database, config: CreditsConfig
) -> None:
    number = run_task(database, config, project="Nike spring")
    report = record(
        database,
        config,
        charge("ch_1", 32, reference=f"KC-{number}"),
        charge("ch_2", 32, kind="retry", reference=f"kc-{number}", version_kept=2),
    )
    assert vars(report.teams["design"]) == {"new": 2, "known": 0, "matched": 2, "unplanned": 0}
    task = task_of(database, number)
    assert (task.status, task.held, task.charged, task.charge_count) == (TaskStatus.HELD, 0, 64, 2)
    assert consistent(database).spent == 64
    # Quiet for less than feed.settle_after_minutes (60): still open; after it: done at the charges' sum.
    assert (
        charge_settling.settle_quiet(
            database, config, workspace_id=WORKSPACE, now=NOW + timedelta(minutes=59)
        ).differences
        == []
    )
    assert task_of(database, number).status == TaskStatus.HELD
    charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=NOW + timedelta(minutes=61))
    task = task_of(database, number)
    assert (task.status, task.actual_cost, task.retries_used, task.kept) == (TaskStatus.DONE, 64, 1, 2)
    balance = consistent(database)
    assert (balance.held, balance.spent) == (0, 64)


def run_over_limit(db: Database, config: CreditsConfig) -> tuple[int, int]:
    """Alice's ``image quality=ultra variants=4``: 80 credits, over her per-task limit, held and waiting."""
    command = RunCommand(TaskRequest(tool="image", quality="ultra", variants=4))
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=NOW)
    assert result.kind == "approval_needed" and result.task is not None and result.approval is not None
    assert result.task.number is not None and result.approval.id is not None
    return result.task.number, result.approval.id


def decide(db: Database, config: CreditsConfig, approval_id: int, *, approve: bool) -> None:
    approvals.decide(
        db,
        config,
        workspace_id=WORKSPACE,
        approval_id=approval_id,
        decider="U0BOB",
        is_workspace_admin=False,
        approve=approve,
        note=None,
        now=NOW + timedelta(minutes=5),
    )


def test_a_charge_while_the_task_waits_for_approval_is_its_cost_once(database: Database, config: CreditsConfig) -> None:
    number, approval_id = run_over_limit(database, config)
    report = record(database, config, charge("ch_1", 64, quality="ultra", reference=f"KC-{number}"))
    assert (report.teams["design"].matched, report.teams["design"].unplanned) == (1, 0)
    task = task_of(database, number)
    assert (task.status, task.held, task.charged, task.charge_count) == (TaskStatus.PENDING, 16, 64, 1)
    assert (consistent(database).held, consistent(database).spent) == (16, 64)
    decide(database, config, approval_id, approve=True)
    done = DoneCommand(number=number)
    result = tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    assert (result.charged, result.released) == (64, 16)
    assert (task_of(database, number).status, task_of(database, number).actual_cost) == (TaskStatus.DONE, 64)
    balance = consistent(database)
    assert (balance.held, balance.spent) == (0, 64)  # not 128: the charge and ``done`` are the same cost


def test_a_pending_task_charged_and_approved_settles_by_its_charges(database: Database, config: CreditsConfig) -> None:
    number, approval_id = run_over_limit(database, config)
    record(database, config, charge("ch_1", 60, reference=f"KC-{number}"))
    later = NOW + timedelta(hours=2)
    assert charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=later).changed == {}
    assert task_of(database, number).status == TaskStatus.PENDING  # the approver decides first
    decide(database, config, approval_id, approve=True)
    charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=later)
    assert (task_of(database, number).status, task_of(database, number).actual_cost) == (TaskStatus.DONE, 60)
    assert (consistent(database).held, consistent(database).spent) == (0, 60)


@pytest.mark.parametrize("outcome", ["deny", "expire"])
def test_a_pending_task_charged_then_refused_keeps_its_charges_as_spend_without_approval(
    database: Database, config: CreditsConfig, outcome: str
) -> None:
    from bot.services.workspace import audit_trail as audit

    number, approval_id = run_over_limit(database, config)
    record(database, config, charge("ch_1", 64, reference=f"KC-{number}"))
    with pytest.raises(task_cancel.CaptureExistsError):  # a charge is a fact: it can't be cancelled away
        task_cancel.cancel_task(
            database, config, workspace_id=WORKSPACE, member=ALICE, command=CancelCommand(number), now=NOW
        )
    if outcome == "deny":
        decide(database, config, approval_id, approve=False)
    else:
        approvals.expire_due(database, lambda _: config, now=NOW + timedelta(days=3))
    task = task_of(database, number)
    refused = {"deny": TaskStatus.DENIED, "expire": TaskStatus.EXPIRED}[outcome]
    assert (task.status, task.held, task.charged) == (refused, 0, 64)
    balance = consistent(database)
    assert (balance.held, balance.spent) == (0, 64)  # the rest of the hold is back; the charge stays spent
    carol = Member("U0CAROL", "design", "admin", True)
    later = NOW + timedelta(days=3)
    page = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=carol, team="design", days=7, now=later)
    [flag] = [line for line in page.lines if line.action == "charged_without_approval"]
    assert (flag.target, flag.details["charged"], flag.details["outcome"]) == (f"task #{number}", 64, outcome)


@pytest.mark.parametrize("closed_by", ["done", "settling"])
def test_a_released_task_charged_later_is_its_cost_once(
    database: Database, config: CreditsConfig, closed_by: str
) -> None:
    """Its hold was given back unreported, then Keter Labs charges it and its member reports it: spent once."""
    number = run_task(database, config)  # holds 40
    later = NOW + timedelta(days=8)
    stale_holds.release_stale(database, config, workspace_id=WORKSPACE, now=later, owner="test")
    assert (task_of(database, number).status, consistent(database).held) == (TaskStatus.RELEASED, 0)
    record(database, config, charge("ch_1", 48, reference=f"KC-{number}"), now=later)
    task = task_of(database, number)
    assert (task.status, task.charged, task.charge_count) == (TaskStatus.RELEASED, 48, 1)
    assert consistent(database).spent == 48
    if closed_by == "done":
        done = DoneCommand(number=number, kept=2)
        result = tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=later)
        assert (result.charged, result.released) == (48, 0)
    else:
        charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=later + timedelta(hours=2))
    assert (task_of(database, number).status, task_of(database, number).actual_cost) == (TaskStatus.DONE, 48)
    assert (consistent(database).held, consistent(database).spent) == (0, 48)  # not 96


def test_a_settled_task_releases_the_rest_of_its_hold(database: Database, config: CreditsConfig) -> None:
    number = run_task(database, config)
    record(database, config, charge("ch_1", 12, reference=f"KC-{number}"))
    assert consistent(database).held == 28
    charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=NOW + timedelta(hours=2))
    assert (consistent(database).held, task_of(database, number).actual_cost) == (0, 12)


def test_done_on_a_charged_task_only_records_kept_versions_and_closes_it(
    database: Database, config: CreditsConfig
) -> None:
    number = run_task(database, config)
    record(database, config, charge("ch_1", 32, reference=f"KC-{number}"))
    done = DoneCommand(number=number, kept=3)
    result = tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    assert (result.charged, result.released, result.task.kept, result.task.actual_cost) == (32, 8, 3, 32)
    with pytest.raises(tasks.UserFacingError, match="already done"):
        tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    consistent(database)


def test_a_charged_task_cannot_be_cancelled(database: Database, config: CreditsConfig) -> None:
    number = run_task(database, config)
    record(database, config, charge("ch_1", 10, reference=f"KC-{number}"))
    with pytest.raises(task_cancel.CaptureExistsError, match="by Keter Labs"):
        task_cancel.cancel_task(
            database, config, workspace_id=WORKSPACE, member=ALICE, command=CancelCommand(number=number), now=NOW
        )


def test_unplanned_charges_are_charged_and_count_for_the_members_week(
    database: Database, config: CreditsConfig
) -> None:
    report = record(database, config, charge("ch_1", 45), charge("ch_2", 5, reference="KC-999"))
    assert vars(report.teams["design"]) == {"new": 2, "known": 0, "matched": 0, "unplanned": 2}
    assert consistent(database).spent == 50
    with database.read() as session:
        assert member_week_usage(session, config, workspace_id=WORKSPACE, member=ALICE, now=NOW) == 50


def test_a_charge_may_overdraw_the_team(database: Database, config: CreditsConfig) -> None:
    record(database, config, charge("big", 6000, tool="video", quality="high", variants=None, duration_seconds=500))
    balance = consistent(database)
    assert (balance.plan, balance.extra, balance.overdrawn_by) == (0, -500, 500)


def test_a_refund_comes_back_as_extra_credits(database: Database, config: CreditsConfig) -> None:
    record(database, config, charge("ch_1", 32), charge("rf_1", 32, kind="refund", refunds="ch_1"))
    balance = consistent(database)
    assert (balance.plan, balance.extra, balance.spent) == (5000 - 32, 500 + 32, 0)


def test_a_refund_after_the_renewal_never_makes_spent_this_cycle_negative(
    database: Database, config: CreditsConfig
) -> None:
    from bot.store import history as history_store

    nov_30, dec_1, dec_2 = (datetime(2026, 11, 30, 10), datetime(2026, 12, 1, 12), datetime(2026, 12, 2, 9))
    nov_30, dec_1, dec_2 = (d.replace(tzinfo=UTC) for d in (nov_30, dec_1, dec_2))
    record(database, config, charge("ch_1", 40, occurred_at=nov_30.isoformat()), now=nov_30)
    refund = charge("rf_1", 40, kind="refund", refunds="ch_1", occurred_at=dec_1.isoformat())
    record(database, config, refund, now=dec_1)  # the plan renewed on 1 Dec (Europe/Berlin) before it
    renewed = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=dec_1)
    assert renewed.cycle_start.isoformat() == "2026-12-01"
    assert (renewed.balance.plan, renewed.balance.extra, renewed.balance.spent) == (5000, 540, 0)
    assert record(database, config, refund, now=dec_1).teams["design"].known == 1  # a redelivery: nothing moves
    record(database, config, charge("ch_2", 10, occurred_at=dec_2.isoformat()), now=dec_2)
    assert (consistent(database).spent, consistent(database).extra) == (10, 540)
    # Spend over a window still counts the refund in full: the member's week and the charge history.
    with database.read() as session:
        assert member_week_usage(session, config, workspace_id=WORKSPACE, member=ALICE, now=dec_2) == 10
        since = datetime(2026, 11, 30, tzinfo=UTC)
        assert history_store.history_totals(session, history_store.HistoryFilter(WORKSPACE, "design", since))[0] == 10


def test_a_refund_of_no_recorded_charge_is_refused_and_audited(database: Database, config: CreditsConfig) -> None:
    """The bug: a refund for a charge id never seen added its credits (10,000,000 from one delivery)."""
    from bot.services.workspace import audit_trail as audit

    before = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW).balance
    report = record(
        database,
        config,
        charge("rf_none", 10_000_000, kind="refund"),
        charge("rf_ghost", 10_000_000, kind="refund", refunds="ch_never"),
        charge("ch_1", 40),
    )
    assert [(r.id, r.reason) for r in report.refused] == [
        ("rf_none", "a refund must name the charge it gives back (refunds: <charge id>)"),
        ("rf_ghost", "charge ch_never is not recorded"),
    ]
    assert vars(report.teams["design"]) == {"new": 1, "known": 0, "matched": 0, "unplanned": 1}
    balance = consistent(database)
    assert balance.plan + balance.extra == before.plan + before.extra - 40
    carol = Member("U0CAROL", "design", "admin", True)
    page = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=carol, team=None, days=1, now=NOW)
    assert sorted(line.target for line in page.lines if line.action == "refund_refused") == [
        "refund rf_ghost",
        "refund rf_none",
    ]


def test_the_refunds_of_a_charge_never_exceed_it_nor_cross_teams(database: Database, config: CreditsConfig) -> None:
    data = config.model_dump()
    data["teams"]["video"] = data["teams"]["design"] | {"channel": "C0VIDEO", "members": {"U0ERIN": "creator"}}
    two = CreditsConfig.model_validate(data)
    charges.record_charges(database, two, workspace_id=WORKSPACE, charges=[charge("v1", 50, team="video")], now=NOW)
    record(database, two, charge("ch_1", 40))
    report = record(
        database,
        two,
        charge("rf_1", 30, kind="refund", refunds="ch_1"),
        charge("rf_2", 11, kind="refund", refunds="ch_1"),  # 30 + 11 is more than the 40 charged
        charge("rf_3", 5, kind="refund", refunds="v1"),  # another team's charge
        charge("rf_4", 5, kind="refund", refunds="rf_1"),  # a refund is not a charge
    )
    assert [(r.id, r.reason) for r in report.refused] == [
        ("rf_2", "11 credits is more than charge ch_1 has left to refund (40 charged, 30 refunded: at most 10)"),
        ("rf_3", "charge v1 is another team's"),
        ("rf_4", "rf_1 is a refund, not a charge"),
    ]
    assert consistent(database).extra == 500 + 30
    # The rest of the charge, in a later delivery: recorded; a refund in the same batch as its charge too,
    # whatever their order in the batch.
    report = record(
        database,
        two,
        charge("rf_5", 10, kind="refund", refunds="ch_1"),
        charge("rf_6", 7, kind="refund", refunds="ch_2"),
        charge("ch_2", 7),
    )
    assert report.refused == [] and report.teams["design"].new == 3
    assert consistent(database).extra == 500 + 30 + 10 + 7


def test_a_refund_sent_before_its_charge_is_refused_then_recorded_once_the_charge_is_in(
    database: Database, config: CreditsConfig
) -> None:
    """Was: a refund before its charge was recorded at once (an earlier cycle's refund); it named nothing then."""
    refund = charge("rf_1", 40, kind="refund", refunds="ch_1")
    assert [r.id for r in record(database, config, refund).refused] == ["rf_1"]
    assert consistent(database).extra == 500
    record(database, config, charge("ch_1", 40))
    assert record(database, config, refund).refused == []
    balance = consistent(database)
    assert (balance.plan, balance.extra, balance.spent) == (5000 - 40, 500 + 40, 0)


def test_charges_below_a_cost_reported_before_the_renewal_keep_spent_at_zero(
    database: Database, config: CreditsConfig
) -> None:
    nov_30, dec_1 = datetime(2026, 11, 30, 10, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    command = RunCommand(TaskRequest(tool="image", quality="high", variants=4))
    started = tasks.start_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=nov_30)
    assert started.task is not None and started.task.number is not None
    done = DoneCommand(number=started.task.number, cost=40)
    tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=nov_30)
    record(database, config, charge("ch_1", 32, reference=f"KC-{started.task.number}"), now=nov_30)
    settled = charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=dec_1)
    assert [(d.charged, d.reported) for d in settled.differences] == [(32, 40)]
    balance = current_balance(database, config, workspace_id=WORKSPACE, team="design", now=dec_1).balance
    assert (balance.spent, balance.extra) == (0, 508)  # the 8 credits come back; spent stays at 0, not -8
    assert consistent(database) == balance


def test_the_same_charge_twice_changes_nothing_and_other_figures_are_a_conflict(
    database: Database, config: CreditsConfig
) -> None:
    record(database, config, charge("ch_1", 32))
    again = record(database, config, charge("ch_1", 32), charge("ch_2", 8))
    assert vars(again.teams["design"]) == {"new": 1, "known": 1, "matched": 0, "unplanned": 1}
    assert again.conflicts == []
    before = consistent(database)
    # A copy with other figures is skipped (the first figures stand); the batch's other charges are facts.
    report = record(database, config, charge("ch_3", 1), charge("ch_1", 33))
    assert report.conflicts == [charges.ChargeConflict("ch_1", "design", "credits 32 then 33")]
    assert vars(report.teams["design"]) == {"new": 1, "known": 0, "matched": 0, "unplanned": 1}
    assert consistent(database).spent == before.spent + 1
    # Sent again, it is again a conflict: never a 400 the sender retries forever, never a silent no-op.
    assert record(database, config, charge("ch_1", 33)).conflicts == report.conflicts
    assert consistent(database).spent == before.spent + 1


def test_a_conflict_is_kept_in_the_audit_trail_and_logged(
    database: Database, config: CreditsConfig, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.services.workspace import audit_trail as audit

    record(database, config, charge("a", 40))
    with caplog.at_level("WARNING", logger="bot.services.charges.recording"):
        record(database, config, charge("b1", 5), charge("a", 41), charge("b2", 6))
    assert [r.getMessage() for r in caplog.records] == [
        "charge a skipped: already recorded with other figures (credits 40 then 41)"
    ]
    carol = Member("U0CAROL", "design", "admin", True)
    page = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=carol, team=None, days=1, now=NOW)
    [line] = [line for line in page.lines if line.action == "charge_conflict"]
    assert (line.team, line.target, line.details["differs"]) == ("design", "charge a", "credits 40 then 41")
    assert consistent(database).spent == 40 + 5 + 6


def test_a_conflict_in_one_team_keeps_no_other_team_out(database: Database, config: CreditsConfig) -> None:
    data = config.model_dump()
    data["teams"]["video"] = data["teams"]["design"] | {"channel": "C0VIDEO", "members": {"U0ERIN": "creator"}}
    two = CreditsConfig.model_validate(data)
    charges.record_charges(database, two, workspace_id=WORKSPACE, charges=[charge("a", 40, team="video")], now=NOW)
    batch = [charge("v1", 3, team="video"), charge("a", 41, team="video"), charge("d1", 7), charge("d2", 8)]
    report = charges.record_charges(database, two, workspace_id=WORKSPACE, charges=batch, now=NOW)
    assert [(c.id, c.team) for c in report.conflicts] == [("a", "video")]
    assert {team: counts.new for team, counts in report.teams.items()} == {"video": 1, "design": 2}
    with database.read() as session:
        video = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="video")
        assert video is not None and video.spent == 43
    assert consistent(database).spent == 15


def test_an_unknown_team_writes_nothing(database: Database, config: CreditsConfig) -> None:
    with pytest.raises(charges.UnknownTeamError, match="unknown team 'marketing'"):
        record(database, config, charge("ch_1", 32), charge("ch_2", 1, team="marketing"))
    with database.read() as session:
        assert ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design") is None


def test_keter_team_and_emails_from_the_credits_file(database: Database, config: CreditsConfig) -> None:
    data = config.model_dump()
    data["teams"]["design"] |= {"keter_team": "Design Studio", "emails": {"erin@studio.example": "U0ERIN"}}
    mapped = CreditsConfig.model_validate(data)
    record(database, mapped, charge("ch_1", 7, team="Design Studio", user_email="Erin@Studio.example"))
    with database.read() as session:
        assert (
            ledger_reads.member_usage_since(
                session, workspace_id=WORKSPACE, team="design", member="U0ERIN", since=NOW - timedelta(days=1)
            )
            == 7
        )


def test_done_then_different_charges_is_an_adjustment_and_the_member_is_told(
    database: Database, config: CreditsConfig
) -> None:
    number = run_task(database, config)
    done = DoneCommand(number=number, cost=32)
    tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    record(database, config, charge("ch_1", 32, reference=f"KC-{number}"), charge("ch_2", 8, reference=f"KC-{number}"))
    assert consistent(database).spent == 32  # the charges are already in the reported cost until they settle
    told = charge_settling.settle_quiet(
        database, config, workspace_id=WORKSPACE, now=NOW + timedelta(hours=2)
    ).differences
    assert told == [charge_settling.ChargeDifference("design", "U0ALICE", number, 40, 32)]
    assert consistent(database).spent == 40
    assert task_of(database, number).actual_cost == 40
    assert (
        charge_settling.settle_quiet(database, config, workspace_id=WORKSPACE, now=NOW + timedelta(hours=3)).differences
        == []
    )
    page = history.read_history(database, config, workspace_id=WORKSPACE, viewer=ALICE, days=30, now=NOW)
    assert page.lines[0].what == f"adjustment task #{number}: Keter Labs charged 40, reported 32"


def test_balance_snapshot_agreeing_and_differing_alerts_once_per_difference(
    database: Database, config: CreditsConfig
) -> None:
    record(database, config, charge("ch_1", 100))
    seen = keter_balances.record_keter_balance(
        database,
        config,
        workspace_id=WORKSPACE,
        data=KeterBalanceData(team="design", plan_credits=4900, extra_credits=500, as_of=NOW),
        now=NOW,
    )
    assert seen.difference == 0
    assert keter_balances.claim_balance_alerts(database, config, workspace_id=WORKSPACE) == []
    later = NOW + timedelta(minutes=5)
    data = KeterBalanceData(team="design", plan_credits=4884, extra_credits=500, as_of=later)
    assert (
        keter_balances.record_keter_balance(database, config, workspace_id=WORKSPACE, data=data, now=later).difference
        == -16
    )
    assert [a.difference for a in keter_balances.claim_balance_alerts(database, config, workspace_id=WORKSPACE)] == [
        -16
    ]
    assert keter_balances.claim_balance_alerts(database, config, workspace_id=WORKSPACE) == []  # once per difference
    assert keter_balances.reconciliation(database, workspace_id=WORKSPACE, team="design") is not None


def test_history_pages_by_keyset_and_filters_combine(database: Database, config: CreditsConfig) -> None:
    items = [
        charge(
            f"ch_{i:02d}",
            i + 1,
            occurred_at=(NOW - timedelta(minutes=i)).isoformat(),
            tool="video" if i % 4 == 0 else "image",
            user_email="bob@studio.example" if i % 2 else "alice@studio.example",
            project="launch" if i < 6 else None,
            kind="retry" if i == 3 else "attempt",
        )
        for i in range(20)
    ]
    current_balance(database, config, workspace_id=WORKSPACE, team="design", now=NOW - timedelta(days=1))
    record(database, config, *items)
    first = history.read_history(database, config, workspace_id=WORKSPACE, viewer=ALICE, days=30, now=NOW)
    assert len(first.lines) == 15 and first.cursor is not None
    assert [line.credits for line in first.lines[:3]] == [1, 2, 3]  # newest first
    assert (first.total, first.retries, first.count) == (210, 4, 22)  # 20 charges + plan grant + opening extra
    second = history.read_history(
        database, config, workspace_id=WORKSPACE, viewer=ALICE, days=30, now=NOW, since=first.since, before=first.cursor
    )
    assert [line.credits for line in second.lines][:5] == [16, 17, 18, 19, 20]
    assert second.cursor is None and len(second.lines) == 7
    assert first.lines[0].what == "unplanned video · high · 4 variants"
    bobs_images = history.read_history(
        database, config, workspace_id=WORKSPACE, viewer=ALICE, days=30, now=NOW, member="U0BOB", tool="image"
    )
    assert {line.member for line in bobs_images.lines} == {"U0BOB"}
    assert [line.credits for line in bobs_images.lines] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    launch = history.read_history(
        database, config, workspace_id=WORKSPACE, viewer=ALICE, days=30, now=NOW, project="Launch"
    )
    assert launch.total == 1 + 2 + 3 + 4 + 5 + 6


def test_a_csv_file_reads_every_bad_line_with_its_number() -> None:
    text = (
        "id,occurred_at,team,user_email,tool,quality,variants,duration_seconds,credits,kind,version_kept,project,reference\n"
        "ch_1,2026-11-24T10:05:00Z,design,alice@studio.example,image,high,4,,32,attempt,,Nike spring,KC-12\n"
        "ch_2,2026-11-24T10:06:00Z,design,,image,high,4,,-3,attempt,,,\n"
        "ch_3,yesterday,design,,image,high,4,,3,attempt,,,\n"
        "ch_4,2026-11-24T10:06:00Z,design,,image,high,4,,3,bonus,,,\n"
    )
    good, bad = parse_csv(text)
    assert [c.id for c in good] == ["ch_1"] and good[0].task_number == 12
    assert [b.line for b in bad] == [3, 4, 5]
    assert "credits" in bad[0].reason and "occurred_at" in bad[1].reason and "kind" in bad[2].reason


# -- any interleaving of the same charges by feed and file gives the same ledger ------------------------

SHAPES = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=400),
        st.sampled_from(["attempt", "retry", "refund"]),
        st.sampled_from([None, "KC-1", "KC-2", "KC-77"]),
        st.sampled_from(["alice@studio.example", "bob@studio.example", None]),
    ),
    min_size=1,
    max_size=12,
)


Fingerprint = list[tuple[str, str, int, int, str | None, int | None]]


def ledger_fingerprint(db: Database, *, workspace_id: str) -> Fingerprint:
    """What any order of the same charges must leave the same: each entry's key, kind, spent change,
    plan+extra change, member and task, sorted (order-free)."""
    with db.read() as session:
        rows = session.execute(
            select(
                col(LedgerEntry.idempotency_key),
                col(LedgerEntry.kind),
                col(LedgerEntry.spent_delta),
                col(LedgerEntry.plan_delta) + col(LedgerEntry.extra_delta),
                col(LedgerEntry.member),
                col(LedgerEntry.task_id),
            ).where(col(LedgerEntry.workspace_id) == workspace_id)
        ).all()
    return sorted((str(k), str(kind), int(s), int(pe), m, t) for k, kind, s, pe, m, t in rows)


def _ledger_after(
    db: Database, config: CreditsConfig, feed: list[list[Charge]], file: list[Charge]
) -> tuple[Any, ledger_reads.Balance]:
    run_task(db, config)  # KC-1 holds 40
    run_over_limit(db, config)  # KC-2 holds 80 and waits for approval: its charges are its own all the same
    # The cycle has already spent more than all its refunds: a refund arriving before the charge it gives
    # back, in a cycle that spent less, counts as an earlier cycle's spend (``earlier_cycle_share``), so
    # only then does the order change "spent this cycle" (never the credits).
    record(db, config, charge("spent_before", 12 * 400))
    for batch in feed:
        record(db, config, *batch)
    record(db, config, *file)
    for batch in feed[:1]:  # a redelivery on top changes nothing
        record(db, config, *batch)
    return ledger_fingerprint(db, workspace_id=WORKSPACE), consistent(db)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=SHAPES, data=st.data())
def test_any_interleaving_of_feed_and_file_gives_the_same_ledger(
    shapes: list[tuple[int, str, str | None, str | None]],
    data: st.DataObject,
    config: CreditsConfig,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    items: list[Charge] = []
    targets = [i for i, shape in enumerate(shapes) if shape[1] != "refund"]
    for i, (credits, kind, reference, email) in enumerate(shapes):
        if kind != "refund":
            items.append(charge(f"ch_{i}", credits, kind=kind, reference=reference, user_email=email))
            continue
        if not targets:
            continue
        target = targets.pop(0)  # each refund gives back part of its own charge: recorded in any order
        given = min(credits, shapes[target][0])
        items.append(charge(f"ch_{i}", given, kind=kind, reference=reference, user_email=email, refunds=f"ch_{target}"))
    outcomes = []
    for _ in range(2):
        order = data.draw(st.permutations(items))
        cut = data.draw(st.integers(min_value=0, max_value=len(order)))
        fed, filed = order[:cut], data.draw(st.permutations(items))  # the file holds every charge again
        size = data.draw(st.integers(min_value=1, max_value=4))
        batches = [fed[i : i + size] for i in range(0, len(fed), size)]
        db = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("interleaving"))
        try:
            outcomes.append(_ledger_after(db, config, batches, filed))
        finally:
            db.dispose()
    assert outcomes[0] == outcomes[1]


def test_the_history_rollup_equals_the_ledger(database: Database, config: CreditsConfig) -> None:
    from bot.store import history as history_store

    number = run_task(database, config, project="Launch")
    other = RunCommand(TaskRequest(tool="image", quality="high", variants=2))
    started = tasks.start_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=other, now=NOW)
    assert started.task is not None
    done = DoneCommand(number=started.task.number, retries=2)  # 16 + 2 × 16: 32 of its 48 credits are retries
    tasks.finish_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=done, now=NOW)
    record(
        database,
        config,
        charge("ch_1", 30, reference=f"KC-{number}"),
        charge("ch_2", 12, kind="retry", project="Other"),
        charge("rf_1", 5, kind="refund", refunds="ch_1"),
    )
    f = history_store.HistoryFilter(WORKSPACE, "design", datetime(2026, 11, 1, tzinfo=UTC))
    with database.read() as session:
        kept = history_store.history_totals(session, f)
    with database.write() as session:
        history_store.rebuild_history_rollup(session, workspace_id=WORKSPACE, team="design")
    with database.read() as session:
        assert history_store.history_totals(session, f) == kept == (37 + 48, 12 + 32, 6)


def test_a_copy_with_another_date_member_or_project_is_a_conflict(database: Database, config: CreditsConfig) -> None:
    """The bug: a copy of a known charge id with another date, member or project counted as the same charge."""
    record(database, config, charge("ch_1", 32, project="Launch"))
    report = record(
        database,
        config,
        charge("ch_1", 32, project="Launch", occurred_at="2026-11-20T09:55:00Z"),
        charge("ch_1", 32, project="Launch", user_email="bob@studio.example"),
        charge("ch_1", 32, project="Other"),
    )
    assert [c.differs for c in report.conflicts] == [
        "occurred_at 2026-11-24T09:55:00+00:00 then 2026-11-20T09:55:00+00:00",
        "user_email alice@studio.example then bob@studio.example",
        "project Launch then Other",
    ]
    assert record(database, config, charge("ch_1", 32, project="Launch")).conflicts == []
