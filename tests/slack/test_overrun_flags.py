"""Issue 24 over signed requests: an overrun is flagged whoever tells its cost (``done``, the feed, the tick),
against the limits in force, and an approver sees what Keter Labs already charged a pending task."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.feed.webhook import FeedEndpoint
from bot.jobs.posting import Pacer
from bot.jobs.scheduler import JobRunner
from bot.settings import Settings
from tests.bot_harness import BOB, CAROL, DESIGN_CHANNEL, BotUnderTest, app_deps
from tests.conftest import Clock
from tests.slack.tasks_helpers import request_message, tasks, thread_replies

FEED_SECRET = "whsec_a2V0ZXItbGFicy1vdmVycnVuLWZsYWctc2VjcmV0"
OVER_TASK_LIMIT = "run image variants=12 hero set"  # 48 + 12 expected retries = 60, over a creator's 50


def feed(bot: BotUnderTest, *charges: tuple[str, int, str]) -> None:
    """Keter Labs' signed ``POST /keter/charges``: (id, credits, reference) each."""
    assert bot.app is not None
    endpoint = FeedEndpoint(secret=FEED_SECRET, deps=app_deps(bot.app), client=bot.app.client)
    data = [
        {
            "id": charge_id,
            "occurred_at": "2026-11-24T09:05:00Z",
            "team": "design",
            "user_email": None,
            "tool": "image",
            "quality": "standard",
            "variants": 12,
            "duration_seconds": None,
            "credits": credits,
            "kind": "attempt",
            "version_kept": None,
            "project": None,
            "reference": reference,
        }
        for charge_id, credits, reference in charges
    ]
    body = json.dumps({"type": "charges.created", "data": {"charges": data}}).encode()
    msg_id, at = f"msg_{charges[0][0]}", datetime.fromtimestamp(time.time(), UTC)
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(FEED_SECRET).sign(msg_id, at, body.decode()),
    }
    status, _ = endpoint.handle(environ)  # type: ignore[arg-type]
    assert status == "200 OK"


