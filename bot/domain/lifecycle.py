"""A task's and an approval request's life as two small state machines.

The services ask these functions for the next status instead of writing status strings by hand, so
an impossible step (capturing a cancelled task, deciding a request twice) is refused in one place.
The values are the strings stored in the database.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """Where a task is: holding credits (open) or finished one way or another (closed)."""

    PENDING = "pending"  # credits held, waiting for an approver
    HELD = "held"  # credits held, free to run
    DONE = "done"
    CANCELLED = "cancelled"
    DENIED = "denied"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    RELEASED = "released"  # held but never reported: its hold was given back after ``holds.release_after_days``


class ApprovalStatus(StrEnum):
    """An approval request: waiting, or settled exactly once."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


class ApprovalKind(StrEnum):
    """What a request asks for: a new task over a limit (``TASK``), or more for a member.

    ``LIMIT_RAISE`` and ``EXTRA_CREDITS`` are a member's requests for more ("Ask for a limit raise",
    "Ask for extra credits"): they concern no task, and only admins decide them.
    """

    TASK = "task"
    LIMIT_RAISE = "limit_raise"
    EXTRA_CREDITS = "extra_credits"


ASK_KINDS = frozenset({ApprovalKind.LIMIT_RAISE, ApprovalKind.EXTRA_CREDITS})
"""Requests for more, decided by admins only, with no task behind them."""


class TaskEvent(StrEnum):
    """What can happen to a task (and, for the decisions, to its approval request)."""

    APPROVE = "approve"
    DENY = "deny"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"  # the request could not be posted
    CANCEL = "cancel"
    FINISH = "finish"  # its real cost is captured
    RELEASE_STALE = "release_stale"  # nobody reported it in time: the hold goes back


OPEN_TASK_STATUSES = frozenset({TaskStatus.PENDING, TaskStatus.HELD})
"""Tasks that still hold credits."""

REFUSED_TASK_STATUSES = frozenset({TaskStatus.CANCELLED, TaskStatus.DENIED, TaskStatus.EXPIRED, TaskStatus.WITHDRAWN})
"""Tasks that never ran: a second identical run is not a duplicate of these."""

_TASK_TRANSITIONS: dict[tuple[TaskStatus, TaskEvent], TaskStatus] = {
    (TaskStatus.PENDING, TaskEvent.APPROVE): TaskStatus.HELD,
    (TaskStatus.PENDING, TaskEvent.DENY): TaskStatus.DENIED,
    (TaskStatus.PENDING, TaskEvent.EXPIRE): TaskStatus.EXPIRED,
    (TaskStatus.PENDING, TaskEvent.WITHDRAW): TaskStatus.WITHDRAWN,
    (TaskStatus.PENDING, TaskEvent.CANCEL): TaskStatus.CANCELLED,
    (TaskStatus.HELD, TaskEvent.FINISH): TaskStatus.DONE,
    (TaskStatus.HELD, TaskEvent.CANCEL): TaskStatus.CANCELLED,
    (TaskStatus.HELD, TaskEvent.RELEASE_STALE): TaskStatus.RELEASED,
    # Reported after its hold was given back: the cost is still a fact, charged from what is available.
    (TaskStatus.RELEASED, TaskEvent.FINISH): TaskStatus.DONE,
}

_APPROVAL_OUTCOMES: dict[TaskEvent, ApprovalStatus] = {
    TaskEvent.APPROVE: ApprovalStatus.APPROVED,
    TaskEvent.DENY: ApprovalStatus.DENIED,
    TaskEvent.EXPIRE: ApprovalStatus.EXPIRED,
    TaskEvent.WITHDRAW: ApprovalStatus.WITHDRAWN,
    TaskEvent.CANCEL: ApprovalStatus.CANCELLED,
}


class IllegalTransitionError(ValueError):
    """A step the state machine does not allow: a bug in the caller, never a user's mistake."""

    def __init__(self, what: str, current: str, event: TaskEvent) -> None:
        super().__init__(f"a {what} that is {current} cannot {event.value}")
        self.current = current
        self.event = event


def initial_task_status(needs_approval: bool) -> TaskStatus:
    """A new task waits for an approver when it breaks a limit; otherwise it may run at once."""
    return TaskStatus.PENDING if needs_approval else TaskStatus.HELD


def next_task_status(current: TaskStatus | str, event: TaskEvent) -> TaskStatus:
    """The task's status after ``event``; IllegalTransitionError if it cannot happen now."""
    try:
        return _TASK_TRANSITIONS[(TaskStatus(current), event)]
    except (KeyError, ValueError):
        raise IllegalTransitionError("task", str(current), event) from None


def next_approval_status(current: ApprovalStatus | str, event: TaskEvent) -> ApprovalStatus:
    """A pending request's outcome for ``event``; a settled request never changes again."""
    outcome = _APPROVAL_OUTCOMES.get(event)
    if current != ApprovalStatus.PENDING or outcome is None:
        raise IllegalTransitionError("request", str(current), event)
    return outcome


def is_open(status: TaskStatus | str) -> bool:
    """The task still holds credits (it may be finished or cancelled)."""
    return status in OPEN_TASK_STATUSES
