"""The Slack stand-in's HTTP plumbing: how requests are read, routed and answered on the wire.

That covers reading Web API arguments the way Slack does (query string, form or JSON body, and Slack's
leniency about booleans, integers and timestamps in forms) as well as the server and request handler.

Kept apart from :mod:`bot.devtools.slack_standin` (recording, faults, lifecycle),
:mod:`bot.devtools.standin_workspace` (the workspace), :mod:`bot.devtools.standin_methods` and
:mod:`bot.devtools.standin_surfaces` (what each Web API method answers) so that the transport can be read
and changed without wading through Slack semantics. Nothing here knows which methods exist; the server
hands every request to an object with the three entry points of :class:`Endpoints`, which
``SlackStandIn`` provides.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

# Values slack_sdk sends as JSON strings inside form bodies; decoded so tests see Python objects.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")

ApiArgs = dict[str, Any]
ApiAnswer = dict[str, Any]


class ApiError(Exception):
    """Raised by a method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer, built by the stand-in and written out unchanged by the handler."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """A JSON answer, the shape of every Web API reply."""
        return cls(status, json.dumps(payload).encode(), headers=headers or {})

    @classmethod
    def plain(cls, text: str, status: int = 200) -> Reply:
        """A text answer, as Slack gives on response URLs and upload URLs (and the stand-in on unknown paths)."""
        return cls(status, text.encode(), content_type="text/plain; charset=utf-8")


def truthy(value: Any) -> bool:
    """Slack's reading of a boolean argument: JSON true, or "1"/"true" in a form."""
    return value is True or (isinstance(value, int | str) and str(value).lower() in ("1", "true"))


def ts_micros(ts: Any, error: str = "invalid_ts_oldest") -> int:
    """A message timestamp as integer microseconds, so comparisons do not lose precision to floats."""
    try:
        return int(Decimal(str(ts)) * 1_000_000)
    except InvalidOperation as exc:
        raise ApiError(error) from exc


def int_arg(args: ApiArgs, key: str, default: int) -> int:
    """An integer argument, answering invalid_arguments (not a server error) when it is not one."""
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_arguments") from exc


def parse_api_args(query: str, body: bytes, content_type: str) -> ApiArgs:
    """Read arguments the way Slack does: query string, then a form or JSON body."""
    args: ApiArgs = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body:
        if media_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise ApiError("invalid_json") from exc
            if not isinstance(decoded, dict):
                raise ApiError("invalid_json")
            args.update(decoded)
        elif media_type in ("", "application/x-www-form-urlencoded"):
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            raise ApiError("invalid_form_data")
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # else left a string: the method answers invalid_*
                args[key] = json.loads(value)
    return args


class Endpoints(Protocol):
    """What the server needs from the stand-in: one entry point per URL prefix (a protocol, to avoid a cycle)."""

    def handle_api(self, method: str, query: str, body: bytes, headers: dict[str, str]) -> Reply: ...

    def handle_response_url(self, response_id: str, body: bytes) -> Reply: ...

    def handle_upload(self, file_id: str, body: bytes) -> Reply: ...


class StandInServer(ThreadingHTTPServer):
    """A threaded server on a free 127.0.0.1 port that hands each request to one stand-in."""

    daemon_threads = True
    # http.server's default backlog of 5 drops connections when many replies arrive at once.
    request_queue_size = 1024

    def __init__(self, standin: Endpoints, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, routes it by its first path segment and writes the stand-in's reply."""

    server: StandInServer

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        try:
            reply = self._route(url.path, url.query, body, headers)
        except Exception:  # the server's single error boundary: answer 500 rather than drop the connection
            logger.exception("Slack stand-in failed on a %s request", self.command)
            reply = Reply.of_json({"ok": False, "error": "internal_error"}, 500)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _route(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> Reply:
        standin = self.server.standin
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix == "api" and rest:
            return standin.handle_api(rest, query, body, headers)
        if prefix == "response" and rest:
            return standin.handle_response_url(rest, body)
        if prefix == "upload" and rest:
            return standin.handle_upload(rest, body)
        return Reply.plain("not_found", 404)

    def log_message(self, format: str, *args: Any) -> None:
        # Log only the route: the rest of the path holds response-URL and file ids.
        logger.debug("stand-in %s /%s/...", self.command, self.path.lstrip("/").split("/", 1)[0])
