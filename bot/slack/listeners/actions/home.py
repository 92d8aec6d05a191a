"""The Home tab's buttons (Quote a task, Done, Cancel) and the quote form's live changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.domain.task_commands import CancelCommand
from bot.slack.answers.tasks import answer_cancel
from bot.slack.blocks.quote_form import DoneFormState, done_form
from bot.slack.context import RequestContext
from bot.slack.flows.quote_form import first_team, new_form, redraw_form
from bot.slack.outbound.home_tabs import concerned, refresh_homes
from bot.slack.payloads import button_value


def _task_value(body: dict[str, Any]) -> tuple[str, int]:
    team, _, number = button_value(body).partition(":")
    if not team or not number.isdigit():
        raise UserFacingError("That button no longer points at a task; try `/credits tasks`.")
    return team, int(number)


def handle_home_quote_click(ack: Ack, body: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """Open the quote form for the team the button names."""
    ack()
    ctx = rc.for_command("", channel_id="")
    team = first_team(ctx, str(body["actions"][0].get("value") or "") or None)
    client.views_open(trigger_id=body["trigger_id"], view=new_form(ctx, team))


def handle_quote_form_change(ack: Ack, body: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """A tool, quality or number changed: redraw the options and the live quote (``views.update``)."""
    ack()
    view = body["view"]
    ctx = rc.for_command("", channel_id="")
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=redraw_form(ctx, view))


def handle_home_done_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """Open the short Done form (retries and kept, or the cost)."""
    ack()
    team, number = _task_value(body)
    client.views_open(
        trigger_id=body["trigger_id"], view=done_form(DoneFormState(team=team, number=number), f"#{number}")
    )


def handle_home_cancel_click(ack: Ack, body: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """Cancel the task as ``/credits cancel`` does, then redraw the tabs it changes."""
    ack()
    team, number = _task_value(body)
    ctx = rc.for_command("", channel_id="")
    reply = answer_cancel(ctx, CancelCommand(number=number, team=team))
    client.chat_postMessage(channel=rc.user_id, text=reply.text, blocks=reply.blocks)
    refresh_homes(rc.deps, client, rc.config, rc.workspace_id, concerned(rc.config, team, rc.user_id))
