"""A stand-in for the Slack Web API served over real HTTP on 127.0.0.1.

The bot's console and the tests point the real ``slack_sdk.WebClient`` at it (``base_url``), so request
serialisation, auth headers and retry handlers are exercised exactly as against Slack. It implements the
handful of methods the bot uses with Slack-shaped answers, records every call, and can inject faults.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

TEAM_ID = "T0STANDIN"
TEAM_NAME = "Stand-in"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0STANDIN"
WORKSPACE_URL = "https://standin.slack.com/"
# Values slack_sdk sends as JSON strings inside form bodies; decoded so tests see Python objects.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
_MAX_BLOCKS = 50
_MAX_TEXT = 40_000

ApiArgs = dict[str, Any]
ApiAnswer = dict[str, Any]


class _ApiError(Exception):
    """Raised by a method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class RecordedCall:
    """One Web API request as the stand-in received it (token kept out of ``args`` and the repr)."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str] = field(repr=False)
    at: float
    token: str | None = field(default=None, repr=False)
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_token(self) -> bool:
        """Whether the request carried any token (header or form field)."""
        return bool(self.token)

    @property
    def ok(self) -> bool:
        """Whether the stand-in answered ``ok: true``."""
        return bool(self.answer.get("ok"))


@dataclass(frozen=True)
class RecordedResponse:
    """One post to a slash command ``response_url``."""

    url: str
    payload: dict[str, Any]
    at: float


@dataclass(frozen=True)
class _Fault:
    error: str
    status: int
    retry_after: int


@dataclass
class _Channel:
    id: str
    name: str
    is_member: bool = True
    is_private: bool = False


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> _Reply:
        return cls(status, json.dumps(payload).encode(), headers=headers or {})

    @classmethod
    def plain(cls, text: str, status: int = 200) -> _Reply:
        return cls(status, text.encode(), content_type="text/plain; charset=utf-8")


def _truthy(value: Any) -> bool:
    """Slack's reading of a boolean argument: JSON true, or "1"/"true" in a form."""
    return value is True or (isinstance(value, int | str) and str(value).lower() in ("1", "true"))


def _ts_micros(ts: Any, error: str = "invalid_ts_oldest") -> int:
    """A message timestamp as integer microseconds, so comparisons do not lose precision to floats."""
    try:
        return int(Decimal(str(ts)) * 1_000_000)
    except InvalidOperation as exc:
        raise _ApiError(error) from exc


def _int_arg(args: ApiArgs, key: str, default: int) -> int:
    """An integer argument, answering invalid_arguments (not a server error) when it is not one."""
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _ApiError("invalid_arguments") from exc


