"""Approval in a thread: only an eligible approver decides, exactly once; expiry even across downtime."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.signing import block_action_payload, signed_interaction
from bot.devtools.slack_standin import SlackStandIn
from bot.jobs.approval_sweep import sweep_approvals
from bot.store.db import Database
from tests.bot_harness import ALICE, BOB, CAROL, WORKSPACE, BotUnderTest, in_process_bot
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message, tasks, thread_replies


def ask(bot: BotUnderTest) -> dict[str, object]:
    bot.command(OVER_TASK_LIMIT)
    return request_message(bot)


def test_an_eligible_approver_approves_once_and_the_thread_is_told(bot: BotUnderTest) -> None:
    message = ask(bot)
    response, _ = bot.click("approval_approve", str(message["value"]), user=BOB, message_ts=str(message["ts"]))
    assert response.status_code == 200
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == message["ts"]
    assert "Approved* by <@U0BOB>" in str(update["blocks"])
    assert "approval_approve" not in str(update["blocks"])
    reply = bot.standin.wait_for_call("chat.postMessage", count=2)[-1].args
    assert reply["thread_ts"] == message["ts"] and "<@U0ALICE> approved by <@U0BOB>" in reply["text"]
    assert [a.status for a in approvals(bot)] == ["approved"]
    assert tasks(bot)[0].status == "held" and balance(bot).held == 80  # still reserved until done


def test_deny_with_a_reason_releases_the_hold(bot: BotUnderTest) -> None:
    message = ask(bot)
    bot.click("approval_deny", str(message["value"]), user=CAROL, message_ts=str(message["ts"]))
    opened = bot.standin.wait_for_call("views.open")[0].args["view"]
    assert opened["callback_id"] == "deny_reason"
    response = bot.submit_view(
        "deny_reason",
        opened["private_metadata"],
        {"deny_reason_input": {"reason": {"type": "plain_text_input", "value": "Use the draft quality first"}}},
        user=CAROL,
    )
    assert response.status_code == 200
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert "Denied* by <@U0CAROL>" in str(update["blocks"]) and "Use the draft quality first" in str(update["blocks"])
    bot.standin.wait_for_call("chat.postMessage", count=2)
    assert "Reason: “Use the draft quality first”" in thread_replies(bot)[0]["text"]
    assert balance(bot).held == 0
    assert [t.status for t in tasks(bot)] == ["denied"]


def test_someone_outside_the_team_cannot_decide(bot: BotUnderTest) -> None:
    message = ask(bot)
    bot.standin.add_user("U0ERIN", name="erin")
    _, response_url = bot.click("approval_approve", str(message["value"]), user="U0ERIN", message_ts=str(message["ts"]))
    answer = bot.standin.wait_for_response(response_url)[0].payload
    assert answer["response_type"] == "ephemeral"
    assert "Only members of team design who can approve 80 credits" in answer["text"]
    assert [a.status for a in approvals(bot)] == ["pending"] and bot.standin.calls_to("chat.update") == []


def test_the_requester_cannot_approve_their_own_request(bot: BotUnderTest) -> None:
    message = ask(bot)
    _, response_url = bot.click("approval_approve", str(message["value"]), user=ALICE, message_ts=str(message["ts"]))
    answer = bot.standin.wait_for_response(response_url)[0].payload
    assert "You can't decide your own request" in answer["text"]
    assert [a.status for a in approvals(bot)] == ["pending"]


def test_a_lead_cannot_approve_more_than_their_cap(bot: BotUnderTest) -> None:
    bot.command("run video quality=high duration=150 trailer", user=BOB)  # 2250 > lead's 500 task limit
    message = request_message(bot)
    bot.standin.add_user("U0DAN", name="dan")
    bot.command("admin role <@U0DAN|dan> lead", user=CAROL)
    _, response_url = bot.click("approval_approve", str(message["value"]), user="U0DAN", message_ts=str(message["ts"]))
    assert (
        "can approve up to 2,000 credits; this request is for 2,250 credits"
        in bot.standin.wait_for_response(response_url)[0].payload["text"]
    )


def test_concurrent_clicks_decide_exactly_once(bot: BotUnderTest) -> None:
    message = ask(bot)
    clicks = [
        ("approval_approve", BOB),
        ("approval_approve", CAROL),
        ("approval_deny", CAROL),
        ("approval_approve", BOB),
    ]

    def click(item: tuple[str, str]) -> int:
        action, user = item
        if action == "approval_deny":  # a deny arrives as the modal's submission
            state = json.dumps({"approval_id": int(str(message["value"]))})
            return bot.submit_view("deny_reason", state, {}, user=user).status_code
        return bot.click(action, str(message["value"]), user=user, message_ts=str(message["ts"]))[0].status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(click, clicks)) == [200, 200, 200, 200]
    bot.standin.wait_for_call("chat.update")
    decided = approvals(bot)[0]
    assert decided.status in ("approved", "denied")
    bot.standin.wait_for_call("chat.postMessage", count=2)
    bot.finish_work()  # every listener has returned, so a wrongly duplicated announcement would be here
    assert len(bot.standin.calls_to("chat.update")) == 1
    assert len(thread_replies(bot)) == 1
    assert balance(bot).held == (80 if decided.status == "approved" else 0)


def test_a_redelivered_click_has_no_second_effect(bot: BotUnderTest) -> None:
    message = ask(bot)
    payload = block_action_payload(
        action_id="approval_approve",
        value=str(message["value"]),
        user_id=BOB,
        channel_id="C0DESIGN",
        message_ts=str(message["ts"]),
        response_url=bot.standin.new_response_url(),
        team_id=WORKSPACE,
    )
    body, headers = signed_interaction(bot.signing_secret, payload)
    assert bot.post(body, headers).status_code == 200
    bot.standin.wait_for_call("chat.update")
    assert bot.post(body, headers).status_code == 200
    bot.finish_work()  # every listener has returned, so the replay was not merely slow
    assert len(bot.standin.calls_to("chat.update")) == 1 and len(thread_replies(bot)) == 1


def test_a_redelivered_run_creates_one_task(bot: BotUnderTest) -> None:
    from bot.devtools.signing import sign

    body, response_url = bot.command_body(OVER_TASK_LIMIT)
    headers = sign(bot.signing_secret, body)
    bot.post(body, headers)
    bot.standin.wait_for_response(response_url)
    bot.post(body, headers)
    bot.finish_work()
    assert len(tasks(bot)) == 1 and len(approvals(bot)) == 1 and balance(bot).held == 80


def test_a_click_after_expiry_never_approves(bot: BotUnderTest, clock: Clock) -> None:
    message = ask(bot)
    clock.advance(hours=24, seconds=1)
    _, response_url = bot.click("approval_approve", str(message["value"]), user=BOB, message_ts=str(message["ts"]))
    answer = bot.standin.wait_for_response(response_url)[0].payload
    assert "Too late" in answer["text"] and "Expired" in answer["text"]
    assert [a.status for a in approvals(bot)] == ["expired"] and balance(bot).held == 0
    assert "Expired" in str(bot.standin.wait_for_call("chat.update")[0].args["blocks"])


def test_expiry_while_the_bot_was_down(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    first = in_process_bot(standin, database, config, clock)
    first.command(OVER_TASK_LIMIT)
    message = request_message(first)
    # The bot goes down with the request pending: that app receives nothing more.
    clock.advance(hours=30)
    in_process_bot(standin, database, config, clock)  # ...and comes back (create_app: auth.test again)
    from slack_sdk import WebClient

    expired = sweep_approvals(
        Deps(config=config, db=database, clock=clock),
        WebClient(token=standin.bot_token, base_url=standin.base_url),
        clock(),
    )
    assert expired == 1
    assert [a.status for a in approvals(first)] == ["expired"] and balance(first).held == 0
    update = standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == message["ts"] and "Expired" in str(update["blocks"])
    promised = approvals(first)[0].expires_at.astimezone(config.teams["design"].zone)
    swept = clock().astimezone(config.teams["design"].zone)
    assert f"{promised:%H:%M}" in str(update["blocks"]) and f"{swept:%H:%M}" not in str(update["blocks"])
    assert "nobody decided in time" in thread_replies(first)[0]["text"]
    assert (
        sweep_approvals(
            Deps(config=config, db=database, clock=clock),
            WebClient(token=standin.bot_token, base_url=standin.base_url),
            clock(),
        )
        == 0
    )
    assert len(standin.calls_to("chat.update")) == 1
    first.assert_ledger_consistent()
