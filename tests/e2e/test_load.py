"""Fifty slash commands at once are all acknowledged (Bolt answers 404 to any it could not ack in 3 s)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from bot.devtools.signing import sign
from tests.e2e.conftest import ALICE, BOB, CAROL, HttpBot

CONCURRENT = 50


def test_fifty_concurrent_commands_are_all_acknowledged_and_answered(bot: HttpBot) -> None:
    users = [ALICE, BOB, CAROL]
    prepared = [bot.command_body("quote image quality=high variants=4", user=users[n % 3]) for n in range(CONCURRENT)]

    def send(item: tuple[str, str]) -> int:
        body, _ = item
        with requests.Session() as http:
            return http.post(
                bot.events_url, data=body.encode(), headers=sign(bot.signing_secret, body), timeout=10
            ).status_code

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        statuses = list(pool.map(send, prepared))
    assert statuses == [200] * CONCURRENT
    for _, response_url in prepared:
        reply = bot.standin.wait_for_response(response_url, timeout=15)[0]
        assert "Total: 40 credits" in reply.payload["text"] or "40 credits" in str(reply.payload["blocks"])