def _parse_api_args(query: str, body: bytes, content_type: str) -> ApiArgs:
    """Read arguments the way Slack does: query string, then a form or JSON body."""
    args: ApiArgs = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body:
        if media_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _ApiError("invalid_json") from exc
            if not isinstance(decoded, dict):
                raise _ApiError("invalid_json")
            args.update(decoded)
        elif media_type in ("", "application/x-www-form-urlencoded"):
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        else:
            raise _ApiError("invalid_form_data")
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # else left a string: the method answers invalid_*
                args[key] = json.loads(value)
    return args


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # http.server's default backlog of 5 drops connections when many replies arrive at once.
    request_queue_size = 1024

    def __init__(self, standin: SlackStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _Server

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
            reply = _Reply.of_json({"ok": False, "error": "internal_error"}, 500)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _route(self, path: str, query: str, body: bytes, headers: dict[str, str]) -> _Reply:
        standin = self.server.standin
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix == "api" and rest:
            return standin._handle_api(rest, query, body, headers)
        if prefix == "response" and rest:
            return standin._handle_response_url(rest, body)
        if prefix == "upload" and rest:
            return standin._handle_upload(rest, body)
        return _Reply.plain("not_found", 404)

    def log_message(self, format: str, *args: Any) -> None:
        # Log only the route: the rest of the path holds response-URL and file ids.
        logger.debug("stand-in %s /%s/...", self.command, self.path.lstrip("/").split("/", 1)[0])


class SlackStandIn:
    """Serves a small Slack Web API on 127.0.0.1 and records what the bot sent to it."""

    team_id = TEAM_ID
    bot_user_id = BOT_USER_ID
    bot_id = BOT_ID

    def __init__(
        self,
        bot_token: str = "xoxb-standin",  # noqa: S107 - a fake token for a fake server
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` gives wall-clock seconds for message timestamps (a test may pin it)."""
        self.bot_token = bot_token
        self._clock = clock
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts = 0
        self.calls: list[RecordedCall] = []
        self.responses: list[RecordedResponse] = []
        self.uploads: dict[str, bytes] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, _Channel] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._response_ids: set[str] = set()
        self._methods: dict[str, Callable[[ApiArgs], ApiAnswer]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self.add_user(BOT_USER_ID, name="credits", real_name="Keter Credits", is_bot=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("SlackStandIn is already running")
        self._server = _Server(self)
        # A short poll interval keeps stop() (and so every test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="slack-standin", daemon=True
        )
        self._thread.start()
        logger.debug("Slack stand-in listening on port %d", self.port)

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only while running)."""
        if self._server is None:
            raise RuntimeError("SlackStandIn is not running: call start() first")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``WebClient(base_url=...)`` needs: it appends the method name to this."""
        return f"{self.root_url}/api/"

    def new_response_url(self) -> str:
        """A fresh ``response_url`` the stand-in accepts posts on, like a slash command's."""
        with self._cond:
            response_id = f"R{next(self._ids):06d}"
            self._response_ids.add(response_id)
        return f"{self.root_url}/response/{response_id}"

    # -- configuration -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        tz: str = "Europe/Berlin",
        is_bot: bool = False,
    ) -> None:
        """Make ``users.info`` know a user; ``tz`` must be an IANA zone name."""
        ZoneInfo(tz)  # fail here, not inside a request, on a bad zone name
        handle = name or user_id.lower()
        with self._cond:
            self._users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": handle,
                "real_name": real_name or handle,
                "deleted": False,
                "tz": tz,
                "is_admin": is_admin,
                "is_owner": is_owner,
                "is_primary_owner": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "profile": {"display_name": handle, "real_name": real_name or handle},
            }

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True) -> None:
        """Give a channel a name for ``conversations.info``; unknown channels get a made-up name."""
        with self._cond:
            self._channels[channel_id] = _Channel(channel_id, name, is_member, is_private)

    def set_bot_in_channel(self, channel_id: str, member: bool) -> None:
        """Add or remove the bot from a channel (by default it is in every channel)."""
        with self._cond:
            self._channel(channel_id).is_member = member

    def fail_next(self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int = 1) -> None:
        """Make the next call of ``method`` fail; queue several to fail several calls in a row."""
        with self._cond:
            self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after))

    def reset(self, *, state: bool = False) -> None:
        """Forget recorded calls and responses; with ``state=True`` also messages, files, views, faults."""
        with self._cond:
            self.calls.clear()
            self.responses.clear()
            if state:
                self._messages.clear()
                self._views.clear()
                self._faults.clear()
                self._pending_files.clear()
                self.uploads.clear()

    # -- inspection --------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method, oldest first."""
        with self._cond:
            return self._calls_to(method)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the messages the bot posted to a channel (or a user's DM), oldest first."""
        with self._cond:
            return copy.deepcopy(self._messages.get(self._resolve_channel(channel), []))

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Block until ``count`` calls of ``method`` have arrived; return all of them so far."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._calls_to(method)) >= count, timeout):
                got = len(self._calls_to(method))
                raise TimeoutError(
                    f"waited {timeout:g}s for {count} call(s) to {method}, got {got}; "
                    f"calls received: {self._summarise_calls()}"
                )
            return self._calls_to(method)

    def wait_for_response(self, url: str | None = None, count: int = 1, timeout: float = 5.0) -> list[RecordedResponse]:
        """Block until ``count`` posts to ``url`` (any response URL if None) have arrived."""

        def matching() -> list[RecordedResponse]:
            return [r for r in self.responses if url is None or r.url == url]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                target = "a given response_url" if url else "any response_url"
                raise TimeoutError(
                    f"waited {timeout:g}s for {count} post(s) to {target}, got {len(matching())} "
                    f"({len(self.responses)} to response URLs in all); "
                    f"calls received: {self._summarise_calls()}"
                )
            return matching()

    def _calls_to(self, method: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method]

    def _summarise_calls(self) -> str:
        if not self.calls:
            return "none"
        shown = [c.method if c.ok else f"{c.method} ({c.answer.get('error')})" for c in self.calls[-20:]]
        more = f"... {len(self.calls) - 20} earlier, " if len(self.calls) > 20 else ""
        return more + ", ".join(shown)

    # -- HTTP entry points (called from server threads) ---------------------------------------------

    def _handle_api(self, method: str, query: str, body: bytes, headers: dict[str, str]) -> _Reply:
        at = time.monotonic()
        parse_error: str | None = None
        by_name = {name.lower(): value for name, value in headers.items()}  # header names ignore case
        try:
            args = _parse_api_args(query, body, by_name.get("content-type", ""))
        except _ApiError as exc:
            args, parse_error = {}, exc.error
        form_token = args.pop("token", None)
        auth = by_name.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else form_token
        with self._cond:
            reply, answer = self._answer(method, args, token, parse_error)
            self.calls.append(RecordedCall(method, args, headers, at, token, reply.status, answer))
            self._cond.notify_all()
        logger.debug("stand-in answered %s: ok=%s", method, answer.get("ok"))
        return reply

    def _answer(
        self, method: str, args: ApiArgs, token: str | None, parse_error: str | None
    ) -> tuple[_Reply, ApiAnswer]:
        implementation = self._methods.get(method)
        answer: ApiAnswer
        if implementation is None:
            answer = {"ok": False, "error": "unknown_method"}
        elif parse_error is not None:
            answer = {"ok": False, "error": parse_error}
        elif token != self.bot_token:
            answer = {"ok": False, "error": "invalid_auth"}
        elif self._faults.get(method):
            fault = self._faults[method].popleft()
            answer = {"ok": False, "error": fault.error}
            extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            return _Reply.of_json(answer, fault.status, extra), answer
        else:
            try:
                answer = {"ok": True, **implementation(args)}
            except _ApiError as exc:
                answer = {"ok": False, "error": exc.error}
        return _Reply.of_json(answer), answer

    def _handle_response_url(self, response_id: str, body: bytes) -> _Reply:
        with self._cond:
            if response_id not in self._response_ids:
                return _Reply.plain("no_such_response_url", 404)
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                return _Reply.plain("invalid_payload", 400)
            url = f"{self.root_url}/response/{response_id}"
            self.responses.append(RecordedResponse(url, payload, time.monotonic()))
            self._cond.notify_all()
        return _Reply.plain("ok")

    def _handle_upload(self, file_id: str, body: bytes) -> _Reply:
        with self._cond:
            if file_id not in self._pending_files:
                return _Reply.plain("file_not_found", 404)
            self.uploads[file_id] = body
        return _Reply.plain(f"OK - {len(body)}")

    # -- helpers for the method implementations (called with the lock held) ------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0STANDIN{next(self._ids):04d}"

    def _next_ts(self) -> str:
        """Unique, increasing timestamps taken from the (possibly pinned) clock."""
        self._last_ts = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    @staticmethod
    def _resolve_channel(channel: str) -> str:
        """Posting to a user ID lands in the DM with that user, as on Slack."""
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _channel(self, channel_id: str) -> _Channel:
        channel_id = self._resolve_channel(channel_id)
        if channel_id not in self._channels:
            self._channels[channel_id] = _Channel(channel_id, f"channel-{channel_id.lower()}")
        return self._channels[channel_id]

    def _member_channel(self, args: ApiArgs, key: str = "channel") -> _Channel:
        channel_id = args.get(key)
        if not channel_id or not isinstance(channel_id, str):
            raise _ApiError("channel_not_found")
        channel = self._channel(channel_id)
        if not channel.is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        for message in self._messages.get(self._resolve_channel(channel), []):
            if message["ts"] == ts:
                return message
        raise _ApiError("message_not_found")

    @staticmethod
    def _check_content(args: ApiArgs) -> None:
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise _ApiError("no_text")
        blocks = args.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > _MAX_BLOCKS):
            raise _ApiError("invalid_blocks")
        if "attachments" in args and not isinstance(args["attachments"], list):
            raise _ApiError("invalid_attachments")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and "event_type" in metadata and "event_payload" in metadata
        ):
            raise _ApiError("invalid_metadata_format")
        if len(str(args.get("text", ""))) > _MAX_TEXT:
            raise _ApiError("msg_too_long")

    def _store_message(self, channel: _Channel, message: dict[str, Any]) -> None:
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            for parent in self._messages.get(channel.id, []):
                if parent["ts"] == thread_ts:
                    parent["thread_ts"] = thread_ts
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent["latest_reply"] = message["ts"]
        self._messages.setdefault(channel.id, []).append(message)

    @staticmethod
    def _permalink(channel: str, ts: str) -> str:
        return f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"

    # -- Web API methods -----------------------------------------------------------------------------

    def _auth_test(self, args: ApiArgs) -> ApiAnswer:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": "credits",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: ApiArgs) -> ApiAnswer:
        user = self._users.get(str(args.get("user", "")))
        if user is None:
            raise _ApiError("user_not_found")
        user = copy.deepcopy(user)
        zone = ZoneInfo(user["tz"])
        now = datetime.now(zone)
        offset = now.utcoffset()
        user["tz_label"] = now.tzname()
        user["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        if _truthy(args.get("include_locale")):
            user["locale"] = "en-US"
        return {"user": user}

    def _chat_post_message(self, args: ApiArgs) -> ApiAnswer:
        channel = self._member_channel(args)
        self._check_content(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text") or args.get("markdown_text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key) is not None:
                message[key] = args[key]
        self._store_message(channel, message)
        return {"channel": channel.id, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: ApiArgs) -> ApiAnswer:
        self._member_channel(args)
        if not args.get("user"):
            raise _ApiError("user_not_found")
        self._check_content(args)
        return {"message_ts": self._next_ts()}

    def _chat_update(self, args: ApiArgs) -> ApiAnswer:
        channel = str(args.get("channel", ""))
        message = self._find_message(channel, args.get("ts"))
        changes: dict[str, Any] = {k: args[k] for k in ("text", "blocks", "attachments", "metadata") if k in args}
        self._check_content({**message, **changes})
        message.update(changes)
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        resolved = self._resolve_channel(channel)
        return {
            "channel": resolved,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_get_permalink(self, args: ApiArgs) -> ApiAnswer:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if not channel:
            raise _ApiError("channel_not_found")
        if not ts:
            raise _ApiError("message_not_found")
        channel = self._resolve_channel(channel)
        permalink = self._permalink(channel, ts)
        known = [m for m in self._messages.get(channel, []) if m["ts"] == ts]
        if known and known[0].get("thread_ts") not in (None, ts):
            permalink += f"?thread_ts={known[0]['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _conversations_info(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("channel"):
            raise _ApiError("channel_not_found")
        channel = self._channel(str(args["channel"]))
        is_im = channel.id.startswith("D")
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not (channel.is_private or is_im),
                "is_group": channel.is_private,
                "is_im": is_im,
                "is_private": channel.is_private or is_im,
                "is_archived": False,
                "is_member": channel.is_member,
                "context_team_id": TEAM_ID,
            }
        }

    def _visible(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        shown = copy.deepcopy(message)
        if not include_metadata:
            shown.pop("metadata", None)
        return shown

    def _page(self, messages: list[dict[str, Any]], args: ApiArgs) -> ApiAnswer:
        """Apply ``limit``/``cursor`` the way Slack pages: ``has_more`` plus an opaque next cursor."""
        limit = max(1, min(_int_arg(args, "limit", 100), 999))
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("standin:")) if cursor.startswith("standin:") else 0
        include_metadata = _truthy(args.get("include_all_metadata"))
        page = [self._visible(m, include_metadata) for m in messages[start : start + limit]]
        has_more = start + limit < len(messages)
        next_cursor = f"standin:{start + limit}" if has_more else ""
        return {"messages": page, "has_more": has_more, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_history(self, args: ApiArgs) -> ApiAnswer:
        channel = self._member_channel(args)
        oldest = _ts_micros(args.get("oldest") or 0)
        latest = _ts_micros(args["latest"], "invalid_ts_latest") if args.get("latest") else None
        inclusive = _truthy(args.get("inclusive"))

        def in_range(ts: int) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        top_level = [
            m
            for m in self._messages.get(channel.id, [])
            if m.get("thread_ts") in (None, m["ts"]) and in_range(_ts_micros(m["ts"]))
        ]
        return self._page(list(reversed(top_level)), args)

    def _conversations_replies(self, args: ApiArgs) -> ApiAnswer:
        channel = self._member_channel(args)
        parent = self._find_message(channel.id, args.get("ts"))
        thread = [parent] + [
            m for m in self._messages.get(channel.id, []) if m.get("thread_ts") == parent["ts"] and m is not parent
        ]
        return self._page(thread, args)

    def _views_open(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("trigger_id"):
            raise _ApiError("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not isinstance(view.get("blocks"), list):
            raise _ApiError("invalid_arguments")
        view_id = self._new_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
            "hash": self._next_ts(),
            "state": {"values": {}},
        }
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: ApiArgs) -> ApiAnswer:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            found = [v for v in self._views.values() if v.get("external_id") == args["external_id"]]
            view_id = found[0]["id"] if found else None
        if not view_id or view_id not in self._views:
            raise _ApiError("not_found")
        current = self._views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = args.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("blocks"), list):
            raise _ApiError("invalid_arguments")
        keep = {k: current[k] for k in ("id", "team_id", "app_id", "bot_id", "root_view_id", "state")}
        self._views[view_id] = {**view, **keep, "hash": self._next_ts()}
        return {"view": copy.deepcopy(self._views[view_id])}

    def _files_get_upload_url(self, args: ApiArgs) -> ApiAnswer:
        length = _int_arg(args, "length", -1)
        if not args.get("filename") or length < 0:
            raise _ApiError("invalid_arguments")
        file_id = self._new_id("F")
        self._pending_files[file_id] = {"name": args["filename"], "length": length}
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: ApiArgs) -> ApiAnswer:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        files: list[dict[str, Any]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            if file_id not in self.uploads:
                raise _ApiError("file_not_found")
            name = self._pending_files[file_id]["name"]
            files.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": entry.get("title") or name,
                    "size": len(self.uploads[file_id]),
                    "user": BOT_USER_ID,
                    "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{file_id}/{name}",
                }
            )
        targets = [str(args["channel_id"])] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        for channel in [self._member_channel({"channel": target}) for target in targets]:
            message: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": args.get("initial_comment") or "",
                "ts": self._next_ts(),
                "files": copy.deepcopy(files),
                "upload": True,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._store_message(channel, message)
        return {"files": files}
