"""``/credits run``, ``done``, ``cancel``, ``tasks``, ``limits`` through signed HTTP on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.domain.ledger import Balance
from tests.bot_harness import ALICE, BOB, CAROL, DESIGN_CHANNEL, BotUnderTest
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message, tasks


def test_within_limits_the_credits_are_reserved_at_once(bot: BotUnderTest) -> None:
    reply = bot.command("run image quality=high variants=4 hero shots")
    assert "Task #1 reserved: 40 credits for image · high · 4 variants “hero shots”" in reply.text
    assert "/credits done 1 retries=<n> kept=<n>" in reply.text
    assert balance(bot) == Balance(plan=5000, extra=500, held=40, spent=0)
    assert [t.status for t in tasks(bot)] == ["held"]
    assert bot.standin.calls_to("chat.postMessage") == []


def test_over_the_task_limit_holds_and_asks_in_the_channel(bot: BotUnderTest) -> None:
    reply = bot.command(OVER_TASK_LIMIT)
    assert "Task #1 needs approval: over the per-task limit of 50 by 30" in reply.text
    assert "80 credits are held while an approver decides" in reply.text
    assert "https://standin.slack.com/archives/C0DESIGN/p" in str(reply.payload["blocks"])
    assert balance(bot).held == 80
    message = request_message(bot)
    text = str(message["blocks"])
    assert "<@U0ALICE> asks to run task" in text and "80 credits" in text
    assert "over the per-task limit of 50 by 30" in text
    assert "Their spend this week" in text
    assert message["metadata"]["event_type"] == "keter_credits_approval"
    assert [a.status for a in approvals(bot)] == ["pending"]


def test_over_the_weekly_limit_goes_for_approval(bot: BotUnderTest, clock) -> None:
    for number in range(6):  # 6 × 50 = the creator's 300 a week
        assert "reserved" in bot.command(f"run image quality=high variants=5 batch {number}").text
    reply = bot.command("run image quality=draft variants=1 one more")
    assert "over the weekly limit of 300 by 2" in reply.text
    assert balance(bot).held == 302


def test_unaffordable_task_is_refused_with_the_shortfall(bot: BotUnderTest) -> None:
    reply = bot.command("run video quality=high duration=600", user=CAROL)
    assert "Team design is 3,500 credits short: this needs 9,000, 5,500 are available" in reply.text
    assert "Nothing was reserved" in reply.text
    assert "@U0CAROL can add extra credits" in reply.text
    assert tasks(bot) == [] and balance(bot).held == 0
    assert bot.standin.calls_to("chat.postMessage") == []


def test_done_captures_the_real_cost_and_releases_the_rest(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=4")  # holds 40
    reply = bot.command("done 1 retries=0 kept=3")
    assert "Task #1 done: 32 credits charged, 8 credits released. 3 successful versions." in reply.text
    assert balance(bot) == Balance(plan=4968, extra=500, held=0, spent=32)
    task = tasks(bot)[0]
    assert (task.status, task.actual_cost, task.retries_used, task.kept) == ("done", 32, 0, 3)


def test_done_above_the_hold_within_limits_is_charged(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=4")  # holds 40
    reply = bot.command("done 1 cost=48")
    assert "Task #1 done: 48 credits charged" in reply.text
    assert balance(bot) == Balance(plan=4952, extra=500, held=0, spent=48)


def test_done_above_the_limits_is_charged_and_flagged_in_the_channel(bot: BotUnderTest) -> None:
    """Changed on purpose (issue 8): this overrun used to wait for approval; now it is charged and flagged."""
    bot.command("run image quality=high variants=4")  # holds 40
    reply = bot.command("done 1 cost=120")  # 80 more than reserved, over the task limit of 50
    assert "Task #1 done: 120 credits charged" in reply.text
    assert "80 credits above what was reserved (over the per-task limit of 50 by 70 credits)" in reply.text
    assert balance(bot) == Balance(plan=4880, extra=500, held=0, spent=120)
    assert tasks(bot)[0].status == "done"
    flag = bot.standin.wait_for_call("chat.postMessage")[0].args
    assert flag["channel"] == DESIGN_CHANNEL and not flag.get("thread_ts")
    assert "<@U0ALICE>'s task #1 cost 120 credits against a quote of 40 credits" in flag["text"]
    assert "approval_approve" not in str(flag["blocks"])
    assert approvals(bot) == []


def test_kept_cannot_exceed_what_was_generated(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=2")
    assert "kept=9 is more than the 4 versions generated" in bot.command("done 1 retries=1 kept=9").text
    assert tasks(bot)[0].status == "held"


def test_cancel_releases_the_hold_and_withdraws_the_request(bot: BotUnderTest) -> None:
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    reply = bot.command("cancel 1")
    assert "Task #1 cancelled: 80 credits released. Its approval request was withdrawn." in reply.text
    assert balance(bot).held == 0
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == message["ts"] and "Cancelled" in str(update["blocks"])
    assert "approval_approve" not in str(update["blocks"])


def test_only_the_requester_or_an_admin_can_finish_or_cancel(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=2")
    assert "is <@U0ALICE>'s" in str(bot.command("cancel 1", user=BOB).payload)
    assert "cancelled" in bot.command("cancel 1", user=CAROL).text


def test_tasks_and_limits(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=2 first")
    bot.command(OVER_TASK_LIMIT)
    listing = bot.command("tasks").text
    assert "#1 image · high · 2 variants “first”: 20 credits reserved" in listing
    assert "#2 image · ultra · 4 variants “moodboard”: 80 credits waiting for approval" in listing
    limits = bot.command("limits").text
    assert "role creator" in limits and "100 credits used of 300 credits, 200 credits left" in limits
    other = bot.command("limits <@U0BOB|bob>").text
    assert "@U0BOB in team design: role lead" in other and "Can approve: up to 2,000 credits" in other


def test_a_repeated_run_within_two_minutes_is_asked_about(bot: BotUnderTest, clock) -> None:
    bot.command("run image quality=high variants=2 banner")
    clock.advance(seconds=40)
    reply = bot.command("run image quality=high variants=2 banner")
    assert "You started the same task #1 40 seconds ago" in reply.text
    assert len(tasks(bot)) == 1
    again = next(e for b in reply.payload["blocks"] for e in b.get("elements", []) if e.get("action_id") == "run_again")
    response, response_url = bot.click("run_again", again["value"], user=ALICE)
    assert response.status_code == 200
    second = bot.standin.wait_for_response(response_url)[0].payload
    assert "Task #2 reserved" in str(second["blocks"])
    assert len(tasks(bot)) == 2
    clock.advance(minutes=3)
    assert "Task #3 reserved" in bot.command("run image quality=high variants=2 banner").text


def test_start_a_second_task_clicked_twice_starts_one(bot: BotUnderTest, clock) -> None:
    """The bug: each click has its own trigger_id, so two clicks started tasks #2 and #3."""
    bot.command("run image quality=high variants=2 banner")
    clock.advance(seconds=40)
    reply = bot.command("run image quality=high variants=2 banner")
    again = next(e for b in reply.payload["blocks"] for e in b.get("elements", []) if e.get("action_id") == "run_again")
    assert len(again["value"]) <= 2000
    first, first_url = bot.click("run_again", again["value"], user=ALICE)
    assert "Task #2 reserved" in str(bot.standin.wait_for_response(first_url)[0].payload["blocks"])
    second, second_url = bot.click("run_again", again["value"], user=ALICE)
    assert first.status_code == second.status_code == 200
    answer = bot.standin.wait_for_response(second_url)[0].payload
    assert "already started as task #2" in answer["text"]
    assert [t.number for t in tasks(bot)] == [1, 2]
    assert balance(bot).held == 40


