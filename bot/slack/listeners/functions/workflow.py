"""Workflow Builder steps: "Quote a Keter Labs task" and "Request Keter Labs credits".

Each runs through the same services as ``/credits quote`` and ``/credits run`` for the member the
workflow names, then completes the step with its outputs, or fails it with what was wrong.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.context.complete import Complete
from slack_bolt.context.fail import Fail
from slack_sdk import WebClient

from bot.domain.commands import TaskRequest, parse_project
from bot.domain.errors import UserFacingError
from bot.domain.keter_charges import task_reference
from bot.domain.task_commands import RunCommand
from bot.services.quoting.quotes import quote_task
from bot.services.tasks.run_and_done import start_task
from bot.services.workspace.members import Member
from bot.slack.context import RequestContext
from bot.slack.outbound.announce import post_request
from bot.slack.outbound.home_tabs import concerned, refresh_homes


def _request(inputs: dict[str, Any], team: str | None) -> TaskRequest:
    def whole(name: str) -> int | None:
        value = inputs.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UserFacingError(f"{name} must be a whole number, not {value!r}.") from None

    tool = str(inputs.get("tool") or "").strip().lower()
    if not tool:
        raise UserFacingError("The step needs a tool, e.g. image.")
    quality = str(inputs.get("quality") or "").strip().lower() or None
    project = str(inputs.get("project") or "").strip()
    return TaskRequest(
        tool=tool,
        quality=quality,
        variants=whole("variants") or 1,
        duration_seconds=whole("duration"),
        retries=None,
        team=team,
        project=parse_project(project) if project else None,  # the same rule as ``project=`` in a command
    )


def _member(rc: RequestContext, client: WebClient, inputs: dict[str, Any]) -> Member:
    """The member the step's ``member`` input names, with the team and role they act in (UserFacingError if none)."""
    member_id = str(inputs.get("member") or "")
    return replace(rc, client=client, user_id=member_id, channel_id="").member()


def handle_quote_step(
    inputs: dict[str, Any],
    complete: Complete,
    fail: Fail,
    client: WebClient,
    rc: RequestContext,
) -> None:
    """Outputs total, likely_low and likely_high (the range ``/credits quote`` shows), needs_approval."""
    try:
        member = _member(rc, client, inputs)
        report = quote_task(
            rc.deps.db,
            rc.config,
            workspace_id=rc.workspace_id,
            member=member,
            command=_request(inputs, member.team),
            now=rc.now,
        )
    except UserFacingError as error:
        fail(error=str(error))
        return
    total = report.quote.total
    likely = report.likely
    complete(
        outputs={
            "total": total,
            "likely_low": likely.low if likely is not None else total,
            "likely_high": likely.high if likely is not None else total,
            "needs_approval": report.needs_approval,
        }
    )


def handle_request_step(
    inputs: dict[str, Any],
    complete: Complete,
    fail: Fail,
    client: WebClient,
    rc: RequestContext,
) -> None:
    """Run the task for the member (reserve, or post an approval request); outputs task_reference (``KC-12``,
    the reference Keter Labs' charges name it by) and status."""
    try:
        member = _member(rc, client, inputs)
        note = str(inputs.get("note") or "").strip()[:200] or None
        command = RunCommand(request=_request(inputs, member.team), note=note)
        # A workflow may run the same step twice on purpose: no duplicate question, as with the button.
        result = start_task(
            rc.deps.db,
            rc.config,
            workspace_id=rc.workspace_id,
            member=member,
            command=command,
            now=rc.now,
            allow_duplicate=True,
        )
        assert result.task is not None
        if result.approval is not None:  # over a limit: the request goes to the team's channel, as for /credits run
            post_request(rc.deps, client, rc.config, result.approval, result.task, week_spend=result.week_spend)
    except UserFacingError as error:
        fail(error=str(error))
        return
    status = "reserved" if result.kind == "reserved" else "approval_needed"
    complete(outputs={"task_reference": task_reference(result.task.number), "status": status})
    refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, member.team, member.user_id))
