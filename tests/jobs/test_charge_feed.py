"""The charge feed's scheduled work through ``JobRunner.run_once``: settling after quiet, the member told of a
corrected cost, and the admins alerted once per balance difference."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.keter_charges import Charge, KeterBalanceData
from bot.domain.lifecycle import TaskStatus
from bot.domain.task_commands import DoneCommand, parse_run
from bot.services.charges import reconciliation as keter_balances
from bot.services.charges import recording as charges
from bot.services.tasks import run_and_done as task_service
from bot.services.workspace.members import Member
from bot.store import tasks as task_store
from tests.e2e.conftest import WORKSPACE
from tests.jobs.conftest import Harness

ALICE = Member(user_id="U0ALICE", team="design", role="creator", is_bot_admin=False)


def charge(harness: Harness, charge_id: str, credits: int, reference: str) -> None:
    item = Charge.model_validate(
        {
            "id": charge_id,
            "occurred_at": harness.clock().isoformat(),
            "team": "design",
            "tool": "image",
            "credits": credits,
            "kind": "attempt",
            "reference": reference,
        }
    )
    charges.record_charges(harness.db, harness.config, workspace_id=WORKSPACE, charges=[item], now=harness.clock())


def task_status(harness: Harness, number: int) -> tuple[TaskStatus, int | None]:
    with harness.db.read() as session:
        task = task_store.task_by_number(session, workspace_id=WORKSPACE, team="design", number=number)
        assert task is not None
        return task.status, task.actual_cost


def run(harness: Harness, note: str) -> int:
    result = task_service.start_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=ALICE,
        command=parse_run(f"image quality=standard variants=4 {note}"),
        now=harness.clock(),
    )
    assert result.kind == "reserved" and result.task is not None
    return result.task.number


def test_a_task_settles_after_quiet_and_a_corrected_cost_is_told_once(harness: Harness) -> None:
    settled, reported = run(harness, "banner"), run(harness, "poster")
    task_service.finish_task(
        harness.db,
        harness.config,
        workspace_id=WORKSPACE,
        member=ALICE,
        command=DoneCommand(number=reported, cost=16),
        now=harness.clock(),
    )
    charge(harness, "ch_1", 18, f"KC-{settled}")
    charge(harness, "ch_2", 24, f"KC-{reported}")
    runner = harness.runner()
    harness.clock.advance(minutes=30)
    runner.run_once()
    assert task_status(harness, settled) == (TaskStatus.HELD, None)
    assert harness.standin.messages("U0ALICE") == []
    harness.clock.advance(minutes=31)
    report = runner.run_once()
    assert report is not None and report.charge_feed is not None
    assert task_status(harness, settled) == (TaskStatus.DONE, 18)
    assert task_status(harness, reported) == (TaskStatus.DONE, 24)
    [told] = harness.standin.messages("U0ALICE")
    assert told["text"] == (
        f"Task #{reported}: Keter Labs charged 24, you reported 16; the charges count "
        "(8 credits more, recorded as an adjustment)."
    )
    harness.clock.advance(minutes=5)
    runner.run_once()  # a restart or the next tick: nothing again
    assert len(harness.standin.messages("U0ALICE")) == 1


def test_a_balance_difference_beyond_the_tolerance_alerts_the_admins_once(harness: Harness) -> None:
    now = harness.clock()
    agreeing = KeterBalanceData(team="design", plan_credits=5000, extra_credits=500, as_of=now)
    keter_balances.record_keter_balance(harness.db, harness.config, workspace_id=WORKSPACE, data=agreeing, now=now)
    runner = harness.runner()
    runner.run_once()
    assert harness.standin.messages("U0CAROL") == []
    apart = KeterBalanceData(team="design", plan_credits=4960, extra_credits=500, as_of=now + timedelta(minutes=1))
    keter_balances.record_keter_balance(harness.db, harness.config, workspace_id=WORKSPACE, data=apart, now=now)
    runner.run_once()
    runner.run_once()
    [alert] = harness.standin.messages("U0CAROL")
    assert alert["text"].startswith("⚠️ Team design: Keter Labs shows 40 credits less than the bot")
