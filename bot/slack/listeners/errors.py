"""The one error boundary: users see what to fix, or a reference; the logs get the traceback.

Every listener is wrapped with ``error_boundary`` when it is registered, rather than left to
``@app.error`` alone: when a listener acks and then raises within a few milliseconds, Bolt's thread
runner overwrites the ack with ``None`` and Slack gets a 404 after 3 s instead of our answer.
``report_unhandled`` (``@app.error``) still catches what fails outside a listener (middleware).
Where a request has no ``response_url`` (a modal's submission), the user is told with ``chat.postEphemeral``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.domain.errors import UserFacingError
from bot.slack.blocks.errors import user_error_blocks, user_error_text
from bot.slack.flows.internal_errors import internal_error_reply
from bot.slack.listeners.middleware import DeliveryAlreadyHandledError, handled_once

logger = logging.getLogger(__name__)

WRAPPED = "__error_boundary_wraps__"


def _tell_privately(client: WebClient | None, context: BoltContext | None, text: str, blocks: list[Block]) -> None:
    """No ``respond``: an ephemeral message in the request's channel, or in the user's DM with the bot."""
    if client is None or context is None or not context.get("user_id"):
        return
    user = str(context["user_id"])
    channel = str(context.get("channel_id") or "") or user
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
    except SlackApiError as exc:
        logger.warning("could not tell a user about an error (%s)", exc.response.get("error"))


def report_error(
    error: Exception,
    respond: Respond | None,
    body: dict[str, Any] | None,
    *,
    client: WebClient | None = None,
    context: BoltContext | None = None,
) -> None:
    """Tell the user: their mistake plainly, ours with a reference that is also logged."""
    if isinstance(error, DeliveryAlreadyHandledError):  # a replay: the first delivery was answered
        logger.info("ignored a replayed %s delivery (already handled)", (body or {}).get("type") or "command")
        return
    if isinstance(error, UserFacingError):
        message = user_error_text(error)
        text, blocks = message, user_error_blocks(message, command_text=(body or {}).get("text"), error=error)
    else:
        reply = internal_error_reply(error, (body or {}).get("type") or "command")
        text, blocks = reply.text, reply.blocks
    if respond is not None and respond.response_url:  # Bolt passes a respond without a URL to modals
        respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
    else:
        _tell_privately(client, context, text, blocks)


def _argument(args: Args, name: str) -> Any:
    """What Bolt offers under ``name``: one of its own arguments, else a key the middleware put in the context."""
    return getattr(args, name) if hasattr(args, name) else args.context.get(name)


def error_boundary(listener: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener so no exception reaches Bolt's runner, and a delivery acts once (``handled_once``).

    The wrapper takes Bolt's public ``args: Args`` (every argument Bolt can inject, the context
    included) and passes the listener just the ones it names, read from its own signature.
    """
    own = list(inspect.signature(listener).parameters)

    def guarded(args: Args) -> None:
        try:
            with handled_once(args.context, args.body) as fresh:
                if fresh:
                    listener(**{name: _argument(args, name) for name in own})
        except Exception as error:  # the single boundary: reported to the user and logged
            report_error(error, args.respond, args.body, client=args.client, context=args.context)

    guarded.__name__ = guarded.__qualname__ = listener.__name__
    guarded.__doc__ = listener.__doc__
    setattr(guarded, WRAPPED, listener)
    return guarded


def wrapped_listener(function: Callable[..., Any]) -> Callable[..., Any] | None:
    """The listener inside an ``error_boundary`` wrapper, or None if ``function`` is not one."""
    inner = getattr(function, WRAPPED, None)
    return inner if callable(inner) else None


def report_unhandled(
    error: Exception, body: dict[str, Any], respond: Respond | None, client: WebClient, context: BoltContext
) -> None:
    """``@app.error``: what failed outside a listener (middleware) goes the same way."""
    report_error(error, respond, body, client=client, context=context)
