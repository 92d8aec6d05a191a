"""Issue 10 item 7: after ``app_uninstalled`` / ``tokens_revoked`` the workspace's scheduled work stops
(data kept), and it resumes when a signed request arrives from it with a working token."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

import pytest
from pydantic import SecretStr

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.signing import sign
from bot.jobs.scheduler import JobRunner
from bot.services.workspace import installs as workspaces
from bot.settings import Settings
from bot.slack.outbound.pacing import Pacer
from tests.bot_harness import WORKSPACE, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message

SLACK_METHODS_A_RUN_MAY_CALL = ("users.info", "chat.postMessage", "chat.update", "chat.getPermalink", "auth.test")


def event(bot: BotUnderTest, kind: str, **fields: object) -> int:
    """A signed Events API delivery of ``kind`` from the workspace."""
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": WORKSPACE,
            "api_app_id": "A0KETER",
            "event": {"type": kind, **fields},
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": 1,
        }
    )
    return bot.post(body, sign(bot.signing_secret, body) | {"Content-Type": "application/json"}).status_code


def runner(bot: BotUnderTest, config: CreditsConfig, clock: Clock) -> JobRunner:
    """The scheduler's runner as production builds it (one run per call, no lease)."""
    settings = Settings(
        slack_bot_token=SecretStr(bot.standin.bot_token),
        slack_signing_secret=SecretStr("not-used-by-jobs"),
        slack_api_url=bot.standin.base_url,
    )
    return JobRunner(
        Deps(config=config, db=bot.db, clock=clock), make_client(settings), use_lease=False, pacer=Pacer(0.0)
    )


def calls_since(bot: BotUnderTest, count: int) -> list[str]:
    return [c.method for c in bot.standin.calls[count:] if c.method in SLACK_METHODS_A_RUN_MAY_CALL]


@pytest.mark.parametrize(
    ("kind", "fields"),
    [("app_uninstalled", {}), ("tokens_revoked", {"tokens": {"bot": ["U0BOT"]}})],
    ids=["uninstalled", "revoked"],
)
def test_an_uninstalled_workspace_is_left_alone_until_it_is_back(
    bot: BotUnderTest,
    config: CreditsConfig,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    fields: dict[str, object],
) -> None:
    bot.command(OVER_TASK_LIMIT)
    message = request_message(bot)
    jobs = runner(bot, config, clock)
    jobs.run_once()  # learns the workspace (auth.test) while the token works
    assert event(bot, kind, **fields) == 200
    bot.finish_work()
    assert workspaces.not_installed(bot.db) == {WORKSPACE}
    clock.advance(hours=30)  # the request is long past its expiry, and a digest slot has passed
    before = len(bot.standin.calls)
    caplog.set_level(logging.INFO)
    jobs.run_once()
    assert calls_since(bot, before) == []  # no users.info, chat.postMessage, chat.update for it
    assert [a.status for a in approvals(bot)] == ["pending"] and balance(bot).held == 80  # data kept, untouched
    skipped = [r.getMessage() for r in caplog.records if "not installed" in r.getMessage()]
    assert any("approvals sweep skips workspace T0STANDIN" in line for line in skipped)
    assert any(line.startswith("digests skipped for workspace T0STANDIN") for line in skipped)
    assert any(line.startswith("budget alerts skipped for workspace T0STANDIN") for line in skipped)

    bot.standin.fail_next("auth.test", "token_revoked", status=200)
    bot.command("balance")  # a request from it while the token still fails: still uninstalled
    assert workspaces.not_installed(bot.db) == {WORKSPACE}

    bot.command("balance")  # reinstalled: the token works again
    assert workspaces.not_installed(bot.db) == set()
    jobs.run_once()
    assert [a.status for a in approvals(bot)] == ["expired"] and balance(bot).held == 0
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == message["ts"] and "Expired" in str(update["blocks"])


def test_revoking_only_user_tokens_changes_nothing(bot: BotUnderTest) -> None:
    assert event(bot, "tokens_revoked", tokens={"oauth": ["U0ALICE"]}) == 200
    bot.finish_work()
    assert workspaces.not_installed(bot.db) == set()


def test_uninstall_state_is_kept_per_workspace(bot: BotUnderTest, clock: Clock) -> None:
    now: datetime = clock()
    assert workspaces.mark_uninstalled(bot.db, workspace_id="T0OTHER", reason="app_uninstalled", now=now)
    assert not workspaces.mark_uninstalled(bot.db, workspace_id="T0OTHER", reason="tokens_revoked", now=now)
    assert workspaces.not_installed(bot.db) == {"T0OTHER"}
    assert workspaces.mark_installed(bot.db, workspace_id="T0OTHER", now=now)
    assert not workspaces.mark_installed(bot.db, workspace_id="T0OTHER", now=now)
    assert workspaces.not_installed(bot.db) == set()
