"""Reserving, charging and giving back credits the way production does: through the tasks service.

``/credits run``, ``done`` and ``cancel`` call these services; tests that need holds and captures
go through them too, so what they prove is what the bot does. A draft image costs one credit per
variant and ``retries=0`` prices no retries, so ``variants`` is exactly the credits reserved.
"""

from __future__ import annotations

from datetime import datetime

from bot.credits_file import CreditsConfig
from bot.domain.commands import TaskRequest
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import run_and_done as tasks
from bot.services.workspace.members import Member
from bot.store.db import Database

CAROL = Member("U0CAROL", "design", "admin", True)  # an admin: no limits, so nothing waits for approval


def run_for(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    credits: int,
    note: str,
    now: datetime,
    member: Member = CAROL,
) -> tasks.RunResult:
    """``/credits run image quality=draft variants=<credits> retries=0 "<note>"``: reserves ``credits``."""
    command = RunCommand(TaskRequest(tool="image", quality="draft", variants=credits, retries=0), note=note)
    return tasks.start_task(db, config, workspace_id=workspace_id, member=member, command=command, now=now)


def finish(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    number: int,
    cost: int,
    now: datetime,
    member: Member = CAROL,
) -> tasks.FinishResult:
    """``/credits done <number> cost=<cost>``."""
    command = DoneCommand(number=number, cost=cost)
    return tasks.finish_task(db, config, workspace_id=workspace_id, member=member, command=command, now=now)


def cancel(
    db: Database, config: CreditsConfig, *, workspace_id: str, number: int, now: datetime, member: Member = CAROL
) -> int:
    """``/credits cancel <number>``; returns the credits released."""
    command = CancelCommand(number=number)
    _, released, _ = task_cancel.cancel_task(
        db, config, workspace_id=workspace_id, member=member, command=command, now=now
    )
    return released


def number_of(result: tasks.RunResult) -> int:
    """The task number ``run`` gave."""
    assert result.task is not None
    return result.task.number
