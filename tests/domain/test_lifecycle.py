"""The task and approval state machines: every allowed step, and every other step refused."""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import (
    OPEN_TASK_STATUSES,
    REFUSED_TASK_STATUSES,
    ApprovalStatus,
    IllegalTransitionError,
    TaskEvent,
    TaskStatus,
    initial_task_status,
    is_open,
    next_approval_status,
    next_task_status,
)

ALLOWED = {
    (TaskStatus.PENDING, TaskEvent.APPROVE): TaskStatus.HELD,
    (TaskStatus.PENDING, TaskEvent.DENY): TaskStatus.DENIED,
    (TaskStatus.PENDING, TaskEvent.EXPIRE): TaskStatus.EXPIRED,
    (TaskStatus.PENDING, TaskEvent.WITHDRAW): TaskStatus.WITHDRAWN,
    (TaskStatus.PENDING, TaskEvent.CANCEL): TaskStatus.CANCELLED,
    (TaskStatus.HELD, TaskEvent.FINISH): TaskStatus.DONE,
    (TaskStatus.HELD, TaskEvent.CANCEL): TaskStatus.CANCELLED,
    (TaskStatus.HELD, TaskEvent.RELEASE_STALE): TaskStatus.RELEASED,  # nobody reported it in time
    (TaskStatus.RELEASED, TaskEvent.FINISH): TaskStatus.DONE,  # reported late: the cost is a fact all the same
}


@pytest.mark.parametrize(("current", "event"), list(ALLOWED))
def test_allowed_task_steps(current: TaskStatus, event: TaskEvent) -> None:
    assert next_task_status(current, event) is ALLOWED[(current, event)]


@pytest.mark.parametrize(("current", "event"), [(s, e) for s in TaskStatus for e in TaskEvent if (s, e) not in ALLOWED])
def test_every_other_task_step_is_refused(current: TaskStatus, event: TaskEvent) -> None:
    with pytest.raises(IllegalTransitionError, match=f"task that is {current.value} cannot {event.value}"):
        next_task_status(current, event)


def test_closed_tasks_never_move_again() -> None:
    """Except a released hold reported late: its cost is still recorded."""
    for status in set(TaskStatus) - OPEN_TASK_STATUSES:
        for event in TaskEvent:
            if (status, event) == (TaskStatus.RELEASED, TaskEvent.FINISH):
                continue
            with pytest.raises(IllegalTransitionError):
                next_task_status(status, event)


def test_statuses_read_back_from_the_database_as_plain_strings_still_work() -> None:
    assert next_task_status("pending", TaskEvent.APPROVE) == "held"
    assert next_approval_status("pending", TaskEvent.DENY) == "denied"
    assert TaskStatus.HELD == "held" and f"{TaskStatus.DONE}" == "done"
    with pytest.raises(IllegalTransitionError):
        next_task_status("no such status", TaskEvent.CANCEL)


def test_a_new_task_waits_for_approval_only_over_a_limit() -> None:
    assert initial_task_status(needs_approval=True) is TaskStatus.PENDING
    assert initial_task_status(needs_approval=False) is TaskStatus.HELD


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        (TaskEvent.APPROVE, ApprovalStatus.APPROVED),
        (TaskEvent.DENY, ApprovalStatus.DENIED),
        (TaskEvent.EXPIRE, ApprovalStatus.EXPIRED),
        (TaskEvent.WITHDRAW, ApprovalStatus.WITHDRAWN),
        (TaskEvent.CANCEL, ApprovalStatus.CANCELLED),
    ],
)
def test_a_pending_request_settles_once(event: TaskEvent, outcome: ApprovalStatus) -> None:
    assert next_approval_status(ApprovalStatus.PENDING, event) is outcome
    for settled in set(ApprovalStatus) - {ApprovalStatus.PENDING}:
        with pytest.raises(IllegalTransitionError, match="request"):
            next_approval_status(settled, event)


@pytest.mark.parametrize("event", [TaskEvent.FINISH, TaskEvent.RELEASE_STALE])
def test_a_request_is_not_finished_or_released(event: TaskEvent) -> None:
    with pytest.raises(IllegalTransitionError):
        next_approval_status(ApprovalStatus.PENDING, event)


def test_open_and_refused_statuses() -> None:
    assert {s for s in TaskStatus if is_open(s)} == {TaskStatus.PENDING, TaskStatus.HELD}
    assert is_open("held") and not is_open("done")
    assert REFUSED_TASK_STATUSES.isdisjoint(OPEN_TASK_STATUSES) and TaskStatus.DONE not in REFUSED_TASK_STATUSES
