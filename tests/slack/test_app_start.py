"""Building the app logs nothing an operator would have to wonder about."""

from __future__ import annotations

import logging

import pytest

from bot.credits_file import CreditsConfig
from bot.devtools.slack_standin import SlackStandIn
from bot.store.db import Database
from tests.bot_harness import build_app
from tests.conftest import Clock


def test_creating_the_app_with_the_token_in_the_environment_logs_no_unused_token_warning(
    standin: SlackStandIn,
    database: Database,
    config: CreditsConfig,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", standin.bot_token)  # Bolt reads it even when it is given a client
    with caplog.at_level(logging.INFO, logger="bot.bolt"):
        app, _ = build_app(standin, database, config, clock)
    assert app.client.token == standin.bot_token
    assert "will be unused" not in caplog.text
