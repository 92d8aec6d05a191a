"""Our own mistakes, told the same way wherever they surface: a reference for the user, the traceback logged."""

from __future__ import annotations

import logging
import uuid

from bot.slack.blocks.errors import internal_error_blocks
from bot.slack.context import Reply

logger = logging.getLogger("bot.slack.listeners.errors")  # one logger for every unhandled error


def internal_error_reply(error: Exception, kind: str) -> Reply:
    """Our mistake: the traceback logged under a reference, the user shown the reference."""
    reference = uuid.uuid4().hex[:8]
    logger.error("unhandled error (ref %s) in a %s request", reference, kind, exc_info=error)
    return Reply(f"Something went wrong (ref {reference})", internal_error_blocks(reference))
