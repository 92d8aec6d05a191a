"""``create_app``: the Bolt app, its WebClient and its listeners. Nothing connects at import time."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
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

    Bolt calls ``auth.test`` here, so the Slack API (or its stand-in) must answer.
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = CreditsApp(
        deps=deps,
        client=client or make_client(settings),
        signing_secret=secret or SOCKET_MODE_SECRET_PLACEHOLDER,
        # Bolt's default pool has 5 threads: the 6th slow request in flight would miss Slack's 3 s.
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="listener"),
        logger=_BOLT_LOGGER,
    )
    register_all(app, deps)
    return app
