"""``/credits``: ack at once, route the text to its subcommand's handler, answer through ``response_url``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.config import CreditsConfig
from bot.domain.command_line import route
from bot.slack.answers.context import CommandContext
from bot.slack.deps import Deps
from bot.slack.home import concerned, refresh_homes
from bot.slack.subcommands import answer


def handle_credits_command(
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    deps: Deps,
    config: CreditsConfig,
    workspace_id: str,
    user_id: str,
    channel_id: str,
    request_key: str,
    now: datetime,
) -> None:
    """Every subcommand answers ephemerally, only to the person who typed it."""
    ack()
    text = command.get("text", "")
    ctx = CommandContext(deps, client, config, workspace_id, user_id, channel_id, text, request_key, now)
    invocation = route(text)
    reply = answer(ctx, invocation)
    respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
    if invocation.subcommand.name in CHANGES_BALANCES:  # a hold, a charge or a top-up: redraw Home tabs
        team = getattr(invocation.command, "team", None) or _team_of(invocation.command, ctx)
        if team:
            refresh_homes(deps, client, ctx.config, workspace_id, concerned(ctx.config, team, user_id))


CHANGES_BALANCES = frozenset({"run", "done", "cancel", "topup"})


def _team_of(command: Any, ctx: CommandContext) -> str | None:
    request = getattr(command, "request", None)
    if request is not None and request.team:
        return str(request.team)
    try:
        return ctx.member().team
    except Exception:  # no single team to redraw: the tabs refresh when opened
        return None
