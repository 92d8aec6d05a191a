"""Global middleware: what every listener gets through Bolt's context, and each request handled once.

``ProvideDeps`` puts the dependencies and the request's parties in ``context``; Bolt then passes a
context key to any listener argument of the same name (``deps``, ``config``, ``workspace_id``,
``user_id``, ``channel_id``, ``now``, ``request_key``), so listeners are plain module-level functions.

Bolt verifies signatures but keeps no replay cache, so an identical signed request replayed inside the
five-minute window would run again. The signature covers the timestamp and the body, so its hash
identifies the delivery; the database keeps it unique, which also holds across processes.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.slack.deps import Deps
from bot.slack.requests import parties
from bot.store.requests import claim_request, forget_old_requests

logger = logging.getLogger(__name__)
PRUNE_EVERY = 200


class ProvideDeps(Middleware):
    """First middleware: the dependencies, who sent the request, from where, and when."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Fill the context, then let the request on."""
        who = parties(req.body)
        req.context["deps"] = self.deps
        req.context["workspace_id"] = who.workspace_id
        req.context["user_id"] = who.user_id
        req.context["channel_id"] = who.channel_id
        req.context["now"] = self.deps.clock()
        req.context["request_key"] = ""
        return next()


_claims = itertools.count(1)  # deliveries claimed by this process; pruning runs every PRUNE_EVERY


def reject_replays(req: BoltRequest, context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse | None:
    """Claim the delivery in the database; a replay is answered 200 and goes no further."""
    signatures = req.headers.get("x-slack-signature") or []
    signature = signatures[0] if signatures else None
    if not signature:  # Socket Mode: Slack's own connection, no signature to replay
        return next_()
    deps: Deps = context["deps"]
    digest = hashlib.sha256(signature.encode()).hexdigest()
    now = context["now"]
    with deps.db.write() as session:
        fresh = claim_request(session, signature_hash=digest, now=now)
        if next(_claims) % PRUNE_EVERY == 0:
            forget_old_requests(session, now=now)
    context["request_key"] = digest[:40]  # idempotency key for what this request writes
    if not fresh:
        logger.info("ignored a replayed request (same signature already handled)")
        return BoltResponse(status=200, body="")
    return next_()


def load_config(context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse | None:
    """The workspace's effective config (credits file plus admin overrides), once per request."""
    deps: Deps = context["deps"]
    context["config"] = deps.effective_config(context["workspace_id"])
    return next_()
