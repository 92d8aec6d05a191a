"""Issue 10 items 8-10: an approval request's post and its redraw, when Slack or the process lets us down.

Over signed requests to the in-process app; the sweep is the production one (``sweep_approvals``).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.domain.command_line import parse_command
from bot.domain.task_commands import RunCommand
from bot.jobs.approval_sweep import sweep_approvals
from bot.services.approvals import posts as approval_posts
from bot.services.tasks.run_and_done import start_task
from bot.services.workspace.members import Member
from tests.bot_harness import ALICE, BOB, DESIGN_CHANNEL, WORKSPACE, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, tasks, thread_replies


def sweep(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    """One run of the approvals sweep, as the scheduler makes it."""
    client = WebClient(token=bot.standin.bot_token, base_url=bot.standin.base_url)
    sweep_approvals(Deps(config=config, db=bot.db, clock=clock), client, clock())


def requests_in_channel(bot: BotUnderTest) -> list[dict[str, Any]]:
    """Top-level approval requests in the team's channel."""
    return [
        m
        for m in bot.standin.messages(DESIGN_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == "keter_credits_approval"
    ]


def direct_messages(bot: BotUnderTest, user: str) -> list[str]:
    return [str(c.args["text"]) for c in bot.standin.calls_to("chat.postMessage") if c.args.get("channel") == user]


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- item 8: a post that never landed ------------------------------------------------------------------


def test_a_refused_post_is_posted_by_the_sweep_and_the_user_is_not_told_nothing_was_charged(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.standin.fail_next("chat.postMessage", "internal_error", status=200)
    reply = bot.command(OVER_TASK_LIMIT)
    assert "needs approval" in reply.text and "Nothing was charged" not in reply.text
    assert balance(bot).held == 80 and approvals(bot)[0].message_ts is None
    sweep(bot, config, clock)
    assert requests_in_channel(bot) == []  # tries are two minutes apart
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    [posted] = requests_in_channel(bot)
    assert approvals(bot)[0].message_ts == posted["ts"] and "approval_approve" in str(posted["blocks"])
    sweep(bot, config, clock)
    assert len(requests_in_channel(bot)) == 1


def test_a_process_that_died_before_the_post_leaves_it_to_the_sweep(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    command = parse_command(OVER_TASK_LIMIT)
    assert isinstance(command, RunCommand)
    member = Member(ALICE, "design", "creator", is_bot_admin=False)
    start_task(bot.db, config, workspace_id=WORKSPACE, member=member, command=command, now=clock())  # ...then died
    sweep(bot, config, clock)
    assert requests_in_channel(bot) == []  # it may still be on its way: the sweep waits out the lease
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    [posted] = requests_in_channel(bot)
    assert approvals(bot)[0].message_ts == posted["ts"]


def test_a_process_that_died_after_the_post_is_not_posted_twice(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = approval_posts.attach_message

    def die_once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(approval_posts, "attach_message", real)
        raise RuntimeError("the process died here")

    monkeypatch.setattr(approval_posts, "attach_message", die_once)
    bot.command(OVER_TASK_LIMIT)
    assert len(requests_in_channel(bot)) == 1 and approvals(bot)[0].message_ts is None
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    [posted] = requests_in_channel(bot)  # found in the channel by its metadata, not posted again
    assert approvals(bot)[0].message_ts == posted["ts"]


def test_a_channel_that_is_gone_withdraws_the_request_and_tells_the_requester(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.standin.fail_next("chat.postMessage", "internal_error", status=200)
    bot.command(OVER_TASK_LIMIT)
    bot.standin.set_bot_in_channel(DESIGN_CHANNEL, False)  # meanwhile someone removed the bot
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    assert [a.status for a in approvals(bot)] == ["withdrawn"] and balance(bot).held == 0
    assert [t.status for t in tasks(bot)] == ["withdrawn"]
    [told] = direct_messages(bot, ALICE)
    assert "could not be posted: I'm not in <#C0DESIGN>" in told and "80 credits held were released" in told
    sweep(bot, config, clock)
    assert len(direct_messages(bot, ALICE)) == 1


# -- item 9: a click that comes before the ts is stored -----------------------------------------------


def test_a_click_before_the_ts_is_stored_still_gets_the_message_redrawn(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = approval_posts.attach_message

    def click_first(*args: Any, **kwargs: Any) -> Any:
        """Slack took the post; BOB clicks Approve before the bot has stored the message's ts."""
        approval_id = kwargs["approval_id"]
        bot.click("approval_approve", str(approval_id), user=BOB, message_ts=str(kwargs["message_ts"]))
        wait_until(lambda: approvals(bot)[0].status == "approved")
        wait_until(lambda: bot.standin.calls_to("users.info") != [])
        time.sleep(0.1)  # the click's listener has finished announcing (it had nothing to redraw)
        return real(*args, **kwargs)

    monkeypatch.setattr(approval_posts, "attach_message", click_first)
    bot.command(OVER_TASK_LIMIT)
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert "Approved* by <@U0BOB>" in str(update["blocks"]) and "approval_approve" not in str(update["blocks"])
    assert len(thread_replies(bot)) == 1 and approvals(bot)[0].announced


# -- item 10: a redraw that keeps failing ------------------------------------------------------------


def test_a_deleted_message_is_given_up_and_the_requester_told_directly(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command(OVER_TASK_LIMIT)
    [posted] = requests_in_channel(bot)
    bot.standin.fail_next("chat.update", "message_not_found", status=200)
    bot.click("approval_approve", str(approvals(bot)[0].id), user=BOB, message_ts=str(posted["ts"]))
    wait_until(lambda: direct_messages(bot, ALICE) != [])
    assert "approved by <@U0BOB>: task #1 can go ahead" in direct_messages(bot, ALICE)[0]
    bot.finish_work()
    assert approvals(bot)[0].announced
    sweep(bot, config, clock)
    assert len(bot.standin.calls_to("chat.update")) == 1  # not retried for ever


def test_a_redraw_that_keeps_failing_is_given_up_after_three_tries(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command(OVER_TASK_LIMIT)
    [posted] = requests_in_channel(bot)
    for _ in range(3):
        bot.standin.fail_next("chat.update", "internal_error", status=200)
    bot.click("approval_approve", str(approvals(bot)[0].id), user=BOB, message_ts=str(posted["ts"]))
    bot.finish_work()
    assert not approvals(bot)[0].announced and direct_messages(bot, ALICE) == []
    sweep(bot, config, clock)
    sweep(bot, config, clock)  # the third try fails too: give up, tell the requester
    assert approvals(bot)[0].announced
    assert "can go ahead" in direct_messages(bot, ALICE)[0]
    sweep(bot, config, clock)
    assert len(bot.standin.calls_to("chat.update")) == 3


# -- a request for more (no task) goes through the same claimed post and sweep --------------------------

ASK_VALUE = "/credits run image quality=ultra variants=4"  # over a creator's 50 per task


def ask_requests_in_channel(bot: BotUnderTest) -> list[dict[str, Any]]:
    return [
        m
        for m in bot.standin.messages(DESIGN_CHANNEL)
        if (m.get("metadata") or {}).get("event_type") == "keter_credits_ask"
    ]


def test_a_request_for_more_slack_refused_is_posted_by_the_sweep_once(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.standin.fail_next("chat.postMessage", "internal_error", status=200)
    _, response_url = bot.click("ask_limit_raise", ASK_VALUE, user=ALICE)
    assert "Asked for a limit raise" in str(bot.standin.wait_for_response(response_url)[0].payload["text"])
    assert ask_requests_in_channel(bot) == [] and approvals(bot)[0].message_ts is None
    sweep(bot, config, clock)
    assert ask_requests_in_channel(bot) == []  # tries are two minutes apart
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    [posted] = ask_requests_in_channel(bot)
    assert approvals(bot)[0].message_ts == posted["ts"] and "per-task limit 50 → 80" in str(posted["blocks"])
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    assert len(ask_requests_in_channel(bot)) == 1


def test_a_request_for_more_whose_channel_is_gone_is_withdrawn_and_the_requester_told(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.standin.fail_next("chat.postMessage", "internal_error", status=200)
    bot.click("ask_limit_raise", ASK_VALUE, user=ALICE)
    bot.standin.wait_for_call("chat.postMessage")
    bot.standin.set_bot_in_channel(DESIGN_CHANNEL, False)
    clock.advance(minutes=3)
    sweep(bot, config, clock)
    assert [(a.kind, a.status) for a in approvals(bot)] == [("limit_raise", "withdrawn")]
    [told] = direct_messages(bot, ALICE)
    assert "Your request for a limit raise could not be posted: I'm not in <#C0DESIGN>" in told
    sweep(bot, config, clock)
    assert len(direct_messages(bot, ALICE)) == 1
