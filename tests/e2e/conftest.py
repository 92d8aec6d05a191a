"""The real Bolt app served over real HTTP on 127.0.0.1, signature checks on, talking to the stand-in.

Only what needs a socket lives here: the WSGI edge (its 401 on malformed timestamps, ``/healthz``),
signature checks as Slack's requests reach them, a replay over the wire, concurrent HTTP load, and the
production process under gunicorn. Listener behaviour is tested in-process under ``tests/slack/``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bot.credits_file import CreditsConfig
from bot.devtools.http_server import BackgroundServer
from bot.devtools.slack_standin import SlackStandIn
from bot.store.db import Database
from bot.web import EVENTS_PATH, SlackWsgiApp
from tests.bot_harness import (
    ALICE,
    BOB,
    CAROL,
    DESIGN_CHANNEL,
    WORKSPACE,
    Answer,
    BotUnderTest,
    Reply,
    build_app,
    check_blocks,
)
from tests.bot_harness import standin as standin  # the stand-in that checks every call at teardown
from tests.conftest import Clock

__all__ = ["ALICE", "BOB", "CAROL", "DESIGN_CHANNEL", "WORKSPACE", "Reply", "check_blocks", "serve_bot"]


class HttpBot(BotUnderTest):
    """The app on a real port: every request goes through the WSGI edge and Bolt's HTTP adapter."""

    def __init__(self, standin: SlackStandIn, server: BackgroundServer, signing_secret: str, db: Database) -> None:
        self.server = server
        self.http = requests.Session()
        super().__init__(standin, self._post_over_http, signing_secret, db)

    @property
    def events_url(self) -> str:
        return self.server.url + EVENTS_PATH

    def _post_over_http(self, body: str, headers: dict[str, str]) -> Answer:
        answer = self.http.post(self.events_url, data=body.encode(), headers=headers, timeout=10)
        return Answer(answer.status_code, answer.text)


def serve_bot(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock, **settings: Any
) -> tuple[BackgroundServer, str]:
    """Build the app exactly as production does (create_app) and serve it on 127.0.0.1."""
    app, signing_secret = build_app(standin, database, config, clock, **settings)
    return BackgroundServer(SlackWsgiApp(app, signing_secret)).start(), signing_secret


def stop_in_background(server: BackgroundServer) -> None:
    """Stop the server without making the next test wait for ``serve_forever``'s poll to notice."""
    threading.Thread(target=server.stop, name="stop-http", daemon=True).start()


@pytest.fixture
def bot(standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock) -> Iterator[HttpBot]:
    """The app on a real port, on each database."""
    server, secret = serve_bot(standin, database, config, clock)
    under_test = HttpBot(standin, server, secret, database)
    yield under_test
    stop_in_background(server)
    under_test.assert_ledger_consistent()
