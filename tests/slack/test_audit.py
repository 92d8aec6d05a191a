"""``/credits admin audit``: admins only, ephemeral, newest first, 15 a page with "More" for the next page."""

from __future__ import annotations

import json
from typing import Any

from tests.bot_harness import ALICE, BOB, CAROL, BotUnderTest
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, request_message


def more_value(payload: dict[str, Any]) -> str | None:
    for block in payload.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == "audit_more":
                return str(element["value"])
    return None


def lines(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if str(b.get("block_id", "")).startswith("audit_lines")]


def test_non_admins_are_refused(bot: BotUnderTest) -> None:
    for user in (ALICE, BOB):
        reply = bot.command("admin audit", user=user)
        assert reply.payload["response_type"] == "ephemeral"
        assert "Only admins can read the audit trail. Ask @U0CAROL" in reply.text


def test_a_decision_and_admin_changes_newest_first_in_pages_of_fifteen(bot: BotUnderTest) -> None:
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    bot.click("approval_approve", str(message["value"]), user=BOB, message_ts=str(message["ts"]))
    bot.standin.wait_for_call("chat.update")
    for n in range(1, 18):
        bot.command(f"admin limit creator task={n}", user=CAROL)

    first = bot.command("admin audit", user=CAROL).payload
    assert first["response_type"] == "ephemeral"
    shown = lines(first)
    assert len(shown) == 15
    assert "creator *limit* by <@U0CAROL>" in shown[0] and "before 16 / 300 · after 17 / 300" in shown[0]
    cursor = more_value(first)
    assert cursor is not None and json.loads(cursor)["team"] is None

    _, response_url = bot.click("audit_more", cursor, user=CAROL)
    second = bot.standin.wait_for_response(response_url)[0].payload
    assert second["replace_original"] is True
    older = lines(second)
    assert len(older) == 3 and more_value(second) is None
    assert (
        "task #1 *approved* by <@U0BOB>" in older[-1]
        and "80 credits · request task · requester <@U0ALICE>" in older[-1]
    )

    _, refused = bot.click("audit_more", cursor, user=ALICE)  # the button is no way round the admin check
    assert "Only admins can read the audit trail" in bot.standin.wait_for_response(refused)[0].payload["text"]
