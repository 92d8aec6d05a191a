"""Role limits with the shipped default roles: creator 50/300, lead 500/2000 (approves 2000), viewer 0/0."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.credits_file import Role, load_config
from bot.domain.limits import LimitBreach, LimitKind, can_approve, check_limits

ROLES = load_config(None).roles
CREATOR = ROLES["creator"]
LEAD = ROLES["lead"]
VIEWER = ROLES["viewer"]
ADMIN = ROLES["admin"]


def test_default_roles_are_as_documented() -> None:
    assert (CREATOR.task_limit, CREATOR.weekly_limit, CREATOR.can_approve_up_to) == (50, 300, None)
    assert (LEAD.task_limit, LEAD.weekly_limit, LEAD.can_approve_up_to) == (500, 2000, 2000)
    assert (VIEWER.task_limit, VIEWER.weekly_limit) == (0, 0)
    assert (ADMIN.task_limit, ADMIN.weekly_limit, ADMIN.can_approve_up_to) == (None, None, None)


def test_creator_under_both_limits() -> None:
    check = check_limits("creator", CREATOR, 32, weekly_used=100)
    assert not check.needs_approval
    assert check.breaches == ()
    assert check.task_limit == 50
    assert check.weekly_limit == 300
    assert check.weekly_left == 200


def test_creator_exactly_at_both_limits_needs_no_approval() -> None:
    check = check_limits("creator", CREATOR, 50, weekly_used=250)
    assert not check.needs_approval


def test_creator_over_task_limit() -> None:
    check = check_limits("creator", CREATOR, 64, weekly_used=0)
    assert check.needs_approval
    assert check.breaches == (LimitBreach(LimitKind.TASK, 50, 14),)


def test_creator_over_weekly_limit_only() -> None:
    check = check_limits("creator", CREATOR, 40, weekly_used=280)
    assert check.needs_approval
    assert check.breaches == (LimitBreach(LimitKind.WEEKLY, 300, 20),)
    assert check.weekly_used == 280
    assert check.weekly_left == 20


def test_creator_over_both_limits() -> None:
    check = check_limits("creator", CREATOR, 64, weekly_used=290)
    assert check.breaches == (
        LimitBreach(LimitKind.TASK, 50, 14),
        LimitBreach(LimitKind.WEEKLY, 300, 54),
    )
    assert {b.kind for b in check.breaches} == {LimitKind.TASK, LimitKind.WEEKLY}


def test_limit_kinds_read_well() -> None:
    assert str(LimitKind.TASK) == "per-task limit"
    assert str(LimitKind.WEEKLY) == "weekly limit"


def test_admin_has_no_limits() -> None:
    check = check_limits("admin", ADMIN, 1_000_000, weekly_used=1_000_000)
    assert not check.needs_approval
    assert check.task_limit is None
    assert check.weekly_limit is None
    assert check.weekly_left is None


def test_admin_name_wins_even_if_its_role_had_limits() -> None:
    check = check_limits("admin", CREATOR, 1000, weekly_used=0)
    assert not check.needs_approval


def test_role_without_limits_is_unlimited() -> None:
    check = check_limits("free", Role(), 10_000, weekly_used=10_000)
    assert not check.needs_approval
    assert check.weekly_left is None


@pytest.mark.parametrize("cost", [1, 4, 64])
def test_viewer_needs_approval_for_any_positive_cost(cost: int) -> None:
    check = check_limits("viewer", VIEWER, cost, weekly_used=0)
    assert check.needs_approval
    assert [b.kind for b in check.breaches] == [LimitKind.TASK, LimitKind.WEEKLY]
    assert all(b.over_by == cost for b in check.breaches)
    assert check.weekly_left == 0


def test_viewer_zero_cost_needs_no_approval() -> None:
    assert not check_limits("viewer", VIEWER, 0, weekly_used=0).needs_approval


def test_weekly_left_is_never_negative() -> None:
    check = check_limits("creator", CREATOR, 10, weekly_used=450)
    assert check.weekly_left == 0
    assert check.breaches == (LimitBreach(LimitKind.WEEKLY, 300, 160),)


@settings(deadline=None)
@given(
    role=st.sampled_from(["viewer", "creator", "lead"]),
    cost=st.integers(0, 5000),
    used=st.integers(0, 5000),
)
def test_breaches_match_the_limits(role: str, cost: int, used: int) -> None:
    limits = ROLES[role]
    check = check_limits(role, limits, cost, weekly_used=used)
    assert check.weekly_left is not None
    assert check.weekly_left >= 0
    assert check.needs_approval == (cost > limits.task_limit or used + cost > limits.weekly_limit)
    for breach in check.breaches:
        assert breach.over_by > 0


def test_lead_can_approve_up_to_its_cap() -> None:
    assert can_approve("lead", LEAD, 1)
    assert can_approve("lead", LEAD, 2000)
    assert not can_approve("lead", LEAD, 2001)


def test_admin_can_approve_anything() -> None:
    assert can_approve("admin", ADMIN, 10**9)


@pytest.mark.parametrize("role", ["creator", "viewer"])
def test_roles_without_a_cap_cannot_approve(role: str) -> None:
    assert not can_approve(role, ROLES[role], 1)
    assert not can_approve(role, ROLES[role], 0)
