"""Escalation at three quarters of a request's lifetime: the team's admins, else the workspace's admins and owners."""

from __future__ import annotations

import json

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.slack_standin import SlackStandIn
from bot.jobs.reminders import send_reminders
from bot.store.db import Database
from tests.bot_harness import ALICE, BOB, CAROL, app_settings, in_process_bot
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, request_message

DANA, OWEN, ROBOT, GONE = "U0DANA", "U0OWEN", "U0ROBOT", "U0GONE"


def no_admin_team(config: CreditsConfig) -> CreditsConfig:
    """The design team without Carol, its only admin in the credits file."""
    changed = config.model_copy(deep=True)
    changed.teams["design"] = changed.teams["design"].model_copy(update={"members": {ALICE: "creator", BOB: "lead"}})
    return changed


def workspace_with_admins(standin: SlackStandIn) -> None:
    standin.add_user(DANA, name="dana", is_admin=True)
    standin.add_user(OWEN, name="owen", is_owner=True)
    standin.add_user(ROBOT, name="robot", is_admin=True, is_bot=True)  # a bot is never escalated to
    standin.add_user(GONE, name="gone", is_admin=True)
    with standin._cond:  # a deactivated admin, as users.list lists them
        standin._workspace.users[GONE]["deleted"] = True


def test_a_team_with_no_admin_escalates_to_the_workspaces_admins_and_owners(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    workspace_with_admins(standin)
    setup = no_admin_team(config)
    bot = in_process_bot(standin, database, setup, clock)
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    deps = Deps(config=setup, db=bot.db, clock=clock)
    client = bot.app.client  # type: ignore[union-attr]
    clock.advance(hours=18, minutes=1)  # three quarters of 24 h: the reminder is superseded, the escalation goes
    [escalation] = send_reminders(deps, client, clock(), owner="a")
    assert escalation.stage == "escalation" and escalation.recipients == (DANA, OWEN)
    assert "approval_approve" in json.dumps(standin.messages(DANA)[-1]["blocks"])
    thread = [c.args["text"] for c in standin.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "the workspace's admins" in thread[-1] and f"<@{DANA}>" in thread[-1]
    assert send_reminders(deps, client, clock(), owner="a") == []  # once per request
    assert len(standin.calls_to("users.list")) == 1
    deps.workspace_admins.everyone(client, "T0STANDIN")
    assert len(standin.calls_to("users.list")) == 1  # cached like users.info
    bot.click("approval_approve", str(message["value"]), user=DANA, message_ts=str(message["ts"]))
    bot.finish_work()
    assert [(a.status, a.decided_by) for a in approvals(bot)] == [("approved", DANA)]


def test_a_team_with_an_admin_still_escalates_to_its_own(
    standin: SlackStandIn, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    workspace_with_admins(standin)
    bot = in_process_bot(standin, database, config, clock)
    bot.command(OVER_TASK_LIMIT)
    request_message(bot)
    clock.advance(hours=18, minutes=1)
    [escalation] = send_reminders(Deps(config=config, db=bot.db, clock=clock), bot.app.client, clock(), owner="a")  # type: ignore[union-attr]
    assert escalation.recipients == (CAROL,)
    assert standin.calls_to("users.list") == []
    bot.finish_work()


def test_the_stand_in_pages_users_list_as_slack_does(standin: SlackStandIn, database: Database) -> None:
    workspace_with_admins(standin)
    client = make_client(app_settings(standin, "not-used"))
    pages = [dict(page.data) for page in client.users_list(limit=2)]  # slack_sdk moves one response on
    assert len(pages) >= 4 and all(len(p["members"]) <= 2 for p in pages)
    assert [bool(p["response_metadata"]["next_cursor"]) for p in pages][-2:] == [True, False]
    listed = [m for p in pages for m in p["members"]]
    assert {ALICE, BOB, CAROL, DANA, OWEN, ROBOT, GONE} <= {m["id"] for m in listed}
    assert len(listed) == len({m["id"] for m in listed})  # each user once across the pages
    assert [m["id"] for m in listed if m["deleted"]] == [GONE]
