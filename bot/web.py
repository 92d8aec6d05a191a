"""The WSGI edge: ``POST /slack/events`` (Bolt), ``POST /keter/charges`` (the feed), ``GET /healthz`` and ``/readyz``.

``/healthz`` says the process is alive (always 200); ``/readyz`` says it can do its work: 200 when
the database answers and Slack has answered ``auth.test``, 503 with ``{"ready": false, "reason": …}``
otherwise (``bot.wiring.Process.not_ready``).

Production serves this with gunicorn's threaded workers (see ``bot.server``), never Bolt's
``app.start()`` development server; the console and the tests use ``bot.devtools.http_server``.

Only a request Slack really signed reaches Bolt. The edge reads at most ``MAX_BODY_BYTES`` (more is
refused with 413 before a byte of it is read), checks the signature over the exact bytes (401
otherwise, whatever the body claims: no ``response_url``, user or team of an unverified request is
ever used), then checks the body is a Slack payload of the shape Bolt expects (400 otherwise). Each
refusal is one short log line (reason, size, client address), never the body.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
# Slack's payloads to this app are a few KB: a slash command's form (its text is at most 4,000
# characters), a click carrying the bot's own approval message, a small modal's state, an event.
# 64 KiB leaves ample room and keeps a flood of large unsigned posts cheap to refuse.
MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW_SECONDS = 300  # Slack's rule: a signature older (or newer) than five minutes is refused
MAX_TIMESTAMP_DIGITS = 12


class RefusedError(Exception):
    """Why a request was refused, as an HTTP status and a short reason for the log."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


FEED_PATH = "/keter/charges"


