"""Asking for more over signed requests: a limit raise and extra credits, from the button to the decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import select

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.render import render_blocks
from bot.jobs.approval_sweep import sweep_approvals
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.workspace import AuditEntry
from tests.bot_harness import ALICE, BOB, CAROL, DESIGN_CHANNEL, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import approvals, balance, request_message, tasks, thread_replies

OVER_LIMIT = "image quality=ultra variants=4"  # 64 + 16 expected retries = 80 > a creator's 50 per task
TOO_BIG = "video quality=high duration=600"  # 9,000 credits; the team has 5,500


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {blocks}")


def has_button(blocks: list[dict[str, Any]], action_id: str) -> bool:
    return any(e.get("action_id") == action_id for b in blocks for e in b.get("elements", []))


def ask(bot: BotUnderTest, action_id: str, value: str, user: str) -> str:
    """Click an Ask button; what the member is told."""
    _, response_url = bot.click(action_id, value, user=user)
    return str(bot.standin.wait_for_response(response_url)[0].payload["text"])


def audit(bot: BotUnderTest, action: str) -> list[AuditEntry]:
    with bot.db.read() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_limit_raise_is_asked_approved_until_a_day_and_the_task_can_then_run(bot: BotUnderTest, clock: Clock) -> None:
    quote = bot.command(f"quote {OVER_LIMIT}")
    assert not has_button(quote.payload["blocks"], "ask_extra_credits")
    value = button(quote.payload["blocks"], "ask_limit_raise")["value"]
    assert value == "/credits run image quality=ultra variants=4"
    told = ask(bot, "ask_limit_raise", value, ALICE)
    assert "Asked for a limit raise in" in told and "an admin decides there" in told
    message = request_message(bot)
    shown = render_blocks(message["blocks"])
    assert "asks for a limit raise: per-task limit 50 → 80" in shown
    assert "/credits run image quality=ultra variants=4 (80 credits)" in shown
    assert "Why: over the per-task limit of 50 by 30" in shown
    assert balance(bot).held == 0 and tasks(bot) == []  # nothing is held for a request for more

    # A lead can approve tasks, but only an admin decides a request for more.
    _, response_url = bot.click("approval_approve", message["value"], user=BOB, message_ts=str(message["ts"]))
    assert "Only an admin can decide a request for a limit raise" in str(
        bot.standin.wait_for_response(response_url)[0].payload["text"]
    )
    assert ask(bot, "ask_limit_raise", value, ALICE).startswith("You already asked for a limit raise")

    bot.click("approval_approve", message["value"], user=CAROL, message_ts=str(message["ts"]))
    opened = bot.standin.wait_for_call("views.open")[0].args["view"]
    assert opened["callback_id"] == "raise_until"
    assert '"initial_date": "2026-11-29"' in str(opened).replace("'", '"')  # this week's Sunday by default
    answer = bot.submit_view(
        "raise_until",
        opened["private_metadata"],
        {"raise_until_input": {"until": {"type": "datepicker", "selected_date": "2026-12-02"}}},
        user=CAROL,
    )
    assert answer.status_code == 200
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert "Approved* by <@U0CAROL>" in str(update["blocks"]) and "raised until Wed 2 Dec" in str(update["blocks"])
    bot.standin.wait_for_call("chat.postMessage", count=2)
    reply = thread_replies(bot)[0]["text"]
    assert "<@U0ALICE> limit raise approved by <@U0CAROL> until Wed 2 Dec" in reply
    assert "/credits run image quality=ultra variants=4` can go ahead now" in reply
    assert [(a.kind, a.status, a.task_id) for a in approvals(bot)] == [("limit_raise", "approved", None)]
    [entry] = audit(bot, "approve")
    assert entry.actor == CAROL and '"until": "2026-12-02"' in entry.details and '"task_limit": 80' in entry.details

    limits = bot.command("limits").text
    assert "Per task: 80 credits" in limits and "Raised by an approved request until Wed 2 Dec" in limits
    assert "(raised until Wed 2 Dec)" in bot.command(f"quote {OVER_LIMIT}").text
    assert "Task #1 reserved" in bot.command(f"run {OVER_LIMIT}").text

    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the day after the raise's last day
    assert "Per task: 50 credits" in bot.command("limits").text
    assert "needs approval" in bot.command(f"run {OVER_LIMIT} again").text


def test_extra_credits_are_asked_approved_and_recorded_once_when_bought(bot: BotUnderTest) -> None:
    refused = bot.command(f"run {TOO_BIG}", user=BOB)
    assert "3,500 credits short" in refused.text
    value = button(refused.payload["blocks"], "ask_extra_credits")["value"]
    assert value == f"/credits run {TOO_BIG}"
    quote = bot.command(f"quote {TOO_BIG}", user=BOB)
    assert has_button(quote.payload["blocks"], "ask_extra_credits")
    assert not has_button(quote.payload["blocks"], "ask_limit_raise")  # short first: a raise would not help

    assert "Asked for extra credits" in ask(bot, "ask_extra_credits", value, BOB)
    message = request_message(bot)
    shown = render_blocks(message["blocks"])
    assert "asks for 3,500 credits extra for team design" in shown
    assert "the team has 5,500 available; the task needs 9,000" in shown

    bot.click("approval_approve", message["value"], user=CAROL, message_ts=str(message["ts"]))
    update = bot.standin.wait_for_call("chat.update")[0].args
    bought = button(update["blocks"], "bought_credits")
    assert bought["text"]["text"] == "Bought — add 3,500 credits"
    bot.standin.wait_for_call("chat.postMessage", count=2)
    assert "the 3,500 credits are being bought in Keter Labs' billing" in thread_replies(bot)[0]["text"]
    assert balance(bot).extra == 500  # approving records the decision only

    _, response_url = bot.click("bought_credits", bought["value"], user=ALICE, message_ts=str(message["ts"]))
    assert "Only an admin can decide a request for extra credits" in str(
        bot.standin.wait_for_response(response_url)[0].payload["text"]
    )
    bot.click("bought_credits", bought["value"], user=CAROL, message_ts=str(message["ts"]))
    _, second = bot.click("bought_credits", bought["value"], user=CAROL, message_ts=str(message["ts"]))
    assert "Already recorded: <@U0CAROL> added the 3,500 credits" in str(
        bot.standin.wait_for_response(second)[0].payload["text"]
    )
    assert balance(bot).extra == 4000
    with bot.db.read() as session:
        entries = list(session.exec(select(LedgerEntry).where(LedgerEntry.idempotency_key.startswith("bought:"))))  # type: ignore[attr-defined]
    assert [(e.kind, e.extra_delta, e.member) for e in entries] == [("extra", 3500, CAROL)]
    redrawn = bot.standin.wait_for_call("chat.update", count=2)[-1].args
    assert "3,500 credits added by <@U0CAROL>" in str(redrawn["blocks"])
    assert not has_button(redrawn["blocks"], "bought_credits")
    bot.standin.wait_for_call("chat.postMessage", count=3)
    assert "<@U0BOB> 3,500 credits extra were added by <@U0CAROL>" in thread_replies(bot)[-1]["text"]
    assert [a.action for a in audit(bot, "bought")] == ["bought"]
    assert "short" not in bot.command(f"run {TOO_BIG}", user=BOB).text  # affordable now (over BOB's limit: approval)


def test_an_ask_denied_in_its_form_or_left_to_expire_changes_nothing(
    bot: BotUnderTest, clock: Clock, config: CreditsConfig
) -> None:
    value = button(bot.command(f"quote {OVER_LIMIT}").payload["blocks"], "ask_limit_raise")["value"]
    ask(bot, "ask_limit_raise", value, ALICE)
    message = request_message(bot)
    bot.click("approval_deny", message["value"], user=CAROL, message_ts=str(message["ts"]))
    opened = bot.standin.wait_for_call("views.open")[0].args["view"]
    assert "Deny <@U0ALICE>'s request for a limit raise?" in str(opened["blocks"])
    bot.submit_view(
        "deny_reason",
        opened["private_metadata"],
        {"deny_reason_input": {"reason": {"type": "plain_text_input", "value": "Use draft first"}}},
        user=CAROL,
    )
    bot.standin.wait_for_call("chat.postMessage", count=2)
    assert "<@U0ALICE> denied by <@U0CAROL>. Reason: “Use draft first”." in thread_replies(bot)[0]["text"]
    assert "Per task: 50 credits" in bot.command("limits").text

    ask(bot, "ask_limit_raise", value, ALICE)  # a new request, then nobody decides it
    clock.now = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    client = WebClient(token=bot.standin.bot_token, base_url=bot.standin.base_url)
    assert sweep_approvals(Deps(config=config, db=bot.db, clock=clock), client, clock.now) == 1
    assert [a.status for a in approvals(bot)] == ["denied", "expired"]
    bot.standin.wait_for_call("chat.postMessage", count=4)
    assert "nobody decided in time, so the request expired" in thread_replies(bot)[-1]["text"]


def test_a_run_that_needs_approval_offers_a_limit_raise_and_the_team_channel_gets_it(bot: BotUnderTest) -> None:
    reply = bot.command(f"run {OVER_LIMIT} moodboard")
    value = button(reply.payload["blocks"], "ask_limit_raise")["value"]
    assert value == f"run {OVER_LIMIT} moodboard"
    assert "Asked for a limit raise" in ask(bot, "ask_limit_raise", value, ALICE)
    posted = [m for m in bot.standin.messages(DESIGN_CHANNEL) if "limit raise" in render_blocks(m.get("blocks", []))]
    assert len(posted) == 1
