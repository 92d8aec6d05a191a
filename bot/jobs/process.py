"""The schedule in a process: in the background of a web process, alone (``clock``), or once (``digest``)."""

from __future__ import annotations

import atexit
import logging
import signal
import sys
import threading
from typing import TextIO

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.errors import SlackApiError

from bot.jobs.scheduler import JobRunner, build_scheduler
from bot.settings import JobSettings
from bot.store import overrides


def start_background_schedule(runner: JobRunner, jobs: JobSettings) -> BackgroundScheduler:
    """Run the schedule in this (web) process's background until it exits; the lease keeps it once per deployment."""
    scheduler = build_scheduler(runner, interval_seconds=jobs.scheduler_interval_seconds)
    scheduler.start()

    def stop() -> None:
        scheduler.shutdown(wait=False)
        runner.release_lease()

    atexit.register(stop)
    return scheduler


def run_clock(runner: JobRunner, jobs: JobSettings, stop: threading.Event | None = None) -> None:
    """``python -m bot clock``: run the schedule in the foreground until SIGTERM or Ctrl-C."""
    done = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
    scheduler = build_scheduler(runner, interval_seconds=jobs.scheduler_interval_seconds)
    scheduler.start()
    try:
        done.wait()
    finally:
        scheduler.shutdown(wait=True)
        runner.release_lease()


def _known_teams(runner: JobRunner) -> set[str]:
    """Teams in the credits file or created by command in any workspace: checkable before asking Slack."""
    with runner.db.read() as session:
        created = {row.team for row in overrides.team_settings_of_every_workspace(session)}
    return set(runner.config.teams) | created


def run_digest_command(runner: JobRunner, *, team: str | None, out: TextIO | None = None) -> int:
    """``digest --due`` (team None) or ``digest --team <name> --now``; prints one line per team, 1 if any failed.

    An unknown team is named before Slack is contacted; Slack unreachable is one line and exit 1.
    """
    out = out or sys.stdout  # read at call time, so a redirected stdout is honoured
    if team is not None and team not in _known_teams(runner):
        print(f"unknown team '{team}' (teams: {', '.join(sorted(_known_teams(runner))) or 'none'})", file=out)
        return 2
    # slack_sdk logs each failed attempt (and its retry) at ERROR: this command prints its own one line
    logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)
    try:
        return _post_digests(runner, team, out)
    except SlackApiError as exc:
        print(f"Slack refused the bot token ({exc.response.get('error')}); nothing was posted", file=out)
        return 1
    except OSError as exc:  # URLError, connection refused, DNS, TLS: slack_sdk lets them through
        reason = getattr(exc, "reason", None) or exc.strerror or exc.__class__.__name__
        print(f"cannot reach Slack at {runner.client.base_url} ({reason}); nothing was posted", file=out)
        return 1


def _post_digests(runner: JobRunner, team: str | None, out: TextIO) -> int:
    job = runner.digest_job()  # asks auth.test which workspace the token is for
    if team is None:
        outcomes = job.post_due(runner.clock)
        if not outcomes:
            print("no digest is due that has not been posted", file=out)
    else:
        config = job.effective()
        if team not in config.teams:
            print(f"unknown team '{team}' (teams: {', '.join(config.teams) or 'none'})", file=out)
            return 2
        outcomes = [job.post_now(team, runner.clock)]
    for outcome in outcomes:
        where = f" (ts {outcome.message_ts})" if outcome.message_ts else ""
        print(f"{outcome.team}: {outcome.slot_key}: {outcome.state}{where}", file=out)
    return 1 if any(o.state in ("failed", "error", "posting") for o in outcomes) else 0
