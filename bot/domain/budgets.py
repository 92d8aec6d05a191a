"""Project budgets: what a client project may spend in a cycle, and when a task would take it over.

A project's use in a cycle is what its tasks were charged in the cycle plus what its open tasks
still hold, so a reservation counts against the budget before the work, like a member's weekly limit.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

PROJECT_THRESHOLDS = (80, 100)
"""The shares of a project's budget that alert the team's channel, once each per cycle."""


@dataclass(frozen=True)
class ProjectUse:
    """A project's budget for the cycle (None: no budget set) against what it spent and holds."""

    project: str
    budget: int | None
    spent: int = 0
    held: int = 0

    @property
    def used(self) -> int:
        """Charged in the cycle plus held by its open tasks."""
        return self.spent + self.held

    @property
    def left(self) -> int | None:
        """What the budget has left (negative when it is exceeded); None without a budget."""
        return None if self.budget is None else self.budget - self.used

    def over_by(self, cost: int) -> int:
        """How far ``cost`` more would take the project over its budget (0: within it, or no budget)."""
        if self.budget is None:
            return 0
        return max(0, self.used + cost - self.budget)

    def percent(self) -> int:
        """The share of the budget used, in whole percent, rounded down (100 only once it is all used)."""
        if not self.budget:
            return 0
        return self.used * 100 // self.budget


def crossed_project_thresholds(spent: int, budget: int) -> tuple[int, ...]:
    """The alert thresholds a project's charges have reached (holds do not alert: they may come back)."""
    if budget <= 0:
        return ()
    return tuple(t for t in PROJECT_THRESHOLDS if spent * 100 >= t * budget)


def describe_project_breach(project: str, budget: int, over_by: int) -> str:
    """``over project acme's budget of 1,000 by 240``: the reason an approver reads."""
    return f"over project {project}'s budget of {budget:,} by {over_by:,}"


PROJECT_LIKENESS = 0.75  # difflib's ratio at and above which a new name reads as a typo of a known one


def close_project(name: str, known: set[str]) -> str | None:
    """The team's project a new ``name`` is most likely a typo of (``acne`` for ``acme``), or None.

    A known name is never a typo; a new one is when difflib's ratio to a known one is at least
    ``PROJECT_LIKENESS`` (``acne`` against ``acme``: 0.75; ``acme2``: 0.89), so it needs ``project=new:acme2``.
    """
    if name in known:
        return None
    matches = difflib.get_close_matches(name, sorted(known), n=1, cutoff=PROJECT_LIKENESS)
    return matches[0] if matches else None
