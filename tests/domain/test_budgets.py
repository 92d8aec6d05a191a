"""Project budget rules and the ``admin budget`` / ``project=`` parsing."""

from __future__ import annotations

import pytest

from bot.domain.admin_commands import AdminBudgetCommand, parse_admin_budget
from bot.domain.budgets import ProjectUse, close_project, crossed_project_thresholds
from bot.domain.commands import parse_quote
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import parse_run


def test_holds_count_against_a_budget_before_the_work() -> None:
    use = ProjectUse("acme", 100, spent=50, held=30)
    assert (use.used, use.left, use.over_by(20), use.over_by(21), use.percent()) == (80, 20, 0, 1, 80)
    assert ProjectUse("acme", None, spent=500).over_by(1000) == 0 and ProjectUse("acme", None).left is None


def test_thresholds_are_reached_by_charges() -> None:
    assert crossed_project_thresholds(79, 100) == ()
    assert crossed_project_thresholds(80, 100) == (80,)
    assert crossed_project_thresholds(1000, 1000) == (80, 100)
    assert crossed_project_thresholds(5, 0) == ()


def test_admin_budget_parses_credits_or_none() -> None:
    assert parse_admin_budget("Design Acme 1,500") == AdminBudgetCommand("design", "acme", 1500)
    assert parse_admin_budget("design acme none") == AdminBudgetCommand("design", "acme", None)
    with pytest.raises(UserFacingError, match="Usage"):
        parse_admin_budget("design 1500")
    with pytest.raises(UserFacingError, match="positive whole number"):
        parse_admin_budget("design acme 0")


def test_project_on_quote_and_run() -> None:
    assert parse_quote("image project=ACME-spring").project == "acme-spring"
    assert parse_run("image project=acme storyboard").request.project == "acme"
    assert parse_run("image storyboard").request.project is None
    with pytest.raises(UserFacingError, match="use lowercase letters, digits"):  # the documented names only
        parse_run('image project="Nike  Spring"')
    assert parse_run("image project=new:acme2").request.project == "acme2"
    assert parse_run("image project=new:acme2").request.new_project
    with pytest.raises(UserFacingError, match="A project name is 1 to 80 characters"):
        parse_run("image project=" + "x" * 81)


def test_a_new_project_close_to_a_known_one_is_a_likely_typo() -> None:
    assert close_project("acne", {"acme", "nike"}) == "acme"
    assert close_project("acme2", {"acme"}) == "acme"
    assert close_project("acme", {"acme", "acne"}) is None  # a known name is never a typo
    assert close_project("globex", {"acme"}) is None
