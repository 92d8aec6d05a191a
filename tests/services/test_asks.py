"""Requests for more at the service level: who decides, how long a raise lasts, and buying once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.domain.task_commands import RunCommand
from bot.services.approvals import credit_asks as asks
from bot.services.approvals import decisions as approvals
from bot.services.quoting.quotes import member_limits
from bot.services.workspace.members import Member
from bot.store.db import Database

WORKSPACE = "T0ASKS"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
ALICE = Member("U0ALICE", "design", "creator", False)
ULTRA = RunCommand(TaskRequest(tool="image", quality="ultra", variants=4))  # 80 credits: over 50 per task


def ask_raise(db: Database, config: CreditsConfig) -> int:
    asked = asks.ask_for_more(
        db,
        config,
        workspace_id=WORKSPACE,
        member=ALICE,
        kind=ApprovalKind.LIMIT_RAISE,
        command=ULTRA,
        run_command="/credits run image quality=ultra variants=4",
        now=NOW,
    )
    assert (asked.ask.task_limit, asked.ask.weekly_limit, asked.approval.task_id) == (80, None, None)
    return asked.approval.id


def approve(db: Database, config: CreditsConfig, approval_id: int, **options: object) -> approvals.Decision:
    return approvals.decide(
        db,
        config,
        workspace_id=WORKSPACE,
        approval_id=approval_id,
        decider="U0CAROL",
        is_workspace_admin=False,
        approve=True,
        note=None,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def test_a_raise_lasts_to_sunday_by_default_and_then_the_role_limits_are_back(
    database: Database, config: CreditsConfig
) -> None:
    decision = approve(database, config, ask_raise(database, config))
    assert decision.task is None and decision.approval.status == ApprovalStatus.APPROVED
    limits, until = member_limits(database, config, workspace_id=WORKSPACE, member=ALICE, now=NOW)
    assert (limits.task_limit, limits.weekly_limit, until) == (80, 300, date(2026, 11, 29))
    monday = NOW + timedelta(days=6)
    limits, until = member_limits(database, config, workspace_id=WORKSPACE, member=ALICE, now=monday)
    assert (limits.task_limit, until) == (50, None)


def test_a_raise_must_end_today_or_later_and_within_92_days(database: Database, config: CreditsConfig) -> None:
    approval_id = ask_raise(database, config)
    with pytest.raises(UserFacingError, match="at least until today"):
        approve(database, config, approval_id, until=date(2026, 11, 23))
    with pytest.raises(UserFacingError, match="at most 92 days"):
        approve(database, config, approval_id, until=date(2027, 3, 1))
    assert approve(database, config, approval_id, until=date(2026, 11, 24)).outcome == "decided"


def test_only_admins_decide_and_a_lead_is_told_so(database: Database, config: CreditsConfig) -> None:
    approval_id = ask_raise(database, config)
    with pytest.raises(UserFacingError, match="Only an admin can decide a request for a limit raise"):
        approvals.decide(
            database,
            config,
            workspace_id=WORKSPACE,
            approval_id=approval_id,
            decider="U0BOB",
            is_workspace_admin=False,
            approve=True,
            note=None,
            now=NOW,
        )


def test_bought_needs_an_approved_request_and_adds_once(database: Database, config: CreditsConfig) -> None:
    big = RunCommand(TaskRequest(tool="video", quality="high", duration_seconds=600))
    asked = asks.ask_for_more(
        database,
        config,
        workspace_id=WORKSPACE,
        member=ALICE,
        kind=ApprovalKind.EXTRA_CREDITS,
        command=big,
        run_command="/credits run video quality=high duration=600",
        now=NOW,
    )
    assert asked.ask.credits == 3500

    def bought() -> asks.Bought:
        return asks.record_bought(
            database,
            config,
            workspace_id=WORKSPACE,
            approval_id=asked.approval.id,
            admin="U0CAROL",
            is_workspace_admin=False,
            now=NOW,
        )

    with pytest.raises(UserFacingError, match="not approved; nothing was added"):
        bought()
    approve(database, config, asked.approval.id)
    first, second = bought(), bought()
    assert (first.added, second.added) == (True, False)
    assert second.balance.extra == 500 + 3500
    with pytest.raises(UserFacingError, match="can afford it now"):
        asks.ask_for_more(
            database,
            config,
            workspace_id=WORKSPACE,
            member=ALICE,
            kind=ApprovalKind.EXTRA_CREDITS,
            command=big,
            run_command="/credits run video quality=high duration=600",
            now=NOW,
        )
