"""Budget alerts: once per threshold per cycle, the highest when several are crossed at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.devtools.render import render_blocks
from bot.domain import ledger as rules
from bot.domain.ledger import EntryKind
from bot.services.balances.team_balances import open_team_cycle
from bot.store import ledger_reads, ledger_writes
from bot.store.db import Database
from tests.jobs.conftest import SLOT, WORKSPACE, Harness

FRIDAY = SLOT - timedelta(days=3)  # no digest is due: the alerts are all that is posted


def alert_texts(harness: Harness) -> list[str]:
    return [render_blocks(m["blocks"]) for m in harness.alerts()]


def test_each_threshold_alerts_once_per_cycle(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    runner = harness.runner()
    harness.spend(2400, key="a", at=FRIDAY)  # 48 % of 5,000
    runner.run_once()
    assert harness.alerts() == []
    harness.spend(200, key="b", at=FRIDAY)  # 52 %
    runner.run_once()
    runner.run_once()
    harness.runner().run_once()  # a restarted process
    assert len(harness.alerts()) == 1
    assert (
        "Team design has used 52 % of its plan credits (2,600 of 5,000) with 4 days to the renewal"
        in (alert_texts(harness)[0])
    )
    harness.spend(1500, key="c", at=FRIDAY)  # 82 %
    runner.run_once()
    harness.spend(1000, key="d", at=FRIDAY)  # 102 %: extra credits pay the rest
    runner.run_once()
    runner.run_once()
    texts = alert_texts(harness)
    assert len(texts) == 3
    assert "used 82 % of its plan credits (4,100 of 5,000)" in texts[1]
    assert "used all its plan credits" in texts[2] and "extra" in texts[2]
    payloads = [m["metadata"]["event_payload"]["slot"] for m in harness.alerts()]
    assert payloads == ["2026-11-01:50", "2026-11-01:80", "2026-11-01:100"]


def test_a_jump_past_several_thresholds_posts_only_the_highest(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(4200, key="big", at=FRIDAY)
    harness.runner().run_once()
    assert len(harness.alerts()) == 1
    assert "used 84 % of its plan credits" in alert_texts(harness)[0]
    states = {p.slot_key: p.state for p in harness.posts() if p.kind == "budget_alert"}
    assert states == {"2026-11-01:80": "posted", "2026-11-01:50": "superseded"}


def test_a_new_cycle_alerts_again(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(2600, key="nov", at=FRIDAY)
    harness.runner().run_once()
    december = SLOT + timedelta(days=2)  # Wed 2 Dec: the plan renewed on the 1st
    harness.clock.now = december
    harness.runner().run_once()
    assert len(harness.alerts()) == 1  # November's spend is not December's
    harness.spend(2600, key="dec", at=december)
    harness.runner().run_once()
    assert [m["metadata"]["event_payload"]["slot"] for m in harness.alerts()] == ["2026-11-01:50", "2026-12-01:50"]


def test_two_schedulers_alert_once(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(2600, key="a", at=FRIDAY)
    other_db = Database(harness.db.url)
    runners = [harness.runner(), harness.runner(db=other_db)]
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        runners[index].run_once()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other_db.dispose()
    assert len(harness.alerts()) == 1


def test_a_refused_alert_is_retried(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(2600, key="a", at=FRIDAY)
    harness.standin.fail_next("chat.postMessage", error="fatal_error", status=200)
    harness.runner().run_once()
    assert harness.alerts() == []
    harness.clock.advance(minutes=2)
    harness.runner().run_once()
    assert len(harness.alerts()) == 1


def test_an_alert_states_the_real_percentage_and_the_forecast(harness: Harness) -> None:
    saturday = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 10 days before the renewal on Tue 1 Dec
    harness.clock.now = saturday
    harness.spend(1_400, key="fri", at=saturday - timedelta(days=1))
    harness.spend(1_346, key="sat", at=saturday)  # 2,746 in the last 7 days: 392 a day, 2,754 left
    harness.runner().run_once()
    [alert] = harness.alerts()
    assert alert["text"] == (
        "Team design has used 55 % of its plan credits (2,746 of 5,000) with 10 days to the renewal; "
        "at this pace it runs out on Sat 28 Nov."
    )
    shown = alert_texts(harness)[0]
    assert shown.startswith(
        "🟡 Team design has used 55 % of its plan credits (2,746 of 5,000) with 10 days to the renewal; "
        "at this pace it runs out on Sat 28 Nov."
    )
    assert "At this pace it needs about 1,169 more credits before Tue 1 Dec." in shown


def test_an_alert_that_lasts_to_the_renewal_says_so(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(2_600, key="a", at=FRIDAY)  # 371 a day, 2,900 left, 4 days to go
    harness.runner().run_once()
    assert alert_texts(harness)[0].startswith(
        "🟡 Team design has used 52 % of its plan credits (2,600 of 5,000) with 4 days to the renewal; "
        "at this pace it lasts to the renewal."
    )


def test_a_charge_that_overdraws_the_team_alerts_and_says_so(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    harness.spend(5000, key="plan", at=FRIDAY)
    with harness.db.write() as session:  # a charge above everything the team has: recorded all the same
        row = open_team_cycle(session, harness.config, workspace_id=WORKSPACE, team="design", now=FRIDAY)
        ledger_writes.append_new_entry(
            session,
            row=row,
            kind=EntryKind.CAPTURE,
            delta=rules.capture(ledger_reads.as_balance(row), 0, 700),
            idempotency_key="capture:over",
            now=FRIDAY,
            local_day=FRIDAY.date(),
            member="U0ALICE",
            tool="image",
        )
    harness.runner().run_once()
    texts = alert_texts(harness)
    assert len(texts) == 1 and "used all its plan credits" in texts[0]
    assert "Overdrawn by 200 credits: no new task can start until an admin adds credits" in texts[0]
