"""``/credits``: route the text to its subcommand's handler; answer a read in the ack, a write after it.

``answer_reads_at_once`` (listener middleware) answers a read in the request's own thread and returns
the reply as the HTTP response: Bolt's listener runner would hand it to its pool and poll for the ack
every 10 ms, a cost that showed in the profile under load. Anything else, and any read that fails
unexpectedly, goes on to ``handle_credits_command`` (which reports errors through the boundary).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.domain.command_line import route
from bot.domain.errors import UserFacingError
from bot.slack.answers.registry import ANSWERED_IN_ACK, answer
from bot.slack.blocks.errors import user_error_blocks, user_error_text
from bot.slack.context import CommandContext, Reply, RequestContext
from bot.slack.outbound.home_tabs import concerned, refresh_homes


def handle_credits_command(
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    rc: RequestContext,
) -> None:
    """Every subcommand answers ephemerally, only to the person who typed it.

    A read (quote, balance, tasks, limits, help) is answered in the ack's body: one read transaction,
    nothing written, so a database busy with writes cannot delay it. Anything that writes or calls
    Slack acks first and answers through ``response_url``.
    """
    text = command.get("text", "")
    ctx = rc.command(client, text)
    try:
        invocation = route(text)
        if invocation.subcommand not in ANSWERED_IN_ACK:
            ack()
            reply = answer(ctx, invocation)
            respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
            if invocation.subcommand.name in CHANGES_BALANCES:  # a hold, a charge or a top-up: redraw Home tabs
                team = getattr(invocation.command, "team", None) or _team_of(invocation.command, ctx)
                if team:
                    refresh_homes(rc.deps, client, ctx.config, rc.workspace_id, concerned(ctx.config, team, rc.user_id))
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


def answer_reads_at_once(body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """A read (or a line that does not parse) answered here, its reply the ack's body; the rest go on."""
    text = str(body.get("text", ""))
    rc: RequestContext = context["rc"]
    ctx = rc.command(context.client, text)
    try:
        invocation = route(text)
        if invocation.subcommand not in ANSWERED_IN_ACK:
            return next()
        reply = answer(ctx, invocation)
    except UserFacingError as problem:
        message = user_error_text(problem)
        reply = Reply(message, user_error_blocks(message))
    except Exception:  # the listener answers it again, inside the error boundary, with a reference
        return next()
    blocks = [block.to_dict() for block in reply.blocks]
    return BoltResponse(status=200, body={"response_type": "ephemeral", "text": reply.text, "blocks": blocks})


CHANGES_BALANCES = frozenset({"run", "done", "cancel", "topup", "adjust"})


def _team_of(command: Any, ctx: CommandContext) -> str | None:
    request = getattr(command, "request", None)
    if request is not None and request.team:
        return str(request.team)
    try:
        return ctx.member().team
    except Exception:  # no single team to redraw: the tabs refresh when opened
        return None
