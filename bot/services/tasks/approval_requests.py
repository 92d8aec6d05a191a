"""The approval request a ``run`` over a limit (or an ask for more) opens, with the cost lines an approver reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.credits_file import CreditsConfig
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.services.quoting.quotes import QuoteReport
from bot.store.tables.tasks import Approval, Task


def new_approval(
    config: CreditsConfig,
    task: Task,
    amount: int,
    reasons: str,
    kind: ApprovalKind,
    now: datetime,
    details: str = "",
) -> Approval:
    """A pending request for ``amount`` on the task, expiring after the configured hours (not yet added)."""
    assert task.id is not None
    return pending_approval(
        config,
        workspace_id=task.workspace_id,
        team=task.team,
        requester=task.requester,
        task_id=task.id,
        kind=kind,
        amount=amount,
        reasons=reasons,
        details=details,
        now=now,
    )


def pending_approval(
    config: CreditsConfig,
    *,
    workspace_id: str,
    team: str,
    requester: str,
    task_id: int | None,
    kind: ApprovalKind,
    amount: int,
    reasons: str,
    details: str,
    now: datetime,
) -> Approval:
    """Any pending request (a task's, or an ask for more with no task): texts cut to their columns' sizes."""
    return Approval(
        workspace_id=workspace_id,
        team=team,
        task_id=task_id,
        kind=kind,
        requester=requester,
        amount=amount,
        reasons=reasons[:500],
        details=details[:2000],
        status=ApprovalStatus.PENDING,
        expires_at=now + timedelta(hours=config.approvals.expire_after_hours),
        created_at=now,
    )


def itemise(report: QuoteReport) -> str:
    """The cost lines an approver needs, kept with the request so its message can be redrawn later."""
    quote = report.quote
    retries = f"{quote.retries:g} {'given' if quote.retry_basis.value == 'given' else 'expected'}"
    exact = quote.attempt_cost + quote.retries_cost
    rounded = f" ({_figure(exact)} rounded up)" if abs(exact - quote.total) > 1e-9 else ""
    return (
        f"first attempt {_figure(quote.attempt_cost)} + cost of retries ({retries}) {_figure(quote.retries_cost)}"
        f" = {quote.total:,} credits{rounded}"
    )


def _figure(value: float) -> str:
    """``2,160``, ``0.25``: thousands separators, no float noise (approval lines are read on a phone)."""
    rounded = round(value, 2)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.2f}".rstrip("0").rstrip(".")
