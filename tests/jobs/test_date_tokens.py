"""Budget alerts, project alerts and the digest show each day a member reads as a date token, never plain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.devtools.render import render_blocks
from bot.domain.lifecycle import TaskStatus
from bot.store import budgets as budget_store
from bot.store.tables.tasks import Task
from tests.date_scan import plain_dates, tokens
from tests.jobs.conftest import DESIGN_CHANNEL, SLOT, WORKSPACE, Harness

SATURDAY = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 10 days before the renewal on Tue 1 Dec


def project_charge(harness: Harness, cost: int, at: datetime) -> None:
    with harness.db.write() as session:
        budget_store.set_budget(
            session,
            workspace_id=WORKSPACE,
            team="design",
            project="acme",
            cycle=date(2026, 11, 1),
            credits=1000,
            now=at,
        )
        session.add(
            Task(
                workspace_id=WORKSPACE,
                team="design",
                number=1,
                requester="U0BOB",
                tool="image",
                quality="high",
                quoted_cost=cost,
                status=TaskStatus.DONE,
                actual_cost=cost,
                retries_used=0,
                project="acme",
                created_at=at,
                finished_at=at,
            )
        )


def test_alerts_and_the_digest_carry_date_tokens_and_no_plain_date(harness: Harness) -> None:
    harness.clock.now = SATURDAY
    harness.spend(1_400, key="fri", at=SATURDAY - timedelta(days=1))
    harness.spend(1_346, key="sat", at=SATURDAY)  # runs out on Sat 28 Nov at this pace
    project_charge(harness, 820, SATURDAY)
    harness.runner().run_once()
    harness.clock.now = SLOT
    harness.spend(2_700, key="sun", at=SLOT - timedelta(days=1))  # the digest's week runs out before the renewal
    harness.runner().run_once()
    sent = [
        (str((m.get("metadata") or {}).get("event_type")), m["blocks"])
        for m in harness.standin.messages(DESIGN_CHANNEL)
        if m.get("blocks")
    ]
    kinds = [kind for kind, _ in sent]
    assert {"keter_credits_budget_alert", "keter_credits_project_alert", "keter_credits_digest"} <= set(kinds)
    for kind, blocks in sent:
        assert plain_dates(blocks) == [], f"{kind} shows a plain date"
        assert tokens(blocks), f"{kind} carries no date token"
    first_alert = render_blocks(sent[kinds.index("keter_credits_budget_alert")][1])
    assert "runs out on Sat 28 Nov" in first_alert and "before Tue 1 Dec" in first_alert  # fallbacks: team's zone
    assert "runs out around" in render_blocks(sent[kinds.index("keter_credits_digest")][1])
