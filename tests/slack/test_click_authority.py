"""Issue 10 item 2: a click decides only a request of its own workspace, and a forged value is just stale."""

from __future__ import annotations

from typing import Any

import pytest

from bot.devtools.signing import block_action_payload, signed_interaction
from tests.bot_harness import BOB, WORKSPACE, BotUnderTest
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message


def click_payload(
    bot: BotUnderTest, value: Any, *, team: str | None, ts: str = "1.0", action: str = "approval_approve"
) -> tuple[dict[str, Any], str]:
    """A signed click by BOB, from ``team`` (None: a payload that names no workspace)."""
    response_url = bot.standin.new_response_url()
    payload: dict[str, Any] = block_action_payload(
        action_id=action,
        value="0",
        user_id=BOB,
        channel_id="C0DESIGN",
        message_ts=ts,
        response_url=response_url,
        team_id=team or WORKSPACE,
    )
    payload["actions"][0]["value"] = value
    if team is None:
        del payload["team"]
        del payload["user"]["team_id"]
    return payload, response_url


def send(bot: BotUnderTest, payload: dict[str, Any], response_url: str) -> str:
    body, headers = signed_interaction(bot.signing_secret, payload)
    assert bot.post(body, headers).status_code == 200
    answer = bot.standin.wait_for_response(response_url)[0].payload
    assert answer["response_type"] == "ephemeral"
    return str(answer["text"])


@pytest.mark.parametrize("action", ["approval_approve", "approval_deny"])
@pytest.mark.parametrize("team", ["T0ELSEWHERE", None], ids=["another-workspace", "no-team"])
def test_a_click_from_outside_the_workspace_changes_nothing(bot: BotUnderTest, team: str | None, action: str) -> None:
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    payload, response_url = click_payload(bot, str(message["value"]), team=team, ts=str(message["ts"]), action=action)
    text = send(bot, payload, response_url)
    assert "another Slack workspace" in text or "no longer points at a request" in text
    assert [a.status for a in approvals(bot)] == ["pending"] and balance(bot).held == 80
    bot.finish_work()
    assert bot.standin.calls_to("chat.update") == [] and bot.standin.calls_to("views.open") == []


@pytest.mark.parametrize("value", [str(10**30), [1], "", "abc", "0", "-1", "５", "2147483648"], ids=repr)
def test_a_forged_button_value_is_a_stale_button(bot: BotUnderTest, value: Any) -> None:
    bot.command(OVER_TASK_LIMIT)
    request_message(bot)
    payload, response_url = click_payload(bot, value, team=WORKSPACE)
    assert "That button no longer points at a request." in send(bot, payload, response_url)
    assert [a.status for a in approvals(bot)] == ["pending"]
