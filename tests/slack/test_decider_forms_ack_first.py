"""The deny and raise forms ack before any Slack Web API call: who may decide is settled after the ack.

Before the ack only the database and the cached admin flag are read; a slow or failing ``users.info``
(is the decider a workspace admin?) then never costs Slack's 3-second timeout, and a refusal it leads to
reaches the decider privately in the team's channel.
"""

from __future__ import annotations

import json

from tests.bot_harness import ALICE, BOB, CAROL, BotUnderTest
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, request_message
from tests.slack.test_ask_for_more import OVER_LIMIT, ask, button

ERIN = "U0ERIN"  # a Slack workspace admin, in no team: only users.info says she may decide
RAISE_DAY = {"raise_until_input": {"until": {"type": "datepicker", "selected_date": "2026-12-02"}}}


def limit_raise_form(bot: BotUnderTest) -> str:
    """Alice asks for a limit raise; Carol's Approve opens its form; its private_metadata."""
    value = button(bot.command(f"quote {OVER_LIMIT}").payload["blocks"], "ask_limit_raise")["value"]
    ask(bot, "ask_limit_raise", value, ALICE)
    message = request_message(bot)
    bot.click("approval_approve", str(message["value"]), user=CAROL, message_ts=str(message["ts"]))
    return str(bot.standin.wait_for_call("views.open")[0].args["view"]["private_metadata"])


def test_the_raise_form_acks_while_users_info_is_slow(bot: BotUnderTest) -> None:
    metadata = limit_raise_form(bot)
    bot.standin.add_user(ERIN, name="erin", is_admin=True)
    with bot.standin.holding("users.info"):
        answer = bot.submit_view("raise_until", metadata, RAISE_DAY, user=ERIN)
        assert answer.status_code == 200 and answer.text in ("", "{}")  # the form closed: the ack came first
        assert [a.status for a in approvals(bot)] == ["pending"]
    bot.finish_work()
    assert [a.status for a in approvals(bot)] == ["approved"]  # users.info said admin, after the ack
    assert "Approved* by <@U0ERIN>" in str(bot.standin.wait_for_call("chat.update")[0].args["blocks"])


def test_a_refusal_users_info_leads_to_reaches_the_decider_privately(bot: BotUnderTest) -> None:
    metadata = limit_raise_form(bot)
    bot.standin.add_user(ERIN, name="erin", is_admin=True)
    bot.standin.fail_next("users.info", error="fatal_error", status=200)
    answer = bot.submit_view("raise_until", metadata, RAISE_DAY, user=ERIN)
    assert answer.status_code == 200
    bot.finish_work()
    [told] = [c.args for c in bot.standin.calls_to("chat.postEphemeral") if c.args.get("user") == ERIN]
    assert told["channel"] == "C0DESIGN" and "Only members of team design" in str(told["text"])
    assert [a.status for a in approvals(bot)] == ["pending"]


def test_the_deny_form_acks_while_users_info_is_slow(bot: BotUnderTest) -> None:
    bot.command(OVER_TASK_LIMIT)
    state = json.dumps({"approval_id": approvals(bot)[0].id})
    with bot.standin.holding("users.info"):
        answer = bot.submit_view("deny_reason", state, {}, user=BOB)
        assert answer.status_code == 200 and answer.text in ("", "{}")
    bot.finish_work()
    assert [a.status for a in approvals(bot)] == ["denied"]


def test_who_the_file_refuses_is_told_in_the_form_and_the_rest_after_the_ack(bot: BotUnderTest) -> None:
    bot.standin.add_user(ERIN, name="erin")
    bot.command(OVER_TASK_LIMIT)
    state = json.dumps({"approval_id": approvals(bot)[0].id})
    with bot.standin.holding("users.info"):  # a call before the ack would be held: no answer in time
        own = bot.submit_view("deny_reason", state, {}, user=ALICE)
        assert "You can't decide your own request" in own.text
        erin = bot.submit_view("deny_reason", state, {}, user=ERIN)  # users.info would say: not an admin
    bot.finish_work()
    assert [c.args["user"] for c in bot.standin.calls_to("users.info")].count(ERIN) == 1  # after her ack
    told = [c.args for c in bot.standin.calls_to("chat.postEphemeral") if c.args.get("user") == ERIN]
    assert erin.status_code == 200 and "Only members of team design" in str(told[0]["text"])
    assert [a.status for a in approvals(bot)] == ["pending"]
