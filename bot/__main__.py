"""Entry point: ``python -m bot [serve|console|clock|digest|db upgrade|db check]``.

With no subcommand it serves: over HTTP with gunicorn when SLACK_SIGNING_SECRET is set, over Socket
Mode when SLACK_APP_TOKEN is set, and as the local console when no Slack credentials are set at all.
Bad settings or a bad credits file end with one clear message and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, CreditsConfig, load_config
from bot.jobs.settings import JobSettings, load_job_settings
from bot.settings import RunMode, Settings, SettingsError, load_settings

logger = logging.getLogger("bot")
EXIT_BAD_SETTINGS = 2


def _secrets(settings: Settings) -> list[str]:
    return [
        s.get_secret_value()
        for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token)
        if s is not None
    ]


def _serve(settings: Settings, config: CreditsConfig, jobs: JobSettings) -> None:
    from bot.app import create_app
    from bot.jobs.process import make_runner, start_background_schedule
    from bot.store.db import Database
    from bot.web import SlackWsgiApp

    if settings.mode is RunMode.CONSOLE:
        from bot.devtools.console import run_console

        run_console(settings, config)
        return
    setup = Database(settings.database_url)
    if setup.is_sqlite:  # the embedded database upgrades itself; PostgreSQL runs the Procfile's release step
        setup.upgrade()
    setup.dispose()
    if settings.mode is RunMode.SOCKET:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert settings.slack_app_token is not None
        db = Database(settings.database_url)
        app = create_app(settings, config, db)
        if jobs.scheduler_in_web:
            start_background_schedule(make_runner(settings, config, jobs, db=db), jobs)
        logger.info("connecting to Slack over Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
        return
    from bot.server import serve_http

    def build() -> SlackWsgiApp:
        db = Database(settings.database_url)
        app = create_app(settings, config, db)
        if jobs.scheduler_in_web:  # in each worker, after the fork; the lease lets one of them run it
            start_background_schedule(make_runner(settings, config, jobs, db=db), jobs)
        return SlackWsgiApp(app)

    logger.info("serving Slack requests on port %s at /slack/events", settings.port)
    serve_http(build, port=settings.port, workers=settings.web_workers, threads=settings.web_threads)


def _db(action: str, settings: Settings, config: CreditsConfig) -> int:
    from bot.store.db import Database
    from bot.store.ledger import check_running_balances, check_task_holds

    db = Database(settings.database_url)
    if action == "upgrade":
        db.upgrade()
        print("database is up to date")
        return 0
    with db.read() as session:
        balances = check_running_balances(session)
        tasks = check_task_holds(session)
    for problem in balances + tasks:
        print(problem)
    print(
        "every running balance equals the sum of its ledger entries"
        if not balances
        else f"{len(balances)} balance(s) differ from their ledger"
    )
    print("every task's holds and captures add up" if not tasks else f"{len(tasks)} task(s) whose holds do not add up")
    return 1 if balances or tasks else 0


def _jobs(command: str, args: argparse.Namespace, settings: Settings, config: CreditsConfig, jobs: JobSettings) -> int:
    from bot.jobs.process import make_runner, run_clock, run_digest_command
    from bot.store.db import Database

    if settings.slack_bot_token is None:
        print(f"keter-credits: SLACK_BOT_TOKEN: is not set (`{command}` posts to Slack)", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    db = Database(settings.database_url)
    if db.is_sqlite:
        db.upgrade()
    if command == "clock":
        logger.info("running the digest and budget-alert schedule")
        run_clock(make_runner(settings, config, jobs, db=db), jobs)
        return 0
    return run_digest_command(make_runner(settings, config, jobs, db=db, use_lease=False), team=args.team)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="keter-credits Slack bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bot (the default): HTTP, Socket Mode, or the console")
    sub.add_parser("console", help="the local console, even when Slack credentials are set")
    sub.add_parser("clock", help="run only the schedule (digests, budget alerts), e.g. as a Procfile clock: line")
    digest = sub.add_parser("digest", help="post digests now: those due (--due) or one team's (--team NAME --now)")
    which = digest.add_mutually_exclusive_group(required=True)
    which.add_argument("--due", action="store_true", help="post every digest that is due and not yet posted")
    which.add_argument("--team", help="the team whose digest of the last 7 days to post (with --now)")
    digest.add_argument("--now", action="store_true", help="post it at once (required with --team)")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument(
        "action",
        choices=["upgrade", "check"],
        help="upgrade: apply migrations; check: verify balances and tasks' holds",
    )
    args = parser.parse_args(argv)
    if args.command == "digest" and args.team and not args.now:
        parser.error("--team needs --now: `python -m bot digest --team design --now`")
    try:
        settings = load_settings(receives_requests=args.command not in ("clock", "digest", "db"))
        jobs = load_job_settings()
        config = load_config(settings.credits_config)
    except (SettingsError, ConfigError) as exc:
        print(f"keter-credits: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    from bot.logs import configure_logging

    configure_logging(settings.log_level, _secrets(settings))
    if args.command == "db":
        return _db(args.action, settings, config)
    if args.command in ("clock", "digest"):
        return _jobs(args.command, args, settings, config, jobs)
    if args.command == "console":
        settings = settings.model_copy(
            update={"slack_bot_token": None, "slack_signing_secret": None, "slack_app_token": None}
        )
    _serve(settings, config, jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
