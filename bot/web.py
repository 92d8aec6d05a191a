"""The WSGI edge: ``POST /slack/events`` for Bolt, ``GET /healthz``, and a threaded server for tests.

Production serves this with gunicorn's threaded workers (see ``bot.server``), never Bolt's
``app.start()`` development server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackWsgiApp:
    """Bolt behind a thin guard: a malformed timestamp header is a 401 (Bolt itself answers 500)."""

    def __init__(self, app: App) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _reply(start_response, "200 OK", {"ok": True})
        if path == EVENTS_PATH and method == "POST":
            timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
            if not timestamp.isascii() or not timestamp.isdigit():
                return _reply(start_response, "401 Unauthorized", {"error": "invalid request"})
        return self.bolt(environ, start_response)


def _reply(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger("bot.web").debug(format, *args)


class BackgroundServer:
    """The WSGI app over real HTTP on 127.0.0.1 (port 0), in a thread: for the console and the tests."""

    def __init__(self, wsgi_app: SlackWsgiApp) -> None:
        self._server = make_server("127.0.0.1", 0, wsgi_app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> BackgroundServer:
        """Serve until ``stop``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
