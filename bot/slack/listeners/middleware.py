"""Global middleware: each signed request is handled once, however often it is delivered.

Bolt verifies signatures but keeps no replay cache, so an identical signed request replayed inside the
five-minute window would run again. The signature covers the timestamp and the body, so its hash
identifies the delivery; the database keeps it unique, which also holds across processes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

from bot.slack.deps import Deps
from bot.store.requests import claim_request, forget_old_requests

logger = logging.getLogger(__name__)
PRUNE_EVERY = 200


def register(app: App, deps: Deps) -> None:
    """Add the replay guard to the app."""
    claims = {"count": 0}

    @app.use
    def reject_replays(req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        signatures = req.headers.get("x-slack-signature") or []
        signature = signatures[0] if signatures else None
        if not signature:  # Socket Mode: Slack's own connection, no signature to replay
            return next()
        digest = hashlib.sha256(signature.encode()).hexdigest()
        now = deps.clock()
        with deps.db.write() as session:
            fresh = claim_request(session, signature_hash=digest, now=now)
            claims["count"] += 1
            if claims["count"] % PRUNE_EVERY == 0:
                forget_old_requests(session, now=now)
        req.context["request_key"] = digest[:40]  # idempotency key for what this request writes
        if not fresh:
            logger.info("ignored a replayed request (same signature already handled)")
            return BoltResponse(status=200, body="")
        return next()
