"""Slack's delivery rules: every request acked at once, each delivery acting once, in HTTP and Socket Mode."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt import BoltRequest
from sqlmodel import col, func, select

from bot.devtools.signing import block_action_payload, sign, signed_interaction, slash_command_form
from bot.domain.ledger import EntryKind
from bot.slack.ids import ActionId
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.workspace import ProcessedRequest
from tests.bot_harness import ALICE, CAROL, DESIGN_CHANNEL, WORKSPACE, BotUnderTest

TOPUP = "admin topup design 500 launch"


def extra_entries(bot: BotUnderTest) -> int:
    with bot.db.read() as session:
        kind_is_extra = col(LedgerEntry.kind) == EntryKind.EXTRA
        return int(session.exec(select(func.count()).select_from(LedgerEntry).where(kind_is_extra)).one())


def processed(bot: BotUnderTest) -> int:
    with bot.db.read() as session:
        return int(session.exec(select(func.count()).select_from(ProcessedRequest)).one())


def topup_form(bot: BotUnderTest) -> tuple[dict[str, str], str]:
    response_url = bot.standin.new_response_url()
    form = slash_command_form(
        text=TOPUP, user_id=CAROL, channel_id=DESIGN_CHANNEL, response_url=response_url, team_id=WORKSPACE
    )
    return dict(form), response_url


def responses_to(bot: BotUnderTest, url: str) -> list[Any]:
    return [r for r in bot.standin.responses if r.url == url]


def socket_mode(bot: BotUnderTest, payload: dict[str, Any]) -> int:
    """Dispatch as slack_bolt's Socket Mode adapter does: the envelope's payload, no signature."""
    assert bot.app is not None
    return bot.app.dispatch(BoltRequest(mode="socket_mode", body=payload)).status


def test_the_same_topup_typed_twice_adds_twice_and_one_delivery_twice_adds_once(bot: BotUnderTest) -> None:
    bot.command("balance")  # the opening grant and extra credits are written by the first write
    assert "Added 500 extra credits" in bot.command(TOPUP, user=CAROL).text
    assert "Added 500 extra credits" in bot.command(TOPUP, user=CAROL).text
    before = extra_entries(bot)
    form, response_url = topup_form(bot)
    body = urlencode(form)
    headers = sign(bot.signing_secret, body)
    assert bot.post(body, headers).status_code == 200
    bot.standin.wait_for_response(response_url)
    assert bot.post(body, headers).status_code == 200  # the same signed delivery, replayed
    bot.finish_work()
    assert extra_entries(bot) == before + 1
    assert len(responses_to(bot, response_url)) == 1


def test_socket_mode_topups_are_told_apart_by_delivery(bot: BotUnderTest) -> None:
    """The bug: in Socket Mode every top-up shared the key ``topup:``; the second said "Added" and added nothing."""
    bot.command("balance")
    first, first_url = topup_form(bot)
    second, second_url = topup_form(bot)  # the same text typed again: a new trigger_id
    assert socket_mode(bot, first) == 200
    assert socket_mode(bot, second) == 200
    bot.standin.wait_for_response(first_url)
    bot.standin.wait_for_response(second_url)
    assert socket_mode(bot, first) == 200  # Slack redelivers an envelope it saw no ack for
    bot.finish_work()
    assert extra_entries(bot) == 2 + 1  # two top-ups, plus the opening extra credits
    assert len(responses_to(bot, first_url)) == 1


def test_a_socket_mode_click_redelivered_acts_once(bot: BotUnderTest) -> None:
    response_url = bot.standin.new_response_url()
    payload = block_action_payload(
        action_id=ActionId.RUN_AGAIN,
        value="run image variants=1",
        user_id=ALICE,
        channel_id=DESIGN_CHANNEL,
        message_ts="",
        response_url=response_url,
        team_id=WORKSPACE,
    )
    assert socket_mode(bot, payload) == 200
    bot.standin.wait_for_response(response_url)
    assert socket_mode(bot, payload) == 200
    bot.finish_work()
    assert "Task #1 reserved" in responses_to(bot, response_url)[0].payload["text"]
    assert len(responses_to(bot, response_url)) == 1


def event_body(event_id: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": WORKSPACE,
        "api_app_id": "A0KETER",
        "event": {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}},
        "event_id": event_id,
        "event_time": 1,
    }


def test_an_event_delivered_three_times_is_handled_once(bot: BotUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps(event_body("Ev0RETRIED"))
    for retry in (None, "1", "2"):
        headers = sign(bot.signing_secret, body) | {"Content-Type": "application/json"}
        if retry:
            headers |= {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert bot.post(body, headers).status_code == 200
    assert socket_mode(bot, event_body("Ev0RETRIED")) == 200  # and across modes
    bot.finish_work()
    handled = [  # the handler's own line (a later request may log the workspace as installed again)
        r for r in caplog.records if r.name == "bot.slack.listeners.events.installation" and "revoked" in r.getMessage()
    ]
    ignored = [r for r in caplog.records if "redelivered event" in r.getMessage()]
    assert len(handled) == 1 and len(ignored) == 3
    assert processed(bot) == 1


def test_a_held_write_lock_delays_no_ack(bot: BotUnderTest) -> None:
    """Another writer holds SQLite's write lock; commands and clicks are all acked while it still holds it."""
    if not bot.db.is_sqlite:
        pytest.skip("SQLite's single write lock")
    bot.command("balance")
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with bot.db.write() as session:
            session.execute(select(1))
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(5)
        quote = bot.command("quote image quality=high variants=4")
        balance = bot.command("balance")
        form, topup_url = topup_form(bot)
        body = urlencode(form)
        topup = bot.post(body, sign(bot.signing_secret, body))
        click_url = bot.standin.new_response_url()
        click = bot.post(
            *signed_interaction(
                bot.signing_secret,
                block_action_payload(
                    action_id=ActionId.APPROVE,
                    value="1",
                    user_id=CAROL,
                    channel_id=DESIGN_CHANNEL,
                    message_ts="1.000001",
                    response_url=click_url,
                    team_id=WORKSPACE,
                ),
            )
        )
        # Every answer came back while the lock was still held: no write stands before an ack.
        assert not release.is_set() and holder.is_alive()
        assert "Total: 40 credits" in quote.text and "Plan credits left" in balance.text
        assert topup.status_code == 200 and click.status_code == 200
        assert responses_to(bot, topup_url) == []  # the top-up itself waits for the lock
    finally:
        release.set()
        holder.join()
    assert "Added 500 extra credits" in bot.standin.wait_for_response(topup_url)[0].payload["text"]
    assert dict(parse_qsl(body))["text"] == TOPUP
