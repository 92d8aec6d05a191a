"""``create_app``: the Bolt app, its WebClient and its listeners. Nothing connects at import time."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.deps import Deps
from bot.settings import Settings
from bot.slack.answers.registry import parse_command_line
from bot.slack.listeners import register_all
from bot.slack.outbound.pacing import PacedWebClient

# Only used where Socket Mode delivers requests over Slack's own connection and no HTTP request
# is ever verified; Bolt still wants a value.
SOCKET_MODE_SECRET_PLACEHOLDER = "socket-mode-requests-are-not-signed"  # noqa: S105


def make_client(settings: Settings) -> PacedWebClient:
    """A WebClient for the configured API base URL that waits out rate limits and paces channel posts."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = PacedWebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


class _SameTokenWarning(logging.Filter):
    """Drop Bolt's "As you gave `client` as well, `token` will be unused" warning.

    Bolt reads ``SLACK_BOT_TOKEN`` from the environment even when it is given a client, and warns
    that the token is unused; our client carries that same token (and the API base URL and the
    rate-limit handler Bolt's own client lacks), so the warning says nothing an operator can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logger = logging.getLogger(__name__)
_BOLT_LOGGER = logging.getLogger("bot.bolt")
_BOLT_LOGGER.addFilter(_SameTokenWarning())


class CreditsApp(App):
    """Bolt's ``App``, dispatching a read answered in the ack inside one read transaction.

    Bolt runs the global middleware (the config's version check) and then the listener middleware
    (the answer) one after the other, not nested, so only around ``dispatch`` can both share one
    ``Database.one_read()``: one BEGIN, one connection and one snapshot per ``/credits quote`` or
    ``balance`` instead of one per step. Bolt's listener pool never shares it (other threads).
    """

    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deps = deps

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Bolt's dispatch, its reads shared when the request only reads."""
        command_line = parse_command_line(req.body)  # the one parse of a /credits line
        if command_line is None:
            return super().dispatch(req)
        req.context["command_line"] = command_line
        if not command_line.answered_in_ack:
            return super().dispatch(req)
        with self.deps.db.one_read():
            return super().dispatch(req)


def create_app(settings: Settings, deps: Deps, *, client: WebClient | None = None) -> CreditsApp:
    """Build the app around the process's ``deps`` (``bot.wiring`` builds both once per process).

    Nothing is asked of Slack here: Bolt's ``auth.test`` waits for the first request
    (``token_verification_enabled=False``), so the process starts and serves ``/healthz`` while Slack
    is unreachable; ``SlackCheck`` asks it in the background and ``/readyz`` reports it.
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = CreditsApp(
        deps=deps,
        client=client or make_client(settings),
        signing_secret=secret or SOCKET_MODE_SECRET_PLACEHOLDER,
        # Bolt's default pool has 5 threads: the 6th slow request in flight would miss Slack's 3 s.
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="listener"),
        logger=_BOLT_LOGGER,
        token_verification_enabled=False,
    )
    register_all(app, deps)
    return app


# The check's own client logs nothing: slack_sdk logs an ERROR line per failed attempt, and the check
# says what happened itself, once.
_QUIET_SDK_LOGGER = logging.getLogger("bot.slack_check.sdk")
_QUIET_SDK_LOGGER.propagate = False
_QUIET_SDK_LOGGER.addHandler(logging.NullHandler())


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"auth.test answered {exc.response.get('error', 'an error')}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


class SlackCheck:
    """Whether Slack has answered the bot token's ``auth.test``; asked in the background until it has.

    The first failure is one WARNING line (the process serves anyway); the retries wait ``first_delay``
    seconds, doubling up to ``max_delay``, and are logged at DEBUG; success is one INFO line.
    """

    def __init__(self, client: WebClient, *, first_delay: float = 1.0, max_delay: float = 60.0) -> None:
        self._client = WebClient(
            token=client.token, base_url=client.base_url, timeout=10, logger=_QUIET_SDK_LOGGER, retry_handlers=[]
        )  # no retry handlers: the check's own loop retries
        self._first_delay, self._max_delay = first_delay, max_delay
        self._ok = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reason = "auth.test not answered yet"

    @property
    def ready(self) -> bool:
        """Slack answered ``auth.test`` with ok."""
        return self._ok.is_set()

    def start(self) -> None:
        """Ask in a daemon thread (once per check)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="slack-check", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop asking."""
        self._stop.set()

    def _run(self) -> None:
        delay, attempts = self._first_delay, 0
        while not self._stop.is_set():
            attempts += 1
            try:
                self._client.auth_test()
            except Exception as exc:  # the check's boundary: any failure is a reason and a retry
                self.reason = _one_line(exc)
                if attempts == 1:
                    logger.warning(
                        "Slack did not answer auth.test (%s): serving anyway, retrying in the background;"
                        " /readyz answers 503 until it does",
                        self.reason,
                    )
                else:
                    logger.debug("Slack still does not answer auth.test (%s), attempt %d", self.reason, attempts)
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_delay)
                continue
            self.reason = ""
            self._ok.set()
            if attempts > 1:
                logger.info("Slack answered auth.test after %d attempts: ready", attempts)
            return
