"""The schedule in a process: in the background of a web process, alone (``clock``), or once (``digest``)."""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from datetime import timedelta
from typing import TextIO

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.errors import SlackApiError

from bot.config import CreditsConfig
from bot.jobs.scheduler import JobRunner, build_scheduler
from bot.jobs.settings import JobSettings
from bot.settings import Settings
from bot.store.db import Database


def make_runner(
    settings: Settings, config: CreditsConfig, jobs: JobSettings, *, db: Database | None = None, use_lease: bool = True
) -> JobRunner:
    """A runner with the production WebClient (it waits out 429s) on the configured database."""
    from bot.app import make_client

    return JobRunner(
        db or Database(settings.database_url),
        config,
        make_client(settings),
        grace=timedelta(hours=jobs.digest_grace_hours),
        use_lease=use_lease,
    )


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


def run_digest_command(runner: JobRunner, *, team: str | None, out: TextIO = sys.stdout) -> int:
    """``digest --due`` (team None) or ``digest --team <name> --now``; prints one line per team, 1 if any failed."""
    try:
        job = runner.digest_job()  # asks auth.test which workspace the token is for
    except SlackApiError as exc:
        print(f"Slack refused the bot token ({exc.response.get('error')}); nothing was posted", file=out)
        return 1
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
