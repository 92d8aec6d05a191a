"""``python -m bot digest`` and ``python -m bot clock`` as real processes, posting to the stand-in."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.credits_file import WEEKDAYS, default_config_text, load_config
from bot.devtools.slack_standin import SlackStandIn
from bot.store.db import Database
from bot.store.tables.posts import SchedulerLease
from tests.e2e.conftest import DESIGN_CHANNEL, WORKSPACE
from tests.processes import REPO, bot_environment, free_port, run_bot
from tests.services.production import finish, number_of, run_for


def environment(standin: SlackStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_SIGNING_SECRET": "jobs-do-not-verify-requests",
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        **extra,
    }


def config_due_now(tmp_path: Path) -> Path:
    """The default credits file with team design's slot two minutes ago (Berlin time)."""
    slot = (datetime.now(UTC) - timedelta(minutes=2)).astimezone(ZoneInfo("Europe/Berlin"))
    text = default_config_text().replace('digest: "mon 09:00"', f'digest: "{WEEKDAYS[slot.weekday()]} {slot:%H:%M}"')
    path = tmp_path / "credits.yml"
    path.write_text(text)
    return path


def digests(standin: SlackStandIn) -> list[dict[str, object]]:
    return [m for m in standin.messages(DESIGN_CHANNEL) if "metadata" in m]


def test_digest_now_posts_the_last_seven_days_with_its_chart(standin: SlackStandIn, tmp_path: Path) -> None:
    env = environment(standin, tmp_path)
    db = Database(env["DATABASE_URL"])
    db.upgrade()
    config, at = load_config(None), datetime.now(UTC) - timedelta(days=1)
    for key, cost in (("a", 64), ("b", 32)):  # `/credits run` then `/credits done`, as the bot does them
        number = number_of(run_for(db, config, workspace_id=WORKSPACE, credits=cost, note=key, now=at))
        finish(db, config, workspace_id=WORKSPACE, number=number, cost=cost, now=at)
    db.dispose()
    result = run_bot("digest", "--team", "design", "--now", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("design: now:") and ": posted (ts " in result.stdout
    [digest] = digests(standin)
    assert "96 credits" in str(digest["blocks"])
    assert "Preview" not in str(digest["blocks"]) and "posted on request" in str(digest["blocks"])
    [png] = standin.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_digest_due_posts_what_is_due_once(standin: SlackStandIn, tmp_path: Path) -> None:
    env = environment(standin, tmp_path, CREDITS_CONFIG=str(config_due_now(tmp_path)))
    first = run_bot("digest", "--due", **env)
    assert first.returncode == 0, first.stderr
    assert ": posted (ts " in first.stdout
    again = run_bot("digest", "--due", **env)
    assert again.returncode == 0, again.stderr
    assert "no digest is due that has not been posted" in again.stdout
    assert len(digests(standin)) == 1


def test_digest_command_mistakes_are_one_line(standin: SlackStandIn, tmp_path: Path) -> None:
    env = environment(standin, tmp_path)
    no_now = run_bot("digest", "--team", "design", **env)
    assert no_now.returncode == 2 and "--team needs --now" in no_now.stderr
    unknown = run_bot("digest", "--team", "nosuch", "--now", **env)
    assert unknown.returncode == 2 and "unknown team 'nosuch'" in unknown.stdout
    no_token = run_bot("clock", DATABASE_URL=env["DATABASE_URL"])
    assert no_token.returncode == 2 and "SLACK_BOT_TOKEN: is not set" in no_token.stderr
    bad_grace = run_bot("digest", "--due", DIGEST_GRACE_HOURS="soon", **env)
    assert bad_grace.returncode == 2 and bad_grace.stderr.startswith("keter-credits: DIGEST_GRACE_HOURS:")
    wrong_token = run_bot("digest", "--due", **(env | {"SLACK_BOT_TOKEN": "xoxb-revoked"}))
    assert wrong_token.returncode == 1 and "Slack refused the bot token (invalid_auth)" in wrong_token.stdout
    assert "Traceback" not in wrong_token.stderr
    assert standin.calls_to("chat.postMessage") == []


def test_the_clock_posts_a_due_digest_at_start_up_and_stops_on_sigterm(standin: SlackStandIn, tmp_path: Path) -> None:
    env = environment(standin, tmp_path, CREDITS_CONFIG=str(config_due_now(tmp_path)))
    log_path = tmp_path / "clock.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "clock"],
            env=bot_environment(**env),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            standin.wait_for_call("chat.postMessage", timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
    assert code == 0, log_path.read_text()
    assert len(digests(standin)) == 1
    assert "Traceback" not in log_path.read_text()
    db = Database(env["DATABASE_URL"])
    with db.read() as session:
        lease = session.exec(select(SchedulerLease)).one()
    db.dispose()
    assert lease.expires_at <= datetime.now(UTC)  # handed on at shutdown


def test_the_web_process_runs_the_schedule_once_for_all_its_workers(standin: SlackStandIn, tmp_path: Path) -> None:
    env = environment(
        standin, tmp_path, CREDITS_CONFIG=str(config_due_now(tmp_path)), PORT=str(free_port()), WEB_WORKERS="2"
    )
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], env=bot_environment(**env), cwd=REPO, stdout=log, stderr=log
        )
        try:
            standin.wait_for_call("chat.postMessage", timeout=60)
            db = Database(env["DATABASE_URL"])
            with db.read() as session:  # the post came from the worker holding the lease
                lease = session.exec(select(SchedulerLease)).one()
            db.dispose()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert len(digests(standin)) == 1
    assert lease.holder.split(":")[1] != str(process.pid)  # a worker, not gunicorn's master
    assert "Traceback" not in log_path.read_text()
