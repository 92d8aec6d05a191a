"""Issue 10 items 3 and 15, over signed requests: only 0-9 are digits; control characters never reach a table."""

from __future__ import annotations

import json

import pytest

from tests.bot_harness import BOB, CAROL, BotUnderTest
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message, tasks


@pytest.mark.parametrize(
    "text", ["quote image variants=５", "run image variants=٣ poster", "quote video duration=３０", "done ١"]
)
def test_unicode_digits_are_refused(bot: BotUnderTest, text: str) -> None:
    reply = bot.command(text)
    assert "use the digits 0-9" in reply.text
    assert tasks(bot) == []


def test_a_topup_in_fullwidth_digits_is_refused_and_writes_nothing(bot: BotUnderTest) -> None:
    bot.command("admin topup design 1", user=CAROL)  # a write: the team's ledger is open
    reply = bot.command("admin topup design ５００", user=CAROL)
    assert "use the digits 0-9" in reply.text
    assert balance(bot).extra == 501  # the opening 500 and the ASCII top-up only


def test_a_nul_in_a_note_is_stripped_the_same_on_both_databases(bot: BotUnderTest) -> None:
    reply = bot.command("run image moodboard\x00 for\x07 the\x1b[31m pitch")
    assert "Something went wrong" not in reply.text
    assert [t.note for t in tasks(bot)] == ["moodboard for the[31m pitch"]


def test_control_characters_in_a_deny_reason_are_stripped(bot: BotUnderTest) -> None:
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    state = json.dumps({"approval_id": int(str(message["value"]))})
    reason = {"deny_reason_input": {"reason": {"type": "plain_text_input", "value": "too\x00 pricey\x08"}}}
    assert bot.submit_view("deny_reason", state, reason, user=BOB).status_code == 200
    bot.standin.wait_for_call("chat.update")
    assert [(a.status, a.decision_note) for a in approvals(bot)] == [("denied", "too pricey")]
