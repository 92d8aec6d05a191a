"""What a charge above the hold breaks, and how today's pricing differs from the reserved one.

``done`` charges the real cost at the rates of its reservation, and Keter Labs' charges settle a task at
their sum (``done`` on a charged task, or the quiet-charges sweep); these say what the team and the member
are told about it (a flag in the team's channel, a line about repricing). ``flag_overrun`` is the one way
every path flags: it writes only the flag's line in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain.calendar import local_date
from bot.domain.lifecycle import ApprovalStatus
from bot.domain.limits import LimitKind, check_limits, describe_breach
from bot.domain.pricing import TaskSpec, actual_cost
from bot.services.quoting.quotes import member_role, member_week_usage
from bot.services.workspace.audit_trail import record_decision
from bot.services.workspace.members import Member
from bot.store import tasks as task_store
from bot.store.tables.tasks import Task


@dataclass(frozen=True)
class OverrunFlag:
    """A charge above the hold that broke a limit or an approved amount: recorded, and told to the team.

    The Slack edge posts it in the team's channel, in the task's approval thread when it had one.
    """

    team: str
    channel: str
    thread_ts: str | None
    member: str
    task_number: int
    quoted: int
    held: int
    cost: int
    broken: tuple[str, ...]  # e.g. "over the per-task limit of 50 by 142", "above the 60 credits approved"


@dataclass(frozen=True)
class Repricing:
    """The task was charged at the rates of its reservation, and today's pricing differs."""

    reserved_on: date
    reserved_rate: float
    today_rate: float | None  # None: the tool or quality is no longer priced
    unit: str
    today_cost: int | None


def repricing_of(config: CreditsConfig, task: Task, spec: TaskSpec, retries: int, cost: int) -> Repricing | None:
    """How today's pricing differs from the reserved one, if it does (for ``done`` to say so)."""
    if task.rate is None:
        return None
    today_tool = config.pricing.tools.get(task.tool)
    today_rate = today_tool.rates.get(task.quality) if today_tool else None
    today_cost = actual_cost(config.pricing, spec, retries) if today_rate is not None else None
    if today_cost == cost and today_rate == task.rate:
        return None
    reserved_on = local_date(task.created_at, config.teams[task.team].zone)
    return Repricing(reserved_on, task.rate, today_rate, task.unit or "unit", today_cost)


def overrun_breaches(
    session: Session,
    config: CreditsConfig,
    task: Task,
    *,
    member: Member,
    cost: int,
    held: int,
    now: datetime,
    counted: bool = False,
) -> tuple[str, ...]:
    """Which of the requester's limits in force (a raise approved for them included), or an approved amount,
    a charge above the hold breaks.

    ``counted``: the cost is already in the requester's week (Keter Labs' charges were recorded as they
    came); else the week holds the hold, and ``cost - held`` comes on top of it.
    """
    assert task.id is not None
    broken: list[str] = []
    role_name = member.role if member.user_id == task.requester else config.teams[task.team].members.get(task.requester)
    if role_name is not None and role_name in config.roles:
        requester = Member(task.requester, task.team, role_name, False)
        used = member_week_usage(session, config, workspace_id=task.workspace_id, member=requester, now=now)
        role, _ = member_role(session, config, workspace_id=task.workspace_id, member=requester, now=now)
        per_task = check_limits(role_name, role, cost, 0).breaches
        weekly = check_limits(role_name, role, 0 if counted else cost - held, used).breaches
        broken += [describe_breach(b) for b in per_task if b.kind is LimitKind.TASK]
        broken += [describe_breach(b) for b in weekly if b.kind is LimitKind.WEEKLY]
    request = task_store.task_request(session, task_id=task.id)
    if request is not None and request.status == ApprovalStatus.APPROVED and cost > request.amount:
        broken.append(f"{cost - request.amount:,} above the {request.amount:,} credits approved")
    return tuple(broken)


def flag_overrun(
    session: Session,
    config: CreditsConfig,
    task: Task,
    *,
    member: Member,
    cost: int,
    held: int,
    now: datetime,
    counted: bool = False,
) -> OverrunFlag | None:
    """The flag for a charge above the hold that breaks a limit or an approved amount (None: it breaks
    nothing), recorded in the audit trail; call it once per task, where its cost becomes final.

    ``held`` is what was reserved for it; ``counted`` as for ``overrun_breaches``.
    """
    if cost <= held:
        return None
    broken = overrun_breaches(session, config, task, member=member, cost=cost, held=held, now=now, counted=counted)
    if not broken:
        return None
    assert task.id is not None and task.number is not None
    request = task_store.task_request(session, task_id=task.id)
    thread = request.message_ts if request is not None and request.channel_id else None
    record_decision(
        session,
        workspace_id=task.workspace_id,
        team=task.team,
        action="overrun_flagged",
        target=f"task #{task.number}",
        now=now,
        member=task.requester,
        quoted=task.quoted_cost,
        held=held,
        cost=cost,
        broken=list(broken),
    )
    return OverrunFlag(
        task.team,
        config.teams[task.team].channel,
        thread,
        task.requester,
        task.number,
        task.quoted_cost,
        held,
        cost,
        broken,
    )
