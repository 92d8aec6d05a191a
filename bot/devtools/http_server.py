"""The bot's WSGI app over real HTTP on 127.0.0.1, in a background thread: for the console and the tests.

Production never uses it (gunicorn serves ``bot.web.SlackWsgiApp``; see ``bot.server``).
"""

from __future__ import annotations

import logging
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.web import SlackWsgiApp

logger = logging.getLogger(__name__)

# ``shutdown`` waits for the serving loop's next poll: a short poll keeps ``stop`` (every test teardown) fast.
POLL_SECONDS = 0.02


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


class BackgroundServer:
    """The WSGI app over real HTTP on 127.0.0.1 (port 0), in a thread: for the console and the tests."""

    def __init__(self, wsgi_app: SlackWsgiApp) -> None:
        self._server = make_server("127.0.0.1", 0, wsgi_app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_SECONDS,), name="http", daemon=True
        )

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
        self._thread.join(timeout=5)
