"""``/credits``: route the text to its subcommand's handler; answer a read in the ack, a write after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.config import CreditsConfig
from bot.domain.command_line import route
from bot.domain.errors import UserFacingError
from bot.slack.answers.context import CommandContext
from bot.slack.blocks.errors import user_error_blocks, user_error_text
from bot.slack.deps import Deps
from bot.slack.subcommands import ANSWERED_IN_ACK, answer


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
    """Every subcommand answers ephemerally, only to the person who typed it.

    A read (quote, balance, tasks, limits, help) is answered in the ack's body: one read transaction,
    nothing written, so a database busy with writes cannot delay it. Anything that writes or calls
    Slack acks first and answers through ``response_url``.
    """
    text = command.get("text", "")
    ctx = CommandContext(deps, client, config, workspace_id, user_id, channel_id, text, request_key, now)
    try:
        invocation = route(text)
        if invocation.subcommand not in ANSWERED_IN_ACK:
            ack()
            reply = answer(ctx, invocation)
            respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
            return
        reply = answer(ctx, invocation)
    except UserFacingError as problem:
        if ack.response is not None:  # acked already: the error boundary answers through response_url
            raise
        message = user_error_text(problem)
        ack(response_type="ephemeral", text=message, blocks=user_error_blocks(message))
        return
    except Exception:
        if ack.response is None:
            ack()  # the error boundary answers through response_url, with a reference
        raise
    ack(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
