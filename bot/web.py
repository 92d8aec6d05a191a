"""The WSGI edge: ``POST /slack/events`` for Bolt, ``POST /keter/charges`` (the charge feed) and ``GET /healthz``.

Production serves this with gunicorn's threaded workers (see ``bot.server``), never Bolt's
``app.start()`` development server; the console and the tests use ``bot.devtools.http_server``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
FEED_PATH = "/keter/charges"


class WsgiHandler(Protocol):
    """A WSGI callable (the charge feed's handler, ``bot.feed.http.FeedEndpoint``)."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]: ...


class SlackWsgiApp:
    """Bolt behind a thin guard: a malformed timestamp header is a 401 (Bolt itself answers 500)."""

    def __init__(self, app: App, *, feed: WsgiHandler | None = None, slack_events: bool = True) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.feed = feed  # None (KETER_WEBHOOK_SECRET unset): the feed's path is a 404
        self.slack_events = slack_events  # False under Socket Mode: only health and the feed are served

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _reply(start_response, "200 OK", {"ok": True})
        if path == FEED_PATH:
            if self.feed is None:
                return _reply(start_response, "404 Not Found", {"error": "not found"})
            if method != "POST":
                return _reply(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return self.feed(environ, start_response)
        if not self.slack_events:
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        if path == EVENTS_PATH and method == "POST":
            timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
            if not timestamp.isascii() or not timestamp.isdigit():
                return _reply(start_response, "401 Unauthorized", {"error": "invalid request"})
        return self.bolt(environ, start_response)


def _reply(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
