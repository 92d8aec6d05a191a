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
    reply = answer(ctx, route(text))
    respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
