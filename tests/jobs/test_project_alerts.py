"""Project budget alerts: at 80 % and 100 % of a project's budget, once per threshold per cycle."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.devtools.render import render_blocks
from bot.domain.lifecycle import TaskStatus
from bot.jobs.project_alerts import parse_project_alert_key
from bot.store import budgets as budget_store
from bot.store.tables.tasks import Task
from tests.jobs.conftest import DESIGN_CHANNEL, SLOT, WORKSPACE, Harness

FRIDAY = SLOT - timedelta(days=3)  # no digest is due
CYCLE = date(2026, 11, 1)


def project_alerts(harness: Harness) -> list[dict[str, Any]]:
    return [
        m
        for m in harness.standin.messages(DESIGN_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == "keter_credits_project_alert"
    ]


def set_budget(harness: Harness, project: str, credits: int) -> None:
    with harness.db.write() as session:
        budget_store.set_budget(
            session, workspace_id=WORKSPACE, team="design", project=project, cycle=CYCLE, credits=credits, now=FRIDAY
        )


def charged(harness: Harness, project: str, cost: int, at: datetime, *, number: int) -> None:
    """A finished task of the project, as ``done`` leaves it (alerts read tasks, not the ledger)."""
    with harness.db.write() as session:
        session.add(
            Task(
                workspace_id=WORKSPACE,
                team="design",
                number=number,
                requester="U0BOB",
                tool="image",
                quality="high",
                quoted_cost=cost,
                status=TaskStatus.DONE,
                actual_cost=cost,
                retries_used=0,
                project=project,
                created_at=at,
                finished_at=at,
            )
        )


def test_each_threshold_alerts_once_per_cycle(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    set_budget(harness, "acme", 1000)
    charged(harness, "acme", 790, FRIDAY, number=1)
    runner = harness.runner()
    runner.run_once()
    assert project_alerts(harness) == []
    charged(harness, "acme", 30, FRIDAY, number=2)  # 82 %
    runner.run_once()
    runner.run_once()
    harness.runner().run_once()  # a restarted process
    texts = [render_blocks(m["blocks"]) for m in project_alerts(harness)]
    assert len(texts) == 1
    assert "Project acme (team design) has used 82 % of its 1,000-credit budget (820 spent)" in texts[0]
    assert "180 credits left until the renewal on Tue 1 Dec" in texts[0]
    charged(harness, "acme", 200, FRIDAY, number=3)  # 102 %
    runner.run_once()
    runner.run_once()
    texts = [render_blocks(m["blocks"]) for m in project_alerts(harness)]
    assert len(texts) == 2
    assert "used 102 % of its 1,000-credit budget" in texts[1] and "needs an approver" in texts[1]
    slots = [m["metadata"]["event_payload"]["slot"] for m in project_alerts(harness)]
    assert slots == ["2026-11-01:acme:80", "2026-11-01:acme:100"]


def test_a_jump_past_both_thresholds_posts_only_the_100_percent_one(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    set_budget(harness, "acme", 500)
    set_budget(harness, "zeta", 500)
    charged(harness, "acme", 600, FRIDAY, number=1)
    charged(harness, "zeta", 100, FRIDAY, number=2)  # 20 %: no alert
    harness.runner().run_once()
    assert len(project_alerts(harness)) == 1
    states = {p.slot_key: p.state for p in harness.posts() if p.kind == "project_alert"}
    assert states == {"2026-11-01:acme:100": "posted", "2026-11-01:acme:80": "superseded"}


def test_charges_from_before_the_cycle_and_projects_without_a_budget_do_not_alert(harness: Harness) -> None:
    harness.clock.now = FRIDAY
    set_budget(harness, "acme", 100)
    charged(harness, "acme", 500, datetime(2026, 10, 20, 12, 0, tzinfo=FRIDAY.tzinfo), number=1)  # last cycle
    charged(harness, "nobudget", 5000, FRIDAY, number=2)
    harness.runner().run_once()
    assert project_alerts(harness) == []


def test_slot_keys_name_cycle_project_and_threshold() -> None:
    assert parse_project_alert_key("2026-11-01:acme.v2:80") == (CYCLE, "acme.v2", 80)
