"""Role limits: when a task needs an approver, and who may approve it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.credits_file import ADMIN_ROLE, Role


class LimitKind(StrEnum):
    """Which limit a task breaks."""

    TASK = "per-task limit"
    WEEKLY = "weekly limit"


@dataclass(frozen=True)
class LimitBreach:
    """A limit a task goes over, and by how much."""

    kind: LimitKind
    limit: int
    over_by: int


@dataclass(frozen=True)
class LimitCheck:
    """A member's limits against a task's cost. ``None`` limits mean unlimited."""

    role: str
    task_limit: int | None
    weekly_limit: int | None
    weekly_used: int
    breaches: tuple[LimitBreach, ...]

    @property
    def needs_approval(self) -> bool:
        """The task goes over one of the member's limits."""
        return bool(self.breaches)

    @property
    def weekly_left(self) -> int | None:
        """What is left of the weekly limit before this task (never negative)."""
        if self.weekly_limit is None:
            return None
        return max(0, self.weekly_limit - self.weekly_used)


def check_limits(role_name: str, role: Role, cost: int, weekly_used: int) -> LimitCheck:
    """Compare a task's cost with the role's per-task limit and what is left of the weekly one."""
    if role_name == ADMIN_ROLE:
        return LimitCheck(role_name, None, None, weekly_used, ())
    breaches: list[LimitBreach] = []
    if role.task_limit is not None and cost > role.task_limit:
        breaches.append(LimitBreach(LimitKind.TASK, role.task_limit, cost - role.task_limit))
    if role.weekly_limit is not None and weekly_used + cost > role.weekly_limit:
        breaches.append(LimitBreach(LimitKind.WEEKLY, role.weekly_limit, weekly_used + cost - role.weekly_limit))
    return LimitCheck(role_name, role.task_limit, role.weekly_limit, weekly_used, tuple(breaches))


def can_approve(role_name: str, role: Role, amount: int) -> bool:
    """Admins approve anything; others up to their role's ``can_approve_up_to``."""
    if role_name == ADMIN_ROLE:
        return True
    return role.can_approve_up_to is not None and amount <= role.can_approve_up_to


def describe_breach(breach: LimitBreach) -> str:
    """``over the per-task limit of 2,000 by 700 credits``: how a broken limit reads everywhere."""
    return f"over the {breach.kind.value} of {breach.limit:,} by {breach.over_by:,} credits"
