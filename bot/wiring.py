"""The one composition root: what a process builds once and hands to every edge.

``build_process`` makes the ``Deps`` (database, clock, config caches, admin directory, Home-tab
debouncer) and the Web API client once; the Bolt app, the charge feed's endpoint, the WSGI edge, the
CSV import and the job runner are all built from that one ``Process``, so a web worker holds one
effective-config cache and one debouncer whoever asks (a click, a charge, the scheduler's tick).
``close()`` stops the debouncer (its pending refreshes run first) and disposes of the database.

Only entry points import this module (``bot.__main__``, the console, tests); nothing below it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_bolt import App

from bot.app import SlackCheck, create_app, make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps, utc_now
from bot.feed.webhook import FeedEndpoint
from bot.jobs.digest_posting import DEFAULT_GRACE
from bot.jobs.scheduler import JobRunner
from bot.settings import JobSettings, Settings
from bot.slack.outbound.pacing import PacedWebClient
from bot.store.db import Database
from bot.web import SlackWsgiApp


@dataclass
class Process:
    """One process's dependencies and the edges built on them (each edge built at most once)."""

    settings: Settings
    deps: Deps
    client: PacedWebClient
    _app: App | None = field(default=None, init=False)
    _feed: FeedEndpoint | None = field(default=None, init=False)
    _slack_check: SlackCheck | None = field(default=None, init=False)

    @property
    def db(self) -> Database:
        """The process's database."""
        return self.deps.db

    def app(self) -> App:
        """The Bolt app (built on first use; Slack is asked nothing then: ``slack_check`` asks ``auth.test``)."""
        if self._app is None:
            self._app = create_app(self.settings, self.deps, client=self.client)
            self.slack_check().start()
        return self._app

    def slack_check(self) -> SlackCheck:
        """Whether Slack has answered the token's ``auth.test`` (asked in the background once started)."""
        if self._slack_check is None:
            self._slack_check = SlackCheck(self.client)
        return self._slack_check

    def not_ready(self) -> str | None:
        """Why this process cannot do its work yet (``GET /readyz``), or None when it can."""
        try:
            self.db.ping()
        except Exception as exc:  # any failure is the reason, in one line
            return f"database: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        check = self.slack_check()
        return None if check.ready else f"slack: {check.reason}"

    def feed(self) -> FeedEndpoint | None:
        """The charge feed's handler, or None when KETER_WEBHOOK_SECRET is unset (its path is then a 404)."""
        secret = self.settings.keter_webhook_secret
        if secret is None:
            return None
        if self._feed is None:
            self._feed = FeedEndpoint(secret=secret.get_secret_value(), deps=self.deps, client=self.client)
        return self._feed

    def web(self, *, slack_events: bool = True) -> SlackWsgiApp:
        """The WSGI edge: Bolt's events (unless Socket Mode carries them), the feed and health."""
        return SlackWsgiApp(
            self.app(), self._signing_secret(), feed=self.feed(), slack_events=slack_events, not_ready=self.not_ready
        )

    def runner(self, jobs: JobSettings | None = None, *, use_lease: bool = True) -> JobRunner:
        """The scheduled work of this process, on its deps and client."""
        grace = timedelta(hours=jobs.digest_grace_hours) if jobs is not None else DEFAULT_GRACE
        return JobRunner(self.deps, self.client, grace=grace, use_lease=use_lease)

    def close(self) -> None:
        """Run pending Home-tab refreshes, take no more, and let go of the database."""
        if self._slack_check is not None:
            self._slack_check.stop()
        self.deps.close()
        self.deps.db.dispose()

    def _signing_secret(self) -> str:
        secret = self.settings.slack_signing_secret
        return secret.get_secret_value() if secret is not None else ""


def build_process(
    settings: Settings,
    config: CreditsConfig,
    *,
    db: Database | None = None,
    client: PacedWebClient | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Process:
    """The process's one ``Deps`` and client (a database and client may be given: the console, tests)."""
    database = db if db is not None else Database(settings.database_url)
    deps = Deps(config=config, db=database, clock=clock)
    return Process(settings=settings, deps=deps, client=client if client is not None else make_client(settings))
