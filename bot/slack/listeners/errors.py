"""The one error boundary: users see what to fix, or a reference; the logs get the traceback.

Listeners are wrapped with ``error_boundary`` rather than left to ``@app.error`` alone: when a
listener acks and then raises within a few milliseconds, Bolt's thread runner overwrites the ack
with ``None`` and Slack gets a 404 after 3 s instead of our answer. ``@app.error`` still catches
what fails outside a listener (middleware).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.context.respond import Respond

from bot.domain.errors import UserFacingError
from bot.slack.blocks.errors import internal_error_blocks, user_error_blocks, user_error_text
from bot.slack.deps import Deps

logger = logging.getLogger(__name__)


def report_error(error: Exception, respond: Respond | None, body: dict[str, Any] | None) -> None:
    """Tell the user: their mistake plainly, ours with a reference that is also logged."""
    if isinstance(error, UserFacingError):
        if respond is not None:
            message = user_error_text(error)
            respond(response_type="ephemeral", replace_original=False, text=message, blocks=user_error_blocks(message))
        return
    reference = uuid.uuid4().hex[:8]
    kind = (body or {}).get("type") or "command"
    logger.error("unhandled error (ref %s) in a %s request", reference, kind, exc_info=error)
    if respond is not None:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f"Something went wrong (ref {reference})",
            blocks=internal_error_blocks(reference),
        )


def error_boundary(handler: Callable[..., None]) -> Callable[..., None]:
    """Wrap a listener (which must take ``respond``) so no exception reaches Bolt's runner."""

    @functools.wraps(handler)
    def guarded(**kwargs: Any) -> None:
        try:
            handler(**kwargs)
        except Exception as error:  # the single boundary: reported to the user and logged
            report_error(error, kwargs.get("respond"), kwargs.get("body"))

    return guarded


def register(app: App, deps: Deps) -> None:
    """Install the app-wide handler for errors raised outside listeners."""

    @app.error
    def handle_errors(error: Exception, body: dict[str, Any], respond: Respond | None) -> None:
        report_error(error, respond, body)
