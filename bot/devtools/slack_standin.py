"""A stand-in for the Slack Web API served over real HTTP on 127.0.0.1.

The bot's console and the tests point the real ``slack_sdk.WebClient`` at it (``base_url``), so request
serialisation, auth headers and retry handlers are exercised exactly as against Slack. It implements the
handful of methods the bot uses with Slack-shaped answers, records every call, and can inject faults.

This module holds the public face (``SlackStandIn``, ``RecordedCall``, ``RecordedResponse``): lifecycle,
configuration, recording, fault injection and waiting. The HTTP plumbing lives in
:mod:`bot.devtools.standin_http`; the workspace's state in :mod:`bot.devtools.standin_workspace`, and what
each Web API method answers in :mod:`bot.devtools.standin_methods` and :mod:`bot.devtools.standin_surfaces`.
The stand-in owns one ``WorkspaceState`` and hands it to the methods.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from bot.devtools.standin_http import ApiAnswer, ApiArgs, ApiError, Reply, StandInServer, parse_api_args
from bot.devtools.standin_methods import WebApiMethods
from bot.devtools.standin_workspace import BOT_ID, BOT_USER_ID, TEAM_ID, Channel, WorkspaceState, resolve_channel

logger = logging.getLogger(__name__)


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
    """A queued failure for one method: the error code, HTTP status and (for 429) ``Retry-After``."""

    error: str
    status: int
    retry_after: int
    after_effect: bool = False  # the call took effect, and only its answer is the error (a 5xx Slack sends)


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
        port: int = 0,
    ) -> None:
        """``clock`` gives wall-clock seconds for message timestamps (a test may pin it); ``port`` 0: a free one."""
        self.bot_token = bot_token
        self._requested_port = port
        self._cond = threading.Condition()
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None
        self.calls: list[RecordedCall] = []
        self.responses: list[RecordedResponse] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._gates: dict[str, threading.Event] = {}
        self._held: dict[str, int] = {}  # calls waiting at a gate, per method
        self._workspace = WorkspaceState(clock)
        self._methods = WebApiMethods(self._workspace, lambda: self.root_url).table()
        self.add_user(BOT_USER_ID, name="credits", real_name="Keter Credits", is_bot=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the port asked for (or a free one) on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("SlackStandIn is already running")
        self._server = StandInServer(self, self._requested_port)
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
    def uploads(self) -> dict[str, bytes]:
        """File contents the bot uploaded, by file id."""
        return self._workspace.uploads

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """A copy of the Home tab last published for the user (``views.publish``), if any."""
        with self._cond:
            view = self._workspace.home_views.get(user_id)
            return copy.deepcopy(view) if view else None

    def function_result(self, execution_id: str) -> dict[str, Any] | None:
        """How a workflow step ended: ``{"outputs": …}`` or ``{"error": …}``; None while it runs."""
        with self._cond:
            result = self._workspace.function_results.get(execution_id)
            return copy.deepcopy(result) if result else None

    def open_views(self) -> list[dict[str, Any]]:
        """Copies of the modals open now (``views.open``/``views.update``), oldest first."""
        with self._cond:
            return copy.deepcopy(list(self._workspace.views.values()))

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
            response_id = f"R{next(self._workspace.ids):06d}"
            self._workspace.response_ids.add(response_id)
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
        email: str | None = None,
    ) -> None:
        """Make ``users.info`` (and, with ``email``, ``users.lookupByEmail``) know a user; ``tz`` is an IANA name."""
        ZoneInfo(tz)  # fail here, not inside a request, on a bad zone name
        handle = name or user_id.lower()
        with self._cond:
            self._workspace.users[user_id] = {
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
                "profile": {"display_name": handle, "real_name": real_name or handle}
                | ({"email": email} if email else {}),
            }

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True) -> None:
        """Give a channel a name for ``conversations.info``; unknown channels get a made-up name."""
        with self._cond:
            self._workspace.channels[channel_id] = Channel(channel_id, name, is_member, is_private)

    def restore_message(self, channel_id: str, ts: str, text: str) -> None:
        """A message the bot posted before this stand-in started (the console over a kept database).

        Slack would still have it, so a later ``chat.update`` or thread reply to it must work here too.
        """
        with self._cond:
            channel = self._workspace.channel(channel_id)
            if any(message["ts"] == ts for message in self._workspace.messages.get(channel.id, [])):
                return
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": text, "ts": ts}
            self._workspace.store_message(channel, message)

    def set_bot_in_channel(self, channel_id: str, member: bool) -> None:
        """Add or remove the bot from a channel (by default it is in every channel)."""
        with self._cond:
            self._workspace.channel(channel_id).is_member = member

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int = 1,
        *,
        after_effect: bool = False,
    ) -> None:
        """Make the next call of ``method`` fail; queue several to fail several calls in a row.

        ``after_effect``: the call still does what it does (a message is posted) and only its answer is
        the error, as when Slack answers 500 to a request it carried out.
        """
        with self._cond:
            self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after, after_effect))

    @contextmanager
    def holding(self, method: str) -> Iterator[None]:
        """Calls of ``method`` made inside the block wait until it ends (at most 30 s): a slow Slack.

        They are answered (and recorded) only then, so a test can see what the bot did while it waited.
        """
        gate = threading.Event()
        with self._cond:
            self._gates[method] = gate
        try:
            yield
        finally:
            with self._cond:
                self._gates.pop(method, None)
            gate.set()

    def waiting(self, method: str) -> bool:
        """Whether a call of ``method`` is being held (``holding``) right now."""
        with self._cond:
            return self._held.get(method, 0) > 0

    def reset(self, *, state: bool = False) -> None:
        """Forget recorded calls and responses; with ``state=True`` also messages, files, views, faults."""
        with self._cond:
            self.calls.clear()
            self.responses.clear()
            if state:
                self._workspace.clear_content()
                self._faults.clear()

    # -- inspection --------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method, oldest first."""
        with self._cond:
            return self._calls_to(method)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of the messages the bot posted to a channel (or a user's DM), oldest first."""
        with self._cond:
            return copy.deepcopy(self._workspace.messages.get(resolve_channel(channel), []))

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

    # -- HTTP entry points (the server's ``Endpoints``, called from its threads) ---------------------

    def handle_api(self, method: str, query: str, body: bytes, headers: dict[str, str]) -> Reply:
        at = time.monotonic()
        parse_error: str | None = None
        by_name = {name.lower(): value for name, value in headers.items()}  # header names ignore case
        try:
            args = parse_api_args(query, body, by_name.get("content-type", ""))
        except ApiError as exc:
            args, parse_error = {}, exc.error
        form_token = args.pop("token", None)
        auth = by_name.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else form_token
        self._wait_at_gate(method)
        with self._cond:
            reply, answer = self._answer(method, args, token, parse_error)
            self.calls.append(RecordedCall(method, args, headers, at, token, reply.status, answer))
            self._cond.notify_all()
        logger.debug("stand-in answered %s: ok=%s", method, answer.get("ok"))
        return reply

    def _wait_at_gate(self, method: str) -> None:
        with self._cond:
            gate = self._gates.get(method)
            if gate is None:
                return
            self._held[method] = self._held.get(method, 0) + 1
            self._cond.notify_all()
        try:
            gate.wait(30)
        finally:
            with self._cond:
                self._held[method] -= 1

    def _answer(
        self, method: str, args: ApiArgs, token: str | None, parse_error: str | None
    ) -> tuple[Reply, ApiAnswer]:
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
            if fault.after_effect:
                with contextlib.suppress(ApiError):  # it failed for real as well: the answer below is the same
                    implementation(args)
            answer = {"ok": False, "error": fault.error}
            extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
            return Reply.of_json(answer, fault.status, extra), answer
        else:
            try:
                answer = {"ok": True, **implementation(args)}
            except ApiError as exc:
                answer = {"ok": False, "error": exc.error}
        return Reply.of_json(answer), answer

    def handle_response_url(self, response_id: str, body: bytes) -> Reply:
        with self._cond:
            if response_id not in self._workspace.response_ids:
                return Reply.plain("no_such_response_url", 404)
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                return Reply.plain("invalid_payload", 400)
            url = f"{self.root_url}/response/{response_id}"
            self.responses.append(RecordedResponse(url, payload, time.monotonic()))
            self._cond.notify_all()
        return Reply.plain("ok")

    def handle_upload(self, file_id: str, body: bytes) -> Reply:
        with self._cond:
            if file_id not in self._workspace.pending_files:
                return Reply.plain("file_not_found", 404)
            self._workspace.uploads[file_id] = body
        return Reply.plain(f"OK - {len(body)}")