def tick(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    """One scheduled run, as the clock process makes it."""
    settings = Settings(
        slack_bot_token=SecretStr(bot.standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-jobs"),
        slack_api_url=bot.standin.base_url,
    )
    JobRunner(
        Deps(config=config, db=bot.db, clock=clock),
        make_client(settings),
        use_lease=False,
        pacer=Pacer(sleep=lambda _: None),
    ).run_once()


def flags(bot: BotUnderTest) -> list[dict[str, Any]]:
    return [
        c.args
        for c in bot.standin.calls_to("chat.postMessage")
        if c.args.get("channel") == DESIGN_CHANNEL and "against a quote" in str(c.args.get("text"))
    ]


def approved_over_limit(bot: BotUnderTest) -> dict[str, Any]:
    """Alice's task #1 (60 credits, over her per-task limit), approved by Bob; its request message."""
    assert "Task #1 needs approval" in bot.command(OVER_TASK_LIMIT).text
    message = request_message(bot)
    bot.click("approval_approve", message["value"], user=BOB, message_ts=message["ts"])
    bot.standin.wait_for_call("chat.update")
    return message


def test_done_on_a_task_the_feed_charged_above_its_approval_flags_it_in_the_thread(bot: BotUnderTest) -> None:
    message = approved_over_limit(bot)
    feed(bot, ("ch_o1", 200, "KC-1"), ("ch_o2", 120, "KC-1"))  # 320 against a hold of 60
    done = bot.command("done 1 kept=2")
    assert "Task #1 done: 320 credits charged" in done.text
    assert "260 credits above what was reserved" in done.text
    [flag] = flags(bot)
    assert flag["thread_ts"] == message["ts"]
    assert "<@U0ALICE>'s task #1 cost 320 credits against a quote of 60 credits" in flag["text"]
    assert "over the per-task limit of 50 by 270" in flag["text"]
    assert "over the weekly limit of 300 by 20" in flag["text"]
    assert "260 above the 60 credits approved" in flag["text"]
    assert "overrun flagged" in str(bot.command("admin audit", user=CAROL).payload)


def test_a_task_the_tick_settles_above_its_approval_is_flagged_once(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    message = approved_over_limit(bot)
    feed(bot, ("ch_t1", 100, "KC-1"))
    clock.advance(minutes=61)  # quiet for feed.settle_after_minutes: the task settles at its charges
    tick(bot, config, clock)
    assert (tasks(bot)[0].status, tasks(bot)[0].actual_cost) == ("done", 100)
    [flag] = flags(bot)
    assert flag["thread_ts"] == message["ts"]
    assert "task #1 cost 100 credits against a quote of 60 credits" in flag["text"]
    assert "over the per-task limit of 50 by 50" in flag["text"] and "40 above the 60 credits approved" in flag["text"]
    tick(bot, config, clock)
    assert len(flags(bot)) == 1


def test_a_charge_within_the_hold_is_not_flagged(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    approved_over_limit(bot)
    feed(bot, ("ch_w1", 55, "KC-1"))
    assert "Task #1 done: 55 credits charged" in bot.command("done 1 kept=2").text
    assert flags(bot) == []


def raise_limits(bot: BotUnderTest, run: str) -> None:
    """Alice asks for the limit raise her ``run`` needs (the quote's button); Carol approves it until Wed 2 Dec."""
    quote = bot.command(f"quote {run}")
    [value] = [
        e["value"]
        for b in quote.payload["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "ask_limit_raise"
    ]
    _, response_url = bot.click("ask_limit_raise", value, user="U0ALICE")
    bot.standin.wait_for_response(response_url)
    message = request_message(bot)
    bot.click("approval_approve", message["value"], user=CAROL, message_ts=str(message["ts"]))
    opened = bot.standin.wait_for_call("views.open")[0].args["view"]
    bot.submit_view(
        "raise_until",
        opened["private_metadata"],
        {"raise_until_input": {"until": {"type": "datepicker", "selected_date": "2026-12-02"}}},
        user=CAROL,
    )
    bot.standin.wait_for_call("chat.update")
    assert "Per task: 80 credits" in bot.command("limits").text


def test_the_flag_names_the_raised_limit_in_force_not_the_roles(bot: BotUnderTest) -> None:
    raise_limits(bot, "image quality=ultra variants=4")  # 64 + 16 expected retries = 80: per task 50 -> 80
    assert "Task #1 reserved" in bot.command("run image quality=ultra variants=4").text
    done = bot.command("done 1 retries=1 kept=1")  # 64 × 2 attempts = 128
    assert "Task #1 done: 128 credits charged" in done.text
    [flag] = flags(bot)
    assert "over the per-task limit of 80 by 48 credits" in flag["text"]
    assert "limit of 50" not in flag["text"]


def test_a_charged_task_is_flagged_against_the_raised_limit_too(bot: BotUnderTest) -> None:
    raise_limits(bot, "image quality=ultra variants=4")
    bot.command("run image quality=ultra variants=4")
    feed(bot, ("ch_r1", 100, "KC-1"))
    assert "Task #1 done: 100 credits charged" in bot.command("done 1 kept=1").text
    [flag] = flags(bot)
    assert "over the per-task limit of 80 by 20 credits" in flag["text"]


def test_a_pending_task_the_feed_charged_beyond_its_hold_is_shown_to_its_approver(bot: BotUnderTest) -> None:
    assert "Task #1 needs approval" in bot.command(OVER_TASK_LIMIT).text  # holds 60
    message = request_message(bot)
    feed(bot, ("ch_p1", 64, "KC-1"), ("ch_p2", 36, "KC-1"))  # 100, before anyone decided
    said = "Keter Labs already charged 100 credits for it (its hold was 60)"
    [update] = bot.standin.wait_for_call("chat.update")
    assert update.args["ts"] == message["ts"] and said in str(update.args["blocks"])
    assert "approval_approve" in str(update.args["blocks"])  # still to decide
    [note] = [r for r in thread_replies(bot) if said in r["text"]]
    assert note["thread_ts"] == message["ts"]
    assert said in str(bot.command("requests", user=BOB).payload)
    mine = bot.command("tasks").text
    assert "0 credits waiting for approval" not in mine and said in mine
    feed(bot, ("ch_p3", 10, "KC-1"))  # already beyond its hold: the thread is not told again
    assert len([r for r in thread_replies(bot) if "already charged" in r["text"]]) == 1
