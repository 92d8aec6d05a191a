"""Every time a member reads in Slack is a date token: balance, history, requests, stale holds, the Home tab."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.signing import sign
from bot.jobs.posting import Pacer
from bot.jobs.scheduler import JobRunner
from bot.settings import Settings
from tests.bot_harness import BOB, CAROL, WORKSPACE, BotUnderTest
from tests.conftest import Clock
from tests.date_scan import plain_dates, tokens
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, request_message


def tick(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> None:
    settings = Settings(
        slack_bot_token=SecretStr(bot.standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-jobs"),
        slack_api_url=bot.standin.base_url,
    )
    deps = Deps(config=config, db=bot.db, clock=clock)
    JobRunner(deps, make_client(settings), use_lease=False, pacer=Pacer(sleep=lambda _: None)).run_once()


def open_home(bot: BotUnderTest, user: str) -> dict[str, Any]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": WORKSPACE,
            "api_app_id": "A0KETER",
            "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"},
            "event_id": f"EvDates{user}",
        }
    )
    assert bot.post(body, sign(bot.signing_secret, body) | {"content-type": "application/json"}).status_code == 200
    bot.finish_work()
    view = bot.standin.home_view(user)
    assert view is not None
    return view


def test_what_members_read_carries_date_tokens_and_no_plain_date(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command("run image quality=standard variants=4 banner")  # task #1: held, soon stale
    bot.command(OVER_TASK_LIMIT)  # task #2: an approval request
    request = request_message(bot)
    bot.command("done 1 retries=0")
    bot.command("run image quality=standard variants=2 poster")  # task #3: stays held
    read: dict[str, Any] = {
        "balance": bot.command("balance").payload["blocks"],
        "history": bot.command("history").payload["blocks"],
        "requests": bot.command("requests", user=BOB).payload["blocks"],
        "approval request": request["blocks"],
    }
    clock.advance(hours=24, minutes=1)
    tick(bot, config, clock)  # the stale-hold reminder of task #3 (and the request's nudges, then its expiry)
    clock.advance(days=7)
    tick(bot, config, clock)  # task #3's hold is released
    direct = [m["blocks"] for m in bot.standin.messages("D0ALICE") if m.get("blocks")]
    [read["stale-hold reminder"]] = [b for b in direct if "hold_done" in json.dumps(b)]
    [read["stale-hold release"]] = [b for b in direct if "were released" in json.dumps(b)]
    read["Home tab"] = open_home(bot, CAROL)["blocks"]
    read["request expired"] = bot.standin.messages("C0DESIGN")[0]["blocks"]
    for what, blocks in read.items():
        assert plain_dates(blocks) == [], f"{what} shows a plain date"
        assert tokens(blocks), f"{what} carries no date token"
    assert any("|Tue 24 Nov" in t for t in tokens(read["history"]))  # the fallback: the team's timezone
