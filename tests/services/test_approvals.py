"""``approvals.decide`` checks who decides, under the team's lock, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.credits_file import CreditsConfig, default_config_text, parse_config
from bot.domain.commands import TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalStatus, TaskStatus
from bot.domain.task_commands import RunCommand
from bot.services.approvals import decisions as approvals
from bot.services.tasks import run_and_done as tasks
from bot.services.workspace.members import Member
from bot.store.db import Database
from bot.store.tables.ledger import LedgerEntry

WORKSPACE = "T0DECIDE"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ALICE = Member("U0ALICE", "design", "creator", False)


@pytest.fixture
def team_config() -> CreditsConfig:
    """The default file with a second creator, U0EVE, who may approve nothing."""
    text = default_config_text().replace("U0CAROL: admin}", "U0CAROL: admin, U0EVE: creator}")
    return parse_config(text, "a test credits file")


def ask(db: Database, config: CreditsConfig, variants: int) -> int:
    """Alice runs ultra images over her per-task limit of 50: the run waits for an approver."""
    command = RunCommand(TaskRequest(tool="image", quality="ultra", variants=variants), note=f"{variants} ultra")
    result = tasks.start_task(db, config, workspace_id=WORKSPACE, member=ALICE, command=command, now=NOW)
    assert result.kind == "approval_needed" and result.approval is not None
    return result.approval.id


def decide(
    db: Database,
    config: CreditsConfig,
    approval_id: int,
    decider: str,
    *,
    workspace_id: str = WORKSPACE,
    admin: bool = False,
    now: datetime = NOW + timedelta(minutes=5),
) -> approvals.Decision:
    return approvals.decide(
        db,
        config,
        workspace_id=workspace_id,
        approval_id=approval_id,
        decider=decider,
        is_workspace_admin=admin,
        approve=True,
        note=None,
        now=now,
    )


def ledger_size(db: Database) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(LedgerEntry)).one())


def assert_untouched(db: Database, approval_id: int, entries: int) -> None:
    approval, task = approvals.get_approval(db, approval_id, workspace_id=WORKSPACE)
    assert approval.status is ApprovalStatus.PENDING and approval.decided_by is None
    assert task.status is TaskStatus.PENDING and task.held == approval.amount
    assert ledger_size(db) == entries


@pytest.mark.parametrize(
    ("decider", "workspace", "admin", "refusal"),
    [
        ("U0BOB", "T0OTHER", False, "another Slack workspace"),
        ("U0BOB", "", False, "another Slack workspace"),
        ("U0CAROL", "T0OTHER", True, "another Slack workspace"),
        ("U0ALICE", WORKSPACE, False, "can't decide your own request"),
        ("U0ALICE", WORKSPACE, True, "can't decide your own request"),
        ("U0DAN", WORKSPACE, False, "Only members of team design"),
        ("U0EVE", WORKSPACE, False, "can approve no requests"),
    ],
)
def test_an_ineligible_decider_is_refused_and_nothing_changes(
    database: Database, team_config: CreditsConfig, decider: str, workspace: str, admin: bool, refusal: str
) -> None:
    approval_id = ask(database, team_config, 4)  # 80 credits
    entries = ledger_size(database)
    with pytest.raises(UserFacingError, match=refusal):
        decide(database, team_config, approval_id, decider, workspace_id=workspace, admin=admin)
    assert_untouched(database, approval_id, entries)


def test_a_lead_decides_only_up_to_their_cap_and_an_admin_anything(
    database: Database, team_config: CreditsConfig
) -> None:
    large = ask(database, team_config, 130)  # 2,600 credits: over Bob's 2,000
    entries = ledger_size(database)
    with pytest.raises(UserFacingError, match=r"Your role \(lead\) can approve up to 2,000 credits"):
        decide(database, team_config, large, "U0BOB")
    assert_untouched(database, large, entries)
    assert decide(database, team_config, large, "U0CAROL").outcome == "decided"
    small = ask(database, team_config, 4)
    assert decide(database, team_config, small, "U0BOB").outcome == "decided"
    approval, task = approvals.get_approval(database, small, workspace_id=WORKSPACE)
    assert (approval.status, approval.decided_by, task.status) == (ApprovalStatus.APPROVED, "U0BOB", TaskStatus.HELD)


def test_a_workspace_admin_outside_the_team_may_decide(database: Database, team_config: CreditsConfig) -> None:
    approval_id = ask(database, team_config, 4)
    assert decide(database, team_config, approval_id, "U0DAN", admin=True).outcome == "decided"


def test_a_refused_click_after_the_expiry_time_does_not_expire_the_request(
    database: Database, team_config: CreditsConfig
) -> None:
    approval_id = ask(database, team_config, 4)
    entries = ledger_size(database)
    with pytest.raises(UserFacingError):
        decide(database, team_config, approval_id, "U0DAN", now=NOW + timedelta(hours=30))
    assert_untouched(database, approval_id, entries)
    assert decide(database, team_config, approval_id, "U0BOB", now=NOW + timedelta(hours=30)).outcome == "expired_now"


def test_a_late_eligible_click_finds_it_settled(database: Database, team_config: CreditsConfig) -> None:
    approval_id = ask(database, team_config, 4)
    decide(database, team_config, approval_id, "U0BOB")
    assert decide(database, team_config, approval_id, "U0CAROL").outcome == "already"