def test_start_a_second_task_clicked_twice_at_once_starts_one(bot: BotUnderTest, clock) -> None:
    bot.command("run image quality=high variants=2 banner")
    reply = bot.command("run image quality=high variants=2 banner")
    again = next(e for b in reply.payload["blocks"] for e in b.get("elements", []) if e.get("action_id") == "run_again")
    with ThreadPoolExecutor(max_workers=2) as pool:
        clicks = list(pool.map(lambda _: bot.click("run_again", again["value"], user=ALICE), range(2)))
    answers = [str(bot.standin.wait_for_response(url)[0].payload["text"]) for _, url in clicks]
    assert sorted("already started" in text for text in answers) == [False, True]
    assert [t.number for t in tasks(bot)] == [1, 2]


def test_an_old_start_a_second_task_button_still_starts_one(bot: BotUnderTest, clock) -> None:
    """A button from before the fix carries the command alone: it starts a task as it did."""
    bot.command("run image quality=high variants=2 banner")
    response, response_url = bot.click("run_again", "run image quality=high variants=2 banner", user=ALICE)
    assert response.status_code == 200
    assert "Task #2 reserved" in str(bot.standin.wait_for_response(response_url)[0].payload["blocks"])


def test_bot_not_in_the_channel_tells_the_requester_and_holds_nothing(bot: BotUnderTest) -> None:
    bot.standin.set_bot_in_channel(DESIGN_CHANNEL, False)
    reply = bot.command(OVER_TASK_LIMIT)
    assert "I'm not in #C0DESIGN" in reply.text and "/invite @credits" in reply.text
    assert balance(bot).held == 0
    assert [a.status for a in approvals(bot)] == ["withdrawn"]
    assert [t.status for t in tasks(bot)] == ["withdrawn"]
