"""``/credits quote``, ``balance`` and ``help`` through signed requests, answered in the ack's own body."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import func, select

from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task
from bot.store.tables.workspace import ProcessedRequest
from tests.bot_harness import ALICE, BOB, CAROL, WORKSPACE, BotUnderTest


def ledger_rows(bot: BotUnderTest) -> int:
    with bot.db.read() as session:
        return int(session.exec(select(func.count()).select_from(LedgerEntry)).one())


def test_quote_is_itemised_and_ephemeral(bot: BotUnderTest) -> None:
    reply = bot.command("quote image quality=high variants=4 retries=1")
    assert reply.status == 200 and json.loads(reply.body)["response_type"] == "ephemeral"  # shown at once
    assert reply.payload["response_type"] == "ephemeral"
    text = reply.text
    assert "8 credits × 4 variants" in text
    assert "First attempt: 32 credits" in text
    assert "1 retry (as given) → 32 credits" in text
    assert "Total: 64 credits" in text
    assert "5,436 credits available (now 5,500 credits)" in text
    assert "Your weekly limit left (creator): 300 credits of 300" in text
    assert "Needs approval: 14 credits over your per-task limit of 50" in text


def test_quote_of_time_based_tool_uses_the_configured_retry_rate(bot: BotUnderTest) -> None:
    text = bot.command("quote video quality=high duration=10 variants=2", user=BOB).text
    assert "12 credits/second × 20 seconds (2 × 10 s)" in text
    assert "First attempt: 240 credits" in text
    assert "0.25 expected (configured rate; the team has 0 of the 10 finished video tasks its own rate needs)" in text
    assert "Total: 300 credits" in text
    assert "Within your limits" in text


def test_quote_uses_the_teams_own_retry_rate_with_enough_history(bot: BotUnderTest, clock) -> None:
    with bot.db.write() as session:
        for number in range(10):
            session.add(
                Task(
                    workspace_id=WORKSPACE,
                    team="design",
                    requester=ALICE,
                    tool="image",
                    quality="standard",
                    quoted_cost=4,
                    status="done",
                    retries_used=number % 2,
                    created_at=clock.now - timedelta(days=3),
                    finished_at=clock.now - timedelta(days=2),
                )
            )
    text = bot.command("quote image variants=2").text
    assert "0.5 expected (your team's rate: 5 retries in 10 image tasks, 30 days) → 4 credits" in text
    assert "Total: 12 credits" in text


def test_quote_that_the_team_cannot_afford(bot: BotUnderTest) -> None:
    text = bot.command("quote video quality=high duration=600 variants=1", user=CAROL).text
    assert "Cannot be afforded" in text and "short" in text
    assert "@U0CAROL can add extra credits" in text


def test_balance_shows_plan_extra_holds_and_forecast(bot: BotUnderTest) -> None:
    text = bot.command("balance", user=BOB).text
    assert "Plan credits left (pro, 5,000/month): 5,000 credits, renews Tue 1 Dec" in text
    assert "Extra credits: 500 credits" in text
    assert "Held for pending tasks: 0 credits" in text
    assert "Available now: 5,500 credits" in text
    assert "No spending in the last 7 days" in text


def test_bad_tool_suggests_the_closest_and_writes_nothing(bot: BotUnderTest) -> None:
    before = ledger_rows(bot)
    reply = bot.command("quote imgae variants=2")
    assert reply.payload["response_type"] == "ephemeral"
    assert "Unknown tool imgae. Did you mean image?" in reply.text
    assert ledger_rows(bot) == before


def test_bad_number_says_what_would_work(bot: BotUnderTest) -> None:
    for text, expected in [
        ("quote image variants=-2", "variants must be a positive whole number, not -2"),
        ("quote image variants=two", "variants=two is not a whole number"),
        ("quote image retries=1.5", "retries=1.5 is not a whole number"),
        ("quote video", "needs a length: add duration=<seconds>"),
        ("quote image qualty=high", "Unknown option qualty. Did you mean quality?"),
        ("quote image quality=hihg", "Did you mean high?"),
    ]:
        reply = bot.command(text)
        assert expected in reply.text, reply.text
        assert "Nothing was changed" in reply.text
    assert ledger_rows(bot) == 0


def test_help_and_unknown_subcommand(bot: BotUnderTest) -> None:
    assert "/credits quote <tool>" in bot.command("help").text
    text = bot.command("blance").text
    assert "I don't know /credits blance. Did you mean balance?" in text
    assert "/credits balance [team]" in text


def test_user_in_no_team_is_told_who_can_add_them(bot: BotUnderTest) -> None:
    bot.standin.add_user("U0DAVE", name="dave")
    text = bot.command("quote image", user="U0DAVE").text
    assert "You are not in any team yet" in text and "@U0CAROL" in text


def test_slack_workspace_admin_is_a_bot_admin(bot: BotUnderTest) -> None:
    bot.standin.add_user("U0OWNER", name="owner", is_owner=True)
    text = bot.command("quote image quality=ultra variants=10", user="U0OWNER").text
    assert "Your weekly limit left (admin): no limit" in text
    assert "Within your limits" in text
    assert bot.standin.calls_to("users.info")


def test_replayed_request_has_no_second_effect(bot: BotUnderTest) -> None:
    """A read writes nothing, not even a replay record (changed on purpose: nothing before the ack)."""
    from bot.devtools.signing import sign

    body, _ = bot.command_body("balance")
    headers = sign(bot.signing_secret, body)
    first = bot.post(body, headers)
    second = bot.post(body, headers)
    assert first.status_code == 200 and second.status_code == 200
    assert json.loads(first.text)["blocks"] == json.loads(second.text)["blocks"]
    with bot.db.read() as session:
        assert session.exec(select(func.count()).select_from(ProcessedRequest)).one() == 0
