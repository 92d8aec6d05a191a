"""Global middleware: what every listener gets through Bolt's context; and each delivery handled once.

``ProvideDeps`` puts the dependencies and the request's parties in ``context``; Bolt then passes a
context key to any listener argument of the same name (``deps``, ``config``, ``workspace_id``,
``user_id``, ``channel_id``, ``now``, ``request_key``; all of them with the config as one ``rc``), so
listeners are plain module-level functions.

Nothing here writes: between a request and its ``ack()`` there is only Bolt's signature check,
parsing and one cached config lookup, so a busy database never delays an acknowledgement. Replays
are stopped where they could do harm, after the ack: ``request_key`` names the *delivery* (the
``trigger_id`` Slack gives every slash command, click and form submission, an event's ``event_id``,
else the request's signature), the same in HTTP and Socket Mode; ``handled_once`` records it in the
first write transaction the listener makes (a read-only command records nothing), and records an
event before its handler runs, so a delivery that arrives twice acts once, in any process.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.util.utils import get_arg_names_of_callable

from bot.deps import Deps
from bot.services.workspace.slack_deliveries import DeliveryAlreadyHandledError, claim_event, claimed_by_first_write
from bot.slack.answers.registry import parse_command_line
from bot.slack.context import RequestContext
from bot.slack.payloads import parties

logger = logging.getLogger(__name__)
__all__ = ["DeliveryAlreadyHandledError", "Direct", "ProvideDeps", "delivery_key", "handled_once", "load_config"]


def delivery_key(body: dict[str, Any], signature: str | None) -> str:
    """A key unique to one delivery, identical when the same delivery arrives again.

    Two ``/credits admin topup design 500`` typed one after the other have different ``trigger_id``s
    (two top-ups); the same delivery replayed or redelivered carries the same one (one top-up).
    A payload with none of these (no Slack payload lacks all of them) gets a fresh key: never merged.
    """
    team = parties(body).workspace_id
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return _digest(f"{name}:{team}:{value}")
    if signature:
        return _digest(f"signature:{signature}")
    return _digest(f"unidentified:{uuid.uuid4()}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]


class ProvideDeps(Middleware):
    """First middleware: the dependencies, who sent the request, from where, when, and which delivery."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Fill the context, then let the request on."""
        who = parties(req.body)
        signatures = req.headers.get("x-slack-signature") or []
        req.context["deps"] = self.deps
        req.context["workspace_id"] = who.workspace_id
        req.context["user_id"] = who.user_id
        req.context["channel_id"] = who.channel_id
        req.context["now"] = self.deps.clock()
        req.context["request_key"] = delivery_key(req.body, signatures[0] if signatures else None)
        if "command_line" not in req.context:  # ``CreditsApp.dispatch`` parses it first; any other App here
            command_line = parse_command_line(req.body)
            if command_line is not None:
                req.context["command_line"] = command_line
        return next()


_ARGUMENTS: dict[str, Callable[[BoltRequest, BoltResponse, Callable[[], BoltResponse]], Any]] = {
    "context": lambda req, _resp, _next: req.context,
    "body": lambda req, _resp, _next: req.body,
    "client": lambda req, _resp, _next: req.context.client,
    "req": lambda req, _resp, _next: req,
    "resp": lambda _req, resp, _next: resp,
    "next": lambda _req, _resp, next_: next_,
    "next_": lambda _req, _resp, next_: next_,
}


class Direct(Middleware):
    """A middleware function called with just the arguments it names (``context``, ``body``, ``client``, ``next``…).

    Bolt wraps a plain function in ``CustomMiddleware``, whose argument injection builds some thirty
    values (every payload view, every utility) on each call; with four such functions per request that
    showed in the profile of a quote. The function is the same; only the call is cheaper.
    """

    def __init__(self, func: Callable[..., BoltResponse | None]) -> None:
        self.func = func
        self.names = [name for name in get_arg_names_of_callable(func) if name != "self"]  # a callable object
        unknown = [name for name in self.names if name not in _ARGUMENTS]
        if unknown:
            raise TypeError(f"{func!r} asks for {unknown}: give it Bolt's CustomMiddleware instead")

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Call the function with the arguments it asks for."""
        return self.func(**{name: _ARGUMENTS[name](req, resp, next) for name in self.names})

    @property
    def name(self) -> str:
        """Bolt's debug log names the function, not this wrapper."""
        return str(getattr(self.func, "__name__", type(self.func).__name__))


def load_config(context: BoltContext, next_: Callable[[], BoltResponse]) -> BoltResponse | None:
    """The workspace's effective config (credits file plus admin overrides), cached per change.

    With it, the request's context is complete: ``rc`` gathers all of it in one frozen ``RequestContext``.
    """
    deps: Deps = context["deps"]
    config = context["config"] = deps.effective_config(context["workspace_id"])
    command_line = context.get("command_line")
    context["rc"] = RequestContext(
        deps,
        context.client,
        config,
        context["workspace_id"],
        context["user_id"],
        context["channel_id"],
        context["now"],
        context["request_key"],
        text=command_line.text if command_line is not None else "",
    )
    return next_()


@contextmanager
def handled_once(context: BoltContext | None, body: dict[str, Any] | None) -> Iterator[bool]:
    """Around a listener, after its ack: yields False for an event already handled.

    An event is recorded before its handler runs (Slack retries events by ``event_id``); anything
    else is recorded by its first write (``Database.claim_on_first_write``), which raises
    ``DeliveryAlreadyHandledError`` on a replay, before anything is changed.
    """
    deps = context.get("deps") if context is not None else None
    if not isinstance(deps, Deps) or context is None:
        yield True
        return
    key, now = str(context.get("request_key") or ""), context["now"]
    if (body or {}).get("type") == "event_callback":
        fresh = claim_event(deps.db, key=key, now=now)
        if not fresh:
            logger.info("ignored a redelivered event (same event_id already handled)")
        yield fresh
        return
    with claimed_by_first_write(deps.db, key=key, now=now):
        yield True
