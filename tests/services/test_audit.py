"""The audit trail records every decision (approve, deny, expire, withdraw, stale-hold release) and reads by keyset."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import RunCommand
from bot.services.approvals import decisions as approvals
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import stale_holds as holds
from bot.services.workspace import audit_trail as audit
from bot.services.workspace.access import AdminOnlyError
from bot.services.workspace.members import Member
from bot.store.db import Database
from bot.store.tables.workspace import AuditEntry

WORKSPACE = "T0AUDIT"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)
CAROL = Member("U0CAROL", "design", "admin", True)


def ask(db: Database, config: CreditsConfig, variants: int, *, at: datetime = NOW) -> int:
    """Alice runs ultra images over her per-task limit: an approval request."""
    command = RunCommand(TaskRequest(tool="image", quality="ultra", variants=variants), note=f"{variants} ultra")
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=at)
    assert result.kind == "approval_needed" and result.approval is not None
    return result.approval.id


def decide(db: Database, config: CreditsConfig, approval_id: int, *, approve: bool, note: str | None = None) -> None:
    approvals.decide(
        db,
        config,
        workspace_id=WORKSPACE,
        approval_id=approval_id,
        decider="U0BOB",
        is_workspace_admin=False,
        approve=approve,
        note=note,
        now=NOW + timedelta(minutes=5),
    )


def entries(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def test_each_kind_of_decision_leaves_one_entry(database: Database, config: CreditsConfig) -> None:
    decide(database, config, ask(database, config, 4), approve=True)
    decide(database, config, ask(database, config, 5), approve=False, note="draft first")
    ask(database, config, 6)  # nobody decides
    approvals.expire_due(database, lambda _: config, now=NOW + timedelta(hours=25))
    approvals.withdraw(database, config, approval_id=ask(database, config, 7), now=NOW)  # could not be posted
    small = RunCommand(TaskRequest(tool="image", quality="draft", variants=2))
    tasks.start_task(database, config, workspace_id=WORKSPACE, member=ALICE, command=small, now=NOW)
    holds.release_stale(database, config, workspace_id=WORKSPACE, now=NOW + timedelta(days=8), owner="test")

    found = [(e.action, e.actor, e.team, e.target) for e in entries(database)]
    assert found == [
        ("approve", "U0BOB", "design", "task #1"),
        ("deny", "U0BOB", "design", "task #2"),
        ("expire", "system", "design", "task #3"),
        ("withdraw", "system", "design", "task #4"),
        ("release_stale", "system", "design", "task #1"),  # approved and never reported
        ("release_stale", "system", "design", "task #5"),
    ]
    denied = json.loads(entries(database)[1].details)
    assert denied == {"credits": 100, "note": "draft first", "request": "task", "requester": "U0ALICE"}


def test_record_decision_is_the_helper_for_other_decisions(database: Database) -> None:
    with database.write() as session:
        audit.record_decision(
            session,
            workspace_id=WORKSPACE,
            team="design",
            action="adjust",
            actor="U0CAROL",
            target="team design",
            now=NOW,
            credits=-40,
            reason="double charge on 12 Nov",
        )
    [entry] = entries(database)
    assert (entry.action, entry.actor, entry.team) == ("adjust", "U0CAROL", "design")
    assert json.loads(entry.details) == {"credits": -40, "reason": "double charge on 12 Nov"}


def _many(db: Database, count: int, *, team: str = "design") -> None:
    with db.write() as session:
        for n in range(count):
            audit.record_decision(
                session, workspace_id=WORKSPACE, team=team, action="approve", target=f"task #{n + 1}", now=NOW
            )


def test_pages_of_fifteen_newest_first_by_keyset(database: Database, config: CreditsConfig) -> None:
    _many(database, 17)
    first = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=CAROL, team=None, days=7, now=NOW)
    assert [line.target for line in first.lines] == [f"task #{n}" for n in range(17, 2, -1)]
    assert first.next_before == first.lines[-1].id
    _many(database, 1)  # a new entry meanwhile does not shift the next page (no OFFSET)
    second = audit.read_audit(
        database,
        config,
        workspace_id=WORKSPACE,
        admin=CAROL,
        team=None,
        days=7,
        now=NOW,
        since=first.since,
        before_id=first.next_before,
    )
    assert [line.target for line in second.lines] == ["task #2", "task #1"]
    assert second.next_before is None


def test_a_team_filter_and_the_window_in_days(database: Database, config: CreditsConfig) -> None:
    _many(database, 2)
    with database.write() as session:
        audit.record_decision(
            session, workspace_id=WORKSPACE, team="video", action="deny", target="task #9", now=NOW - timedelta(days=9)
        )
    page = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=CAROL, team="design", days=7, now=NOW)
    assert [line.team for line in page.lines] == ["design", "design"]
    everything = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=CAROL, team=None, days=7, now=NOW)
    assert len(everything.lines) == 2  # the video entry is 9 days old
    wider = audit.read_audit(database, config, workspace_id=WORKSPACE, admin=CAROL, team=None, days=10, now=NOW)
    assert len(wider.lines) == 3


def test_only_admins_read_it_and_a_misspelt_team_gets_a_suggestion(database: Database, config: CreditsConfig) -> None:
    with pytest.raises(AdminOnlyError):
        audit.read_audit(database, config, workspace_id=WORKSPACE, admin=ALICE, team=None, days=7, now=NOW)
    with pytest.raises(UserFacingError, match="design"):
        audit.read_audit(database, config, workspace_id=WORKSPACE, admin=CAROL, team="desing", days=7, now=NOW)
