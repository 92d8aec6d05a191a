"""``build_scheduler()``: one APScheduler job every minute: approvals sweep, digests, budget alerts, stale holds.

Correctness lives in the database, not in APScheduler: each digest slot and alert is claimed in
``scheduled_post`` before it is posted, so a restart, a late start, or two schedulers at once post it
once. APScheduler only supplies the tick (its job store is per process, its ``misfire_grace_time``
is not the digest's grace period).

**Once per deployment.** Every process that may run the schedule (each gunicorn worker of each web
dyno, a Socket Mode process, ``python -m bot clock``) starts a scheduler, but a run first takes the
``scheduler_lease`` row, renewed on every tick; only its holder does the work, and when the holder
stops (deploy, crash, worker recycled) another takes over within LEASE_TTL. A lease in the database
was chosen over starting the scheduler in gunicorn's master: the master forks (and re-forks) workers,
and forking a process that runs threads is unsafe; the master is also once per dyno, not once per
deployment. The lease is an optimisation, the claims are the guarantee: even two lease holders (a
clock paused past its lease) would post each slot once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.jobs.approval_sweep import sweep_approvals
from bot.jobs.budget_alerts import AlertJob
from bot.jobs.charge_settling import ChargeFeedJob, ChargeFeedReport
from bot.jobs.digest_posting import DEFAULT_GRACE, DigestJob, Outcome, Workspace
from bot.jobs.posting import Poster, isolated
from bot.jobs.project_alerts import ProjectAlertJob
from bot.jobs.reminders import send_reminders
from bot.jobs.stale_holds import StaleHoldJob, StaleHoldReport
from bot.services.balances.project_budgets import ProjectAlert
from bot.services.digests.budget_alerts import BudgetAlert
from bot.services.workspace import installs as workspaces
from bot.slack.outbound.home_tabs import refresh_team_homes
from bot.slack.outbound.pacing import PacedWebClient, Pacer
from bot.store import digest as store
from bot.store.db import Database

logger = logging.getLogger(__name__)

JOB_ID = "scheduled-tick"
LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(minutes=3)
DEFAULT_INTERVAL_SECONDS = 60


def process_name() -> str:
    """Names this process in claims and the lease: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    """What one run did."""

    digests: list[Outcome] = field(default_factory=list)
    alerts: list[BudgetAlert] = field(default_factory=list)
    project_alerts: list[ProjectAlert] = field(default_factory=list)
    stale_holds: StaleHoldReport | None = None
    charge_feed: ChargeFeedReport | None = None


