"""Home tabs follow what changes outside a click: expiries, released holds, charges (feed, settling, CSV), adjustments.

The scheduled jobs, the charge feed and the CSV import have no Bolt context; each reaches the one
``refresh_homes`` through ``refresh_team_homes`` with its own dependencies and client. A tick is the
jobs' debounce: each concerned member's tab is published once per tick.
"""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.feed.csv_import import import_charges_file
from bot.feed.webhook import FeedEndpoint
from bot.jobs.posting import Pacer
from bot.jobs.scheduler import JobRunner
from bot.settings import Settings
from bot.slack.outbound.home_tabs import refresh_homes
from bot.wiring import build_process
from tests.bot_harness import ALICE, BOB, CAROL, WORKSPACE, BotUnderTest, app_deps
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, request_message, tasks

TEAM = sorted([ALICE, BOB, CAROL])  # design's members: each sees the team's balance on their tab
RUN = "run image quality=standard variants=4 banner"
CSV_HEADER = (
    "id,occurred_at,team,user_email,tool,quality,variants,duration_seconds,credits,kind,version_kept,project,reference"
)
FEED_SECRET = "whsec_a2V0ZXItbGFicy1ob21lLXJlZnJlc2gtc2VjcmV0"


def job_settings(bot: BotUnderTest, **extra: Any) -> Settings:
    return Settings(
        slack_bot_token=SecretStr(bot.standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-jobs"),
        slack_api_url=bot.standin.base_url,
        **extra,
    )


def tick(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    """One scheduled run, as the clock process makes it."""
    client = make_client(job_settings(bot))
    JobRunner(
        Deps(config=config, db=bot.db, clock=clock), client, use_lease=False, pacer=Pacer(sleep=lambda _: None)
    ).run_once()


def published(bot: BotUnderTest) -> list[str]:
    return sorted(str(c.args["user_id"]) for c in bot.standin.calls_to("views.publish"))


def test_an_expired_request_refreshes_the_requester_and_the_approvers_once(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command(OVER_TASK_LIMIT)
    request_message(bot)
    bot.finish_work()  # the run's own refresh is out of the way
    bot.standin.reset()
    clock.advance(hours=24, minutes=1)
    tick(bot, config, clock)
    assert [a.status for a in approvals(bot)] == ["expired"]
    assert published(bot) == TEAM  # once each, though reminder, escalation and expiry all came due
    assert "Nothing waits for you" in json.dumps(bot.standin.home_view(BOB))
    tick(bot, config, clock)
    assert published(bot) == TEAM  # nothing changed on the next tick: nothing published


def test_a_released_stale_hold_refreshes_the_team(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    bot.command(RUN)
    bot.finish_work()
    bot.standin.reset()
    clock.advance(days=7, hours=1)
    tick(bot, config, clock)
    assert tasks(bot)[0].status == "released"
    assert published(bot) == TEAM
    assert "home_done" not in json.dumps(bot.standin.home_view(ALICE))


def feed_environ(body: bytes) -> dict[str, Any]:
    """A signed ``POST /keter/charges`` as the WSGI server hands it on."""
    msg_id, at = "msg_home1", datetime.fromtimestamp(time.time(), UTC)
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(FEED_SECRET).sign(msg_id, at, body.decode()),
    }


def a_charge(charge_id: str, credits: int, reference: str | None) -> dict[str, Any]:
    return {
        "id": charge_id,
        "occurred_at": "2026-11-24T09:05:00Z",
        "team": "design",
        "user_email": None,
        "tool": "image",
        "quality": "standard",
        "variants": 4,
        "duration_seconds": None,
        "credits": credits,
        "kind": "attempt",
        "version_kept": None,
        "project": None,
        "reference": reference,
    }


def test_a_charge_from_the_feed_and_its_settling_refresh_the_team(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command(RUN)
    bot.finish_work()
    bot.standin.reset()
    assert bot.app is not None
    endpoint = FeedEndpoint(secret=FEED_SECRET, deps=app_deps(bot.app), client=bot.app.client)
    body = json.dumps({"type": "charges.created", "data": {"charges": [a_charge("ch_h1", 18, "KC-1")]}}).encode()
    status, answer = endpoint.handle(feed_environ(body))  # type: ignore[arg-type]
    assert status == "200 OK" and answer["teams"]["design"]["matched"] == 1
    assert published(bot) == []  # debounced: a moment after the answer
    bot.flush_home_refreshes()
    assert published(bot) == TEAM
    bot.standin.reset()
    clock.advance(minutes=61)  # quiet for feed.settle_after_minutes: the task settles at its charges
    tick(bot, config, clock)
    assert (tasks(bot)[0].status, tasks(bot)[0].actual_cost) == ("done", 18)
    assert published(bot) == TEAM


def test_a_csv_import_refreshes_the_team_before_it_exits(
    bot: BotUnderTest, config: CreditsConfig, tmp_path: Path
) -> None:
    path = tmp_path / "charges.csv"
    path.write_text(f"{CSV_HEADER}\nch_c1,2026-11-24T09:05:00Z,design,,image,high,4,,32,attempt,,,\n", encoding="utf-8")
    settings = job_settings(bot, database_url=bot.db.url)  # the command opens its own
    out = io.StringIO()
    process = build_process(settings, config)  # the command's own, as `python -m bot import charges` builds it
    try:
        assert import_charges_file(process.deps, process.client, path=path, skip_bad=False, out=out) == 0, (
            out.getvalue()
        )
    finally:
        process.close()
    assert published(bot) == TEAM


def test_an_admin_adjustment_refreshes_the_team(bot: BotUnderTest) -> None:
    bot.command("balance")
    bot.standin.reset()
    assert "adjust" in bot.command("admin adjust design -40 Keter invoice KL-1182", user=CAROL).text.lower()
    bot.finish_work()
    assert published(bot) == TEAM


def test_a_member_slack_does_not_know_is_one_log_line_once_and_skipped(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """An ``admin role`` id Slack answers ``user_not_found`` to: no traceback, one line, the others refreshed."""
    with caplog.at_level(logging.INFO):
        assert "@U0GHOST is now creator" in bot.command("admin role <@U0GHOST|ghost> creator", user=CAROL).text
        assert "adjust" in bot.command("admin adjust design -40 Keter invoice KL-1182", user=CAROL).text.lower()
        bot.finish_work()  # the adjustment refreshes the team's tabs, the new member's among them
        assert all(bot.standin.home_view(user) for user in TEAM)  # the others were published all the same
        assert bot.app is not None
        deps = app_deps(bot.app)
        refresh_homes(deps, bot.app.client, deps.config, WORKSPACE, ["U0GHOST"])  # a later change: skipped, silent
        bot.flush_home_refreshes()
    assert [r for r in caplog.records if r.exc_info] == []
    lines = [r.getMessage() for r in caplog.records if "U0GHOST" in r.getMessage()]
    assert len(lines) == 1 and "user_not_found" in lines[0], lines