class WsgiHandler(Protocol):
    """A WSGI callable (the charge feed's handler, ``bot.feed.webhook.FeedEndpoint``)."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]: ...


class SlackWsgiApp:
    """Bolt behind a guard that lets only signed, well-formed Slack payloads of sane size through."""

    def __init__(
        self,
        app: App,
        signing_secret: str,
        *,
        feed: WsgiHandler | None = None,
        slack_events: bool = True,
        not_ready: Callable[[], str | None] | None = None,
    ) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        # The same secret Bolt is built with (``bot.wiring`` passes both); slack_sdk's verifier checks it.
        self._verifier = SignatureVerifier(signing_secret)
        self.feed = feed  # None (KETER_WEBHOOK_SECRET unset): the feed's path is a 404
        self.slack_events = slack_events  # False under Socket Mode: only health and the feed are served
        self.not_ready = not_ready  # why the process cannot work yet (None: it can); unset: always ready

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return json_reply(start_response, "200 OK", {"ok": True})
        if path == READY_PATH and method in ("GET", "HEAD"):
            reason = self.not_ready() if self.not_ready is not None else None
            if reason:
                return json_reply(start_response, "503 Service Unavailable", {"ready": False, "reason": reason})
            return json_reply(start_response, "200 OK", {"ready": True})
        if path == FEED_PATH:
            if self.feed is None:
                return json_reply(start_response, "404 Not Found", {"error": "not found"})
            if method != "POST":
                return json_reply(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return self.feed(environ, start_response)
        if not self.slack_events:
            return json_reply(start_response, "404 Not Found", {"error": "not found"})
        if path == EVENTS_PATH and method == "POST":
            try:
                body = self.admit(environ)
            except RefusedError as refusal:
                logger.warning(
                    "refused a request to %s: %s (%s bytes declared, from %s)",
                    EVENTS_PATH,
                    refusal.reason,
                    _declared_length(environ),
                    environ.get("REMOTE_ADDR", "?"),
                )
                return json_reply(start_response, refusal.status, {"error": refusal.reason})
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.bolt(environ, start_response)

    def admit(self, environ: WSGIEnvironment) -> bytes:
        """The body of a signed, well-formed Slack request, or a ``RefusedError``."""
        body = read_body(environ, MAX_BODY_BYTES)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            raise RefusedError("401 Unauthorized", "malformed timestamp")
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise RefusedError("401 Unauthorized", "stale timestamp")
        try:  # slack_sdk's verifier reads the body as text; Slack sends only UTF-8
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise RefusedError("400 Bad Request", "body is not UTF-8") from None
        if not self._verifier.is_valid(text, timestamp, signature):
            raise RefusedError("401 Unauthorized", "bad signature")
        check_payload(body, environ.get("CONTENT_TYPE", ""))
        return body


def _declared_length(environ: WSGIEnvironment) -> str:
    length = str(environ.get("CONTENT_LENGTH") or "none")
    return length if length.isascii() and length.isdigit() and len(length) < 20 else "invalid"


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """At most ``limit`` bytes: a larger declared length is refused unread, an undeclared one read to the limit.

    The one body rule of every POST this process serves (Slack's events, the charge feed).
    """
    declared = str(environ.get("CONTENT_LENGTH") or "")
    stream = environ["wsgi.input"]
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise RefusedError("400 Bad Request", "invalid Content-Length")
        if int(declared) > limit:
            raise RefusedError("413 Content Too Large", f"body over {limit} bytes")
        body = stream.read(int(declared))
    else:
        body = stream.read(limit + 1)
    if len(body) > limit:
        raise RefusedError("413 Content Too Large", f"body over {limit} bytes")
    return bytes(body)


def check_payload(body: bytes, content_type: str) -> None:
    """A signed body must still be one of Slack's payloads, in the shape Bolt and the listeners read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedError("400 Bad Request", "body is not UTF-8") from None
    is_json = content_type.split(";")[0].strip().lower() == "application/json"
    if is_json != text.lstrip().startswith("{"):  # Bolt picks its parser by the first character
        raise RefusedError("400 Bad Request", "body does not match its Content-Type")
    if is_json:
        _check_object(_json_object(text, "JSON body"))
        return
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        _check_object(_json_object(form["payload"][0], "payload"))
    elif "command" not in form and "ssl_check" not in form:
        raise RefusedError("400 Bad Request", "form is neither a command nor an interaction")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise RefusedError("400 Bad Request", f"{what} is not valid JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise RefusedError("400 Bad Request", f"{what} is not a Slack payload")
    return value


def _check_object(payload: dict[str, Any]) -> None:
    """The parts of a payload Bolt's matchers and the listeners index without checking (400 when missing).

    Slack always sends them; a signed body without them is not Slack's, and would otherwise end in a
    500 and a traceback somewhere past the ack.
    """
    kind = payload["type"]
    if kind in ("view_submission", "view_closed"):
        _check_view(payload.get("view"), kind)
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(_is_action(action) for action in actions):
            raise RefusedError("400 Bad Request", "block_actions without actions (each an object with an action_id)")
    if kind in ("shortcut", "message_action") and not isinstance(payload.get("callback_id"), str):
        raise RefusedError("400 Bad Request", f"{kind} without a callback_id")
    if kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise RefusedError("400 Bad Request", "event_callback without an event")
        if event["type"] == "function_executed":
            _check_function(event)


def _is_action(action: object) -> bool:
    return (
        isinstance(action, dict)
        and isinstance(action.get("action_id"), str)
        and isinstance(action.get("block_id", ""), str)
    )


def _check_view(view: object, kind: str) -> None:
    """A view with a callback_id, string metadata, and a state whose values are objects of objects."""
    state = view.get("state") if isinstance(view, dict) else None
    if not isinstance(view, dict) or not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        raise RefusedError("400 Bad Request", f"{kind} without a view state")
    if not isinstance(view.get("callback_id"), str) or not isinstance(view.get("private_metadata", ""), str):
        raise RefusedError("400 Bad Request", f"{kind} without a view callback_id")
    for block in state.get("values", {}).values():
        if not isinstance(block, dict) or not all(isinstance(value, dict) for value in block.values()):
            raise RefusedError("400 Bad Request", f"{kind} with a malformed view state")


def _check_function(event: dict[str, Any]) -> None:
    """A custom step's run: its execution id, its function's callback_id and its inputs."""
    function = event.get("function")
    if (
        not isinstance(event.get("function_execution_id"), str)
        or not isinstance(function, dict)
        or not isinstance(function.get("callback_id"), str)
        or not isinstance(event.get("inputs", {}), dict)
    ):
        raise RefusedError("400 Bad Request", "function_executed without its function, execution id or inputs")


def json_reply(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    """A JSON answer: every answer of this edge that is not Bolt's."""
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
