"""The jobs against a real database (SQLite and PostgreSQL) and the checked Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from pydantic import SecretStr
from sqlmodel import select

from bot.app import make_client
from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.devtools.slack_standin import SlackStandIn
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.ledger import EntryKind
from bot.jobs.posting import Pacer
from bot.jobs.scheduler import JobRunner
from bot.services.balances.team_balances import open_team_cycle
from bot.settings import Settings
from bot.store import ledger_reads, ledger_writes
from bot.store.db import Database
from bot.store.tables.posts import ScheduledPost
from tests.conftest import Clock
from tests.e2e.conftest import DESIGN_CHANNEL, WORKSPACE
from tests.e2e.conftest import standin as standin  # the stand-in that checks every call at teardown

# Monday 30 Nov 2026, 09:00 in Berlin (CET): the default config's digest slot for team design.
SLOT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class TravellingClock(Clock):
    """The test's clock, with time-machine moving the process's wall clock along with it.

    The stand-in stamps messages with ``time.time()``, as Slack stamps them with its own clock; moving
    both together keeps message timestamps and the jobs' ``now`` in step (history lookups compare them).
    """

    def __init__(self, now: datetime, traveller: time_machine.Coordinates) -> None:
        self._traveller = traveller
        super().__init__(now)

    @property  # type: ignore[override]
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
        self._traveller.move_to(value)


@dataclass
class Harness:
    """A database, the stand-in, a hand-moved clock and a pacer that records instead of sleeping."""

    db: Database
    config: CreditsConfig
    standin: SlackStandIn
    clock: Clock
    sleeps: list[float] = field(default_factory=list)

    def runner(self, *, db: Database | None = None, **options: Any) -> JobRunner:
        """A runner as production builds it (make_client: the 429 retry handler), on this clock."""
        settings = Settings(
            slack_bot_token=SecretStr(self.standin.bot_token),
            slack_signing_secret=SecretStr("not-used-by-jobs"),
            slack_api_url=self.standin.base_url,
        )
        options.setdefault("use_lease", False)
        options.setdefault("pacer", Pacer(sleep=self.sleeps.append, monotonic=lambda: 0.0))
        config = options.pop("config", self.config)  # another process's credits file, e.g. one not yet redeployed
        deps = Deps(config=config, db=db or self.db, clock=options.pop("clock", self.clock))
        return JobRunner(deps, make_client(settings), **options)

    def digests(self, channel: str = DESIGN_CHANNEL) -> list[dict[str, Any]]:
        """Top-level digest messages in the channel."""
        return [
            m
            for m in self.standin.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "keter_credits_digest"
        ]

    def alerts(self, channel: str = DESIGN_CHANNEL) -> list[dict[str, Any]]:
        """Budget alerts in the channel."""
        return [
            m
            for m in self.standin.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "keter_credits_budget_alert"
        ]

    def posts(self) -> list[ScheduledPost]:
        """Every claim row, oldest first."""
        with self.db.read() as session:
            return list(session.exec(select(ScheduledPost).order_by(ScheduledPost.id)).all())  # type: ignore[arg-type]

    def spend(self, cost: int, *, member: str = "U0ALICE", tool: str = "image", key: str, at: datetime) -> None:
        """A task's hold and capture at ``at``, written with the store's functions as the tasks service writes them.

        Digests read only the ledger, so any member and tool will do (the service would need them configured).
        """
        with self.db.write() as session:
            row = open_team_cycle(session, self.config, workspace_id=WORKSPACE, team="design", now=at)
            day = local_date(at, self.config.teams["design"].zone)
            for kind, name in ((EntryKind.HOLD, "hold"), (EntryKind.CAPTURE, "capture")):
                balance = ledger_reads.as_balance(row)
                delta = (
                    rules.place_hold(balance, cost) if kind is EntryKind.HOLD else rules.capture(balance, cost, cost)
                )
                ledger_writes.append_new_entry(
                    session,
                    row=row,
                    kind=kind,
                    delta=delta,
                    idempotency_key=f"{name}:{key}",
                    now=at,
                    local_day=day,
                    member=member,
                    tool=tool,
                )


@pytest.fixture
def harness(database: Database, standin: SlackStandIn, config: CreditsConfig) -> Iterator[Harness]:
    """Everything a job test needs, at the design team's slot."""
    with time_machine.travel(SLOT, tick=False) as traveller:
        yield Harness(database, config, standin, TravellingClock(SLOT, traveller))
