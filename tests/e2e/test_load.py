"""Fifty slash commands at once are all answered in their acks (Bolt answers 404 to any it could not ack in 3 s)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from bot.devtools.signing import sign
from tests.e2e.conftest import ALICE, BOB, CAROL, HttpBot

CONCURRENT = 50


def test_fifty_concurrent_commands_are_all_acknowledged_and_answered(bot: HttpBot) -> None:
    users = [ALICE, BOB, CAROL]
    prepared = [bot.command_body("quote image quality=high variants=4", user=users[n % 3]) for n in range(CONCURRENT)]

    def send(item: tuple[str, str]) -> tuple[int, str]:
        body, _ = item
        with requests.Session() as http:
            answer = http.post(bot.events_url, data=body.encode(), headers=sign(bot.signing_secret, body), timeout=10)
            return answer.status_code, answer.text

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        answers = list(pool.map(send, prepared))
    assert [status for status, _ in answers] == [200] * CONCURRENT
    for _, body in answers:  # the quote is in the ack itself: nothing goes to response_url
        payload = json.loads(body)
        assert payload["response_type"] == "ephemeral" and "40 credits" in payload["text"]
    assert bot.standin.responses == []
