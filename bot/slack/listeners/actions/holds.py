"""The buttons of a stale-hold reminder: Done and "It cost more/less" open the finish form, Cancel drops the task."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import TaskStatus
from bot.domain.task_commands import CancelCommand
from bot.services.tasks import stale_holds as holds
from bot.services.workspace.records import TaskRecord
from bot.slack.answers.tasks import answer_cancel
from bot.slack.blocks.holds import FormMode, HoldFormState, finish_form, outcome_blocks
from bot.slack.blocks.tasks import notice_blocks
from bot.slack.context import RequestContext
from bot.slack.payloads import button_value


def _clicked_task(deps: Deps, body: dict[str, Any]) -> TaskRecord:
    try:
        task_id = int(button_value(body))
    except (KeyError, IndexError, ValueError):
        raise UserFacingError(
            "That button no longer points at a task; `/credits tasks` lists your open tasks."
        ) from None
    task = holds.task_for_notice(deps.db, task_id=task_id)
    if task is None:
        raise UserFacingError("That task no longer exists; `/credits tasks` lists your open tasks.")
    return task


def _open_form(
    mode: FormMode, body: dict[str, Any], respond: Respond, client: WebClient, deps: Deps, workspace_id: str
) -> None:
    task = _clicked_task(deps, body)
    if task.status != TaskStatus.HELD:
        text = f"Task #{task.number} is already {task.status}; nothing to record."
        respond(replace_original=True, text=text, blocks=outcome_blocks(task, notice_blocks(text)))
        return
    container = body.get("container") or {}
    state = HoldFormState(
        task_id=task.id,
        mode=mode,
        channel=str(container.get("channel_id") or (body.get("channel") or {}).get("id") or ""),
        ts=str(container.get("message_ts") or ""),
    )
    client.views_open(trigger_id=body["trigger_id"], view=finish_form(task, state))


def handle_hold_done_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, deps: Deps, workspace_id: str
) -> None:
    """Done: the form asks for retries and versions kept."""
    ack()
    _open_form("usage", body, respond, client, deps, workspace_id)


def handle_hold_cost_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, deps: Deps, workspace_id: str
) -> None:
    """It cost more/less: the form asks for the credits Keter Labs charged."""
    ack()
    _open_form("cost", body, respond, client, deps, workspace_id)


def handle_hold_cancel_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """Cancel the task through ``/credits cancel``'s path; the reminder is redrawn with the outcome."""
    ack()
    task = _clicked_task(rc.deps, body)
    ctx = rc
    reply = answer_cancel(ctx, CancelCommand(number=task.number, team=task.team))
    respond(replace_original=True, text=reply.text, blocks=outcome_blocks(task, reply.blocks))