@dataclass
class JobRunner:
    """One process's scheduled work. ``run_once`` is what the scheduler calls every tick."""

    deps: Deps
    client: WebClient
    grace: timedelta = DEFAULT_GRACE
    pacer: Pacer | None = None  # None: the client's own (the process's shared pacer)
    owner: str = field(default_factory=process_name)
    use_lease: bool = True

    def __post_init__(self) -> None:
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()
        if self.pacer is not None and isinstance(self.client, PacedWebClient):
            self.client.pacer = self.pacer

    @property
    def db(self) -> Database:
        """The process's database."""
        return self.deps.db

    @property
    def config(self) -> CreditsConfig:
        """The credits file (each workspace's effective config is read per run)."""
        return self.deps.config

    @property
    def clock(self) -> Callable[[], datetime]:
        """The process's clock."""
        return self.deps.clock

    @property
    def workspace(self) -> Workspace:
        """The bot token's workspace (``auth.test``, asked once)."""
        if self._workspace is None:
            self._workspace = Workspace.of(self.client)
        return self._workspace

    def digest_job(self) -> DigestJob:
        """The digest job of this runner."""
        poster = Poster(self.db, self.client, self.owner)
        return DigestJob(self.db, self.deps.configs, self.client, poster, self.workspace, self.grace)

    def take_lease(self) -> bool:
        """Hold the deployment's scheduler lease for another LEASE_TTL, unless another process holds it."""
        with self.db.write() as session:
            return store.take_lease(session, name=LEASE_NAME, holder=self.owner, now=self.clock(), ttl=LEASE_TTL)

    def release_lease(self) -> None:
        """Hand the lease on at once (clean shutdown)."""
        with self.db.write() as session:
            store.release_lease(session, name=LEASE_NAME, holder=self.owner, now=self.clock())

    def run_once(self) -> RunReport | None:
        """Sweep approvals, post due digests and alerts; None when another process holds the lease."""
        with self._lock:
            if self.use_lease and not self.take_lease():
                return None
            try:
                return self._run_jobs()
            finally:  # the tick is the debounce: each Home tab it changed is published once, now
                isolated(logger, "home tab refreshes", self.deps.home_refresh.flush)

    def _run_jobs(self) -> RunReport:
        """Every job of one tick, each isolated from the others' failures."""
        uninstalled = workspaces.not_installed(self.db)
        isolated(
            logger, "approvals sweep", lambda: sweep_approvals(self.deps, self.client, self.clock(), skip=uninstalled)
        )
        if uninstalled and self._skip_uninstalled(uninstalled):
            return RunReport()
        isolated(
            logger,
            "approval reminders",
            lambda: send_reminders(self.deps, self.client, self.clock(), owner=self.owner),
        )
        digests = self.digest_job()
        report = RunReport(digests=digests.post_due(self.clock))
        config, poster = digests.effective(), digests.poster
        report.alerts = (
            isolated(
                logger,
                "budget alerts",
                lambda: AlertJob(self.db, self.client, poster, self.workspace).run(config, self.clock),
            )
            or []
        )
        report.project_alerts = (
            isolated(
                logger,
                "project budget alerts",
                lambda: ProjectAlertJob(self.db, self.client, poster, self.workspace).run(config, self.clock),
            )
            or []
        )
        report.stale_holds = isolated(
            logger,
            "stale holds",
            lambda: StaleHoldJob(self.db, self.client, poster, self.workspace).run(config, self.clock),
        )
        report.charge_feed = isolated(
            logger,
            "settling charges",
            lambda: ChargeFeedJob(self.db, self.client, self.workspace.id).run(config, self.clock),
        )
        isolated(logger, "home tab refreshes", lambda: self._refresh_homes(config, report))
        return report

    def _refresh_homes(self, config: CreditsConfig, report: RunReport) -> None:
        """Ask for the Home tabs this tick changed (released holds, settled charges; the sweep asks for expiries)."""
        changed: dict[str, set[str]] = {}
        for task in report.stale_holds.released if report.stale_holds else []:
            changed.setdefault(task.team, set()).add(task.requester)
        for team, people in (report.charge_feed.changed if report.charge_feed else {}).items():
            changed.setdefault(team, set()).update(people)
        if changed:
            refresh_team_homes(self.deps, self.client, config, self.workspace.id, changed)

    def _skip_uninstalled(self, uninstalled: set[str]) -> bool:
        """Whether this run's digests and alerts are for a workspace the app was uninstalled from."""
        try:
            workspace_id = self.workspace.id
        except SlackApiError as exc:  # a revoked token cannot even ask which workspace it was for
            workspace_id, error = "", exc.response.get("error")
            logger.info("digests skipped: the bot token does not work (%s)", error)
            logger.info("budget alerts skipped: the bot token does not work (%s)", error)
            return True
        if workspace_id not in uninstalled:
            return False
        logger.info("digests skipped for workspace %s: the app is not installed there", workspace_id)
        logger.info("budget alerts skipped for workspace %s: the app is not installed there", workspace_id)
        return True

    def tick(self) -> None:
        """The scheduled job: a run whose errors are logged, never raised into APScheduler."""
        try:
            self.run_once()
        except Exception:
            logger.exception("scheduled run failed; the next tick tries again")


def build_scheduler(runner: JobRunner, *, interval_seconds: int = DEFAULT_INTERVAL_SECONDS) -> BackgroundScheduler:
    """A scheduler (not started) with one interval job that runs at once, then every ``interval_seconds``."""
    scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
    scheduler.add_job(
        runner.tick,
        "interval",
        seconds=interval_seconds,
        id=JOB_ID,
        name="sweep approvals, post due digests and budget alerts",
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval_seconds,
        replace_existing=True,
    )
    return scheduler
