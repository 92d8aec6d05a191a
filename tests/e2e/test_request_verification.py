"""Only genuine, fresh, first-time Slack requests have any effect."""

from __future__ import annotations

import time

import pytest
from sqlmodel import func, select

from bot.devtools.signing import sign
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.workspace import ProcessedRequest
from tests.e2e.conftest import HttpBot


def nothing_happened(bot: HttpBot, refused_response_url: str) -> None:
    """No trace of the refused request, and a genuine one sent after it is answered (the bot was listening)."""
    assert bot.standin.responses == []
    assert [c.method for c in bot.standin.calls if c.method != "auth.test"] == []  # auth.test: at start-up
    with bot.db.read() as session:
        assert session.exec(select(func.count()).select_from(ProcessedRequest)).one() == 0
        assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 0
    genuine = bot.command("help")  # help writes nothing, and is answered in its ack
    assert genuine.status == 200 and "/credits quote <tool>" in genuine.text
    assert bot.standin.responses == []
    assert refused_response_url != genuine.response_url
    with bot.db.read() as session:
        assert session.exec(select(func.count()).select_from(ProcessedRequest)).one() == 0
        assert session.exec(select(func.count()).select_from(LedgerEntry)).one() == 0


def test_a_forged_signature_is_refused(bot: HttpBot) -> None:
    body, response_url = bot.command_body("balance")
    answer = bot.post(body, sign("not-the-signing-secret", body))
    assert answer.status_code == 401
    nothing_happened(bot, response_url)


def test_a_body_changed_after_signing_is_refused(bot: HttpBot) -> None:
    body, response_url = bot.command_body("quote image variants=1")
    headers = sign(bot.signing_secret, body)
    answer = bot.post(body.replace("variants%3D1", "variants%3D9"), headers)
    assert answer.status_code == 401
    nothing_happened(bot, response_url)


@pytest.mark.parametrize("skew", [-301, -3600, 301, 3600], ids=["5min-old", "1h-old", "5min-ahead", "1h-ahead"])
def test_a_timestamp_outside_five_minutes_is_refused(bot: HttpBot, skew: int) -> None:
    body, response_url = bot.command_body("balance")
    answer = bot.post(body, sign(bot.signing_secret, body, timestamp=int(time.time()) + skew))
    assert answer.status_code == 401
    nothing_happened(bot, response_url)


@pytest.mark.parametrize("timestamp", ["abc", "", "12.5", "-1", "1e9", "0x10"])
def test_a_malformed_timestamp_is_refused_not_a_server_error(bot: HttpBot, timestamp: str) -> None:
    body, response_url = bot.command_body("balance")
    headers = sign(bot.signing_secret, body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    answer = bot.post(body, headers)
    assert answer.status_code == 401
    nothing_happened(bot, response_url)


def test_a_missing_signature_is_refused(bot: HttpBot) -> None:
    body, response_url = bot.command_body("balance")
    headers = sign(bot.signing_secret, body)
    del headers["X-Slack-Signature"]
    assert bot.post(body, headers).status_code == 401
    nothing_happened(bot, response_url)


def test_health_check_answers_without_a_signature(bot: HttpBot) -> None:
    answer = bot.http.get(bot.server.url + "/healthz", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
