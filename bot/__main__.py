"""Entry point: ``python -m bot [serve|console|clock|digest|db upgrade|db check|import charges FILE.csv]``.

With no subcommand it serves: over HTTP with gunicorn when SLACK_SIGNING_SECRET is set, over Socket
Mode when SLACK_APP_TOKEN is set, and as the local console when no Slack credentials are set at all.
Bad settings or a bad credits file end with one clear message and exit status 2.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.credits_file import ConfigError, CreditsConfig, load_config
from bot.settings import JobSettings, RunMode, Settings, SettingsError, load_job_settings, load_settings

if TYPE_CHECKING:
    from bot.web import SlackWsgiApp

logger = logging.getLogger("bot")
EXIT_BAD_SETTINGS = 2


def _secrets(settings: Settings) -> list[str]:
    return [
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.keter_webhook_secret,
        )
        if s is not None
    ]


def _serve(settings: Settings, config: CreditsConfig, jobs: JobSettings) -> None:
    from bot.jobs.process import start_background_schedule
    from bot.store.db import Database
    from bot.wiring import Process, build_process

    if settings.mode is RunMode.CONSOLE:
        from bot.devtools.console import run_console

        run_console(settings, config)
        return
    setup = Database(settings.database_url)
    if setup.is_sqlite:  # the embedded database upgrades itself; PostgreSQL runs the Procfile's release step
        setup.upgrade()
    setup.dispose()
    from bot.server import serve_http

    def start(process: Process) -> None:
        atexit.register(process.close)  # pending Home-tab refreshes run, then the database is let go
        if jobs.scheduler_in_web:  # in each worker, after the fork; the lease lets one of them run it
            start_background_schedule(process.runner(jobs), jobs)

    if settings.mode is RunMode.SOCKET:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert settings.slack_app_token is not None
        app_token = settings.slack_app_token.get_secret_value()
        if settings.keter_webhook_secret is None:
            process = build_process(settings, config)
            app = process.app()
            start(process)
            logger.info("connecting to Slack over Socket Mode")
            SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
            return

        def socket_and_feed() -> SlackWsgiApp:
            # One gunicorn worker: it holds the one Socket Mode connection and serves only health and the feed.
            process = build_process(settings, config)
            start(process)
            SocketModeHandler(process.app(), app_token).connect()  # type: ignore[no-untyped-call]
            return process.web(slack_events=False)

        logger.info("Socket Mode, with the charge feed on port %s at /keter/charges", settings.port)
        serve_http(socket_and_feed, port=settings.port, workers=1, threads=settings.web_threads)
        return

    def build() -> SlackWsgiApp:
        process = build_process(settings, config)
        web = process.web()
        start(process)
        return web

    logger.info("serving Slack requests on port %s at /slack/events", settings.port)
    serve_http(build, port=settings.port, workers=settings.web_workers, threads=settings.web_threads)


def _import_charges(args: argparse.Namespace, settings: Settings, config: CreditsConfig) -> int:
    """``import charges FILE.csv [--skip-bad]``: the same path as the feed; prints what it did per team."""
    from bot.feed.csv_import import import_charges_file
    from bot.wiring import build_process

    if settings.slack_bot_token is None:
        print("keter-credits: SLACK_BOT_TOKEN: is not set (the import records charges for its workspace)")
        return EXIT_BAD_SETTINGS
    process = build_process(settings, config)
    try:
        if process.db.is_sqlite:
            process.db.upgrade()
        return import_charges_file(process.deps, process.client, path=args.file, skip_bad=args.skip_bad)
    finally:
        process.close()


def _db(action: str, settings: Settings, config: CreditsConfig) -> int:
    from bot.store.db import Database
    from bot.store.ledger_checks import check_running_balances, check_task_holds
    from bot.store.rollup_checks import check_rollups

    db = Database(settings.database_url)
    if action == "upgrade":
        db.upgrade()
        print("database is up to date")
        return 0
    with db.read() as session:
        balances = check_running_balances(session)
        tasks = check_task_holds(session)
        derived = check_rollups(session)
    for problem in balances + tasks + derived:
        print(problem)
    print(
        "every running balance equals the sum of its ledger entries"
        if not balances
        else f"{len(balances)} balance(s) differ from their ledger"
    )
    print("every task's holds and captures add up" if not tasks else f"{len(tasks)} task(s) whose holds do not add up")
    print(
        "every rollup (member usage, finished tasks) equals its source rows"
        if not derived
        else f"{len(derived)} rollup row(s) differ from their source rows"
    )
    return 1 if balances or tasks or derived else 0


def _jobs(command: str, args: argparse.Namespace, settings: Settings, config: CreditsConfig, jobs: JobSettings) -> int:
    from bot.jobs.process import run_clock, run_digest_command
    from bot.wiring import build_process

    if settings.slack_bot_token is None:
        print(f"keter-credits: SLACK_BOT_TOKEN: is not set (`{command}` posts to Slack)", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    process = build_process(settings, config)
    if process.db.is_sqlite:
        process.db.upgrade()
    try:
        if command == "clock":
            logger.info("running the digest and budget-alert schedule")
            run_clock(process.runner(jobs), jobs)
            return 0
        return run_digest_command(process.runner(jobs, use_lease=False), team=args.team)
    finally:
        process.close()


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
    imports = sub.add_parser("import", help="import Keter Labs' charges from a CSV file (README: the columns)")
    imports.add_argument("what", choices=["charges"], help="what the file holds")
    imports.add_argument("file", type=Path, help="the CSV file")
    imports.add_argument("--skip-bad", action="store_true", help="import the good lines even when some are bad")
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
    if args.command == "import":
        return _import_charges(args, settings, config)
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
