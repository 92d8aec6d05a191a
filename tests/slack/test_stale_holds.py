"""A stale hold's reminder in Slack: its buttons, the short form (recorded as `/credits done` would), errors."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.jobs.posting import Pacer
from bot.jobs.scheduler import JobRunner
from bot.settings import Settings
from tests.bot_harness import ALICE, BOB, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import balance, tasks

RUN = "run image quality=standard variants=4 banner"  # 16 + 4 expected retries = 20 credits held
DM = "D0ALICE"


def remind(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> dict[str, Any]:
    """Alice runs a task, forgets it for a day, and the schedule reminds her; the reminder message."""
    bot.command(RUN)
    clock.advance(hours=24, minutes=1)
    settings = Settings(
        slack_bot_token=SecretStr(bot.standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-jobs"),
        slack_api_url=bot.standin.base_url,
    )
    deps = Deps(config=config, db=bot.db, clock=clock)
    runner = JobRunner(deps, make_client(settings), use_lease=False, pacer=Pacer(sleep=lambda _: None))
    runner.run_once()
    [reminder] = bot.standin.messages(DM)
    return reminder


def form_for(bot: BotUnderTest, action_id: str, reminder: dict[str, Any], *, user: str = ALICE) -> dict[str, Any]:
    """Click a reminder button; the form it opened."""
    task_id = next(
        e["value"]
        for b in reminder["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    bot.click(action_id, task_id, user=user, message_ts=reminder["ts"], channel=DM)
    view = bot.standin.wait_for_call("views.open")[-1].args["view"]
    assert isinstance(view, dict)
    return view


def number(value: str) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": value}}


def test_done_through_the_form_records_the_cost_and_redraws_the_reminder(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    reminder = remind(bot, config, clock)
    view = form_for(bot, "hold_done", reminder)
    assert view["callback_id"] == "hold_finish"
    assert [b.get("block_id") for b in view["blocks"][1:]] == ["hold_retries", "hold_kept"]
    answer = bot.submit_view(
        "hold_finish", view["private_metadata"], {"hold_retries": number("0"), "hold_kept": number("3")}, user=ALICE
    )
    assert (answer.status_code, answer.text) == (200, "")
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == reminder["ts"]
    assert "done: 16 credits charged, 4 credits released" in json.dumps(update["blocks"])
    assert "hold_done" not in json.dumps(update["blocks"])
    [task] = tasks(bot)
    assert (task.status, task.actual_cost, task.retries_used, task.kept) == ("done", 16, 0, 3)
    assert (balance(bot).held, balance(bot).spent) == (0, 16)


def test_it_cost_more_or_less_asks_for_the_credits_charged(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    view = form_for(bot, "hold_cost", remind(bot, config, clock))
    assert [b.get("block_id") for b in view["blocks"][1:]] == ["hold_cost", "hold_kept"]
    bot.submit_view("hold_finish", view["private_metadata"], {"hold_cost": number("18")}, user=ALICE)
    bot.standin.wait_for_call("chat.update")
    [task] = tasks(bot)
    assert (task.status, task.actual_cost) == ("done", 18)
    assert balance(bot).spent == 18


def test_a_field_error_is_shown_next_to_the_field_and_nothing_is_written(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    view = form_for(bot, "hold_done", remind(bot, config, clock))
    too_many = bot.submit_view(
        "hold_finish", view["private_metadata"], {"hold_retries": number("0"), "hold_kept": number("9")}, user=ALICE
    )
    body = json.loads(too_many.text)
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "hold_kept": "`kept=9` is more than the 4 versions generated; count the successful versions."
    }
    empty = bot.submit_view("hold_finish", view["private_metadata"], {"hold_retries": number("")}, user=ALICE)
    assert json.loads(empty.text)["errors"] == {"hold_retries": "Give the retries as a whole number, e.g. 1."}
    not_hers = bot.submit_view("hold_finish", view["private_metadata"], {"hold_retries": number("1")}, user=BOB)
    assert "only they or an admin can finish it" in json.loads(not_hers.text)["errors"]["hold_retries"]
    [task] = tasks(bot)
    assert (task.status, balance(bot).held) == ("held", 20)
    assert bot.standin.calls_to("chat.update") == []


def test_cancel_releases_the_hold_and_redraws_the_reminder(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    reminder = remind(bot, config, clock)
    task_id = str(tasks(bot)[0].id)
    _, response_url = bot.click("hold_cancel", task_id, user=ALICE, message_ts=reminder["ts"], channel=DM)
    answer = bot.standin.wait_for_response(response_url)[0].payload
    assert answer["replace_original"] is True
    assert "cancelled: 20 credits released" in json.dumps(answer["blocks"])
    assert tasks(bot)[0].status == "cancelled" and balance(bot).held == 0
    _, late = bot.click("hold_done", task_id, user=ALICE, message_ts=reminder["ts"], channel=DM)
    assert "already cancelled" in json.dumps(bot.standin.wait_for_response(late)[0].payload)
    assert bot.standin.calls_to("views.open") == []
