"""Listener tests: signed requests dispatched to the real Bolt app in-process, answers collected from the stand-in.

No socket to the bot: ``app.dispatch`` receives the request exactly as Bolt's HTTP adapters hand it on
(signature verification and the replay guard included). The app still calls the Slack Web API stand-in
over HTTP, whose recorded calls and response_url posts are checked against Slack's spec and Block Kit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.credits_file import CreditsConfig
from bot.devtools.slack_standin import SlackStandIn
from bot.store.db import Database
from tests.bot_harness import BotUnderTest, in_process_bot
from tests.bot_harness import standin as standin  # the stand-in that checks every call at teardown
from tests.conftest import Clock


@pytest.fixture
def bot(standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock) -> Iterator[BotUnderTest]:
    """The app, in-process, on each database."""
    under_test = in_process_bot(standin, database, config, clock)
    yield under_test
    under_test.finish_work()
    under_test.assert_ledger_consistent()
