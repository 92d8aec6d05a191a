"""Events API deliveries (``bot/slack/listeners/events``): installation events are acknowledged."""

from __future__ import annotations

from tests.bot_harness import WORKSPACE, BotUnderTest


def test_installation_events_are_acknowledged(bot: BotUnderTest) -> None:
    import json

    from bot.devtools.signing import sign

    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": WORKSPACE,
            "api_app_id": "A0KETER",
            "event": {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}},
            "event_id": "Ev0001",
            "event_time": 1,
        }
    )
    headers = sign(bot.signing_secret, body) | {"Content-Type": "application/json"}
    assert bot.post(body, headers).status_code == 200
