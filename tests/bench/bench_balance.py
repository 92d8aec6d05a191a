"""Does ``/credits balance`` stay as fast on a year-old busy ledger as on a new one?

``balance_report`` is meant to read the running balance row and a week of the ``daily_spend``
rollup, never the ledger itself, so its cost should not grow with the number of entries. This builds
two SQLite ledgers for team ``design`` (1,000 and 1,000,000 entries over the last year), checks
that each running balance equals the sum of its ledger, and times the report on both.

Run it on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_balance.py [--entries 1000000] [--small 1000] [--runs 200]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert
from sqlmodel import select

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bot.credits_file import CreditsConfig, load_config  # noqa: E402
from bot.domain import ledger as rules  # noqa: E402
from bot.domain.calendar import cycle_start, local_date  # noqa: E402
from bot.domain.command_line import parse_command  # noqa: E402
from bot.domain.commands import TaskRequest  # noqa: E402
from bot.domain.ledger import Balance, Delta, EntryKind  # noqa: E402
from bot.services.balances.team_balances import balance_report  # noqa: E402
from bot.services.quoting.quotes import quote_task  # noqa: E402
from bot.services.workspace.members import Member  # noqa: E402
from bot.store import rollups  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.ledger_reads import ledger_sum  # noqa: E402
from bot.store.tables.ledger import DailySpend, LedgerEntry, TeamBalance  # noqa: E402
from bot.store.tables.tasks import Task  # noqa: E402
from tests.bench.rows import ledger_row  # noqa: E402

WORKSPACE = "T0STANDIN"
TEAM = "design"
MEMBERS = {"U0ALICE": "creator", "U0BOB": "lead", "U0CAROL": "admin"}
# Typical task sizes in credits, from bot/default_credits.yml: image high x1-4, video 12-60 s,
# upscale x1-4, voice 1-3 minutes.
TOOL_COSTS: dict[str, Callable[[random.Random], int]] = {
    "image": lambda rng: rng.choice((1, 4, 8, 16)) * rng.randint(1, 4),
    "video": lambda rng: rng.choice((2, 6, 12)) * rng.randint(6, 60),
    "upscale": lambda rng: rng.choice((2, 4)) * rng.randint(1, 4),
    "voice": lambda rng: rng.choice((10, 20)) * rng.randint(1, 3),
}
TOOL_WEIGHTS = (50, 15, 25, 10)
MAX_OPEN_HOLDS = 6  # tasks running at once across the team
TOP_UP = 100_000  # extra credits bought when a hold would not fit
CHUNK = 50_000  # rows per executemany


@dataclass(frozen=True)
class BuiltLedger:
    """A ledger on disk and what building it took."""

    db: Database
    entries: int
    daily_rows: int
    seconds: float
    balance: Balance


def cycle_starts_between(first: date, last: date, renews_on_day: int) -> list[date]:
    """Every cycle start after ``first`` up to and including ``last``'s cycle."""
    starts: list[date] = []
    day = cycle_start(last, renews_on_day)
    while day > first:
        starts.append(day)
        day = cycle_start(day - timedelta(days=1), renews_on_day)
    return sorted(starts)


def simulate(
    count: int, now: datetime, config: CreditsConfig, seed: int
) -> Iterator[tuple[dict[str, Any], Delta, date]]:
    """A year of the team's life in ``count`` entries, each with its delta and local day.

    The opening grant and extra, then holds closed by a capture (85 %) or a release, a lapse and a
    grant at every renewal, and a top-up of extra credits whenever a hold would not fit. Every delta
    comes from the domain rules, so the ledger is one the bot itself could have written.
    """
    team_cfg = config.teams[TEAM]
    zone: ZoneInfo = team_cfg.zone
    monthly = config.plans[team_cfg.plan].monthly_credits
    rng = random.Random(seed)
    start = now - timedelta(days=365)
    first_cycle = cycle_start(local_date(start, zone), team_cfg.renews_on_day)
    renewals = cycle_starts_between(first_cycle, local_date(now, zone), team_cfg.renews_on_day)
    renewal_times = [datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC) for day in renewals]
    span = (now - timedelta(minutes=1) - start).total_seconds()
    offsets = np.sort(np.random.default_rng(seed).uniform(0, span, count))
    balance = Balance()
    open_holds: list[tuple[int, str, str, int]] = []  # task id, member, tool, amount
    members, tools = list(MEMBERS), list(TOOL_COSTS)
    emitted = 0
    next_task = 1
    due = 0  # index of the next renewal to write

    def entry(
        kind: EntryKind, delta: Delta, key: str, at: datetime, **extra: Any
    ) -> tuple[dict[str, Any], Delta, date]:
        nonlocal balance, emitted
        balance = balance.apply(delta)
        emitted += 1
        row = ledger_row(WORKSPACE, TEAM, kind, delta, key, at, **extra)
        return row, delta, at.astimezone(zone).date()

    at = start
    yield entry(EntryKind.GRANT, rules.grant_plan(monthly), f"grant:{TEAM}:{first_cycle}", at, note="pro plan")
    yield entry(EntryKind.EXTRA, rules.add_extra(team_cfg.extra_credits), f"opening-extra:{TEAM}", at, note="opening")
    for offset in offsets:
        if emitted >= count:
            break
        at = start + timedelta(seconds=float(offset))
        while due < len(renewals) and renewal_times[due] <= at:
            day, due = renewals[due], due + 1
            yield entry(EntryKind.LAPSE, rules.renew_cycle(balance), f"lapse:{TEAM}:{day}", at, note="renewal")
            yield entry(EntryKind.GRANT, rules.grant_plan(monthly), f"grant:{TEAM}:{day}", at, note="pro plan")
        if open_holds and (len(open_holds) >= MAX_OPEN_HOLDS or rng.random() < 0.5):
            task, member, tool, amount = open_holds.pop(rng.randrange(len(open_holds)))
            common = {"member": member, "tool": tool, "task_id": task}
            if rng.random() < 0.85:
                cost = max(1, round(amount * rng.uniform(0.6, 1.0)))
                delta = rules.capture(balance, amount, cost)
                yield entry(EntryKind.CAPTURE, delta, f"capture:{task}", at, **common)
            else:
                yield entry(EntryKind.RELEASE, rules.release_hold(balance, amount), f"release:{task}", at, **common)
            continue
        member = rng.choice(members)
        tool = rng.choices(tools, TOOL_WEIGHTS)[0]
        amount = TOOL_COSTS[tool](rng)
        if amount > balance.available:  # the team buys extra credits rather than be refused
            yield entry(EntryKind.EXTRA, rules.add_extra(TOP_UP), f"top-up:{next_task}", at, note="top-up")
        delta = rules.place_hold(balance, amount)
        yield entry(EntryKind.HOLD, delta, f"hold:{next_task}", at, member=member, tool=tool, task_id=next_task)
        open_holds.append((next_task, member, tool, amount))
        next_task += 1
    for day in renewals[due:]:  # a quiet ledger may end before the last renewal: the bot would catch up
        yield entry(EntryKind.LAPSE, rules.renew_cycle(balance), f"lapse:{TEAM}:{day}", now, note="renewal")
        yield entry(EntryKind.GRANT, rules.grant_plan(monthly), f"grant:{TEAM}:{day}", now, note="pro plan")


def finished_tasks(count: int, now: datetime, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` finished tasks of the three members over the last year (about a twelfth in the
    quote's 30-day retry window), as ``/credits done`` leaves them."""
    rng = random.Random(seed)
    tools = ("image", "video", "upscale", "voice")
    for number in range(1, count + 1):
        created = now - timedelta(seconds=rng.uniform(60, 365 * 86_400))
        retries = rng.choice((0, 0, 0, 1, 1, 2))
        yield {
            "workspace_id": WORKSPACE,
            "team": TEAM,
            "number": number,
            "requester": rng.choice(list(MEMBERS)),
            "tool": rng.choice(tools),
            "quality": "standard",
            "variants": 1,
            "quoted_cost": 8,
            "held": 0,
            "status": "done",
            "actual_cost": 8 * (1 + retries),
            "retries_used": retries,
            "created_at": created,
            "finished_at": created + timedelta(minutes=5),
        }


def build_ledger(
    path: Path, count: int, now: datetime, config: CreditsConfig, seed: int, tasks: int = 0
) -> BuiltLedger:
    """Migrate a fresh SQLite file and bulk-insert the ledger, its daily rollup and its running row.

    One transaction and ``executemany`` in chunks: the bot's own ``append_entry`` would take hours
    for a million rows, and how the rows got there is not what is measured.
    """
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    started = time.perf_counter()
    team_cfg = config.teams[TEAM]
    spend: Counter[tuple[date, str]] = Counter()
    balance = Balance()
    entries = 0
    last_at = now
    with db.engine.begin() as connection:
        chunk: list[dict[str, Any]] = []
        for row, delta, day in simulate(count, now, config, seed):
            chunk.append(row)
            balance = balance.apply(delta)
            if delta.spent and row["kind"] == EntryKind.CAPTURE.value:
                spend[(day, row["tool"])] += delta.spent
            last_at = row["created_at"]
            if len(chunk) >= CHUNK:
                connection.execute(insert(LedgerEntry), chunk)
                entries += len(chunk)
                chunk = []
        if chunk:
            connection.execute(insert(LedgerEntry), chunk)
            entries += len(chunk)
        daily = [
            {"workspace_id": WORKSPACE, "team": TEAM, "day": day, "tool": tool, "spent": spent}
            for (day, tool), spent in sorted(spend.items())
        ]
        if daily:
            connection.execute(insert(DailySpend), daily)
        rows = list(finished_tasks(tasks, now, seed))
        for first in range(0, len(rows), CHUNK):
            connection.execute(insert(Task), rows[first : first + CHUNK])
        connection.execute(
            insert(TeamBalance),
            [
                {
                    "workspace_id": WORKSPACE,
                    "team": TEAM,
                    "cycle_start": cycle_start(local_date(now, team_cfg.zone), team_cfg.renews_on_day),
                    "plan": balance.plan,
                    "extra": balance.extra,
                    "held": balance.held,
                    "spent": balance.spent,
                    "entry_count": entries,
                    "updated_at": last_at,
                }
            ],
        )
    with db.write() as session:  # the quote's rollups, as the store would have kept them row by row
        rollups.rebuild_rollups(session)
    seconds = time.perf_counter() - started
    db.engine.dispose()
    # Planner statistics and the WAL folded into the file, as a long-lived database has them; on a
    # plain connection because SQLAlchemy would wrap these in a transaction, where they cannot run.
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return BuiltLedger(db, entries, len(daily), seconds, balance)


def entry_count(db: Database) -> int:
    """The running row's entry count: it moves only if something wrote to the ledger."""
    with db.read() as session:
        return session.exec(select(TeamBalance.entry_count)).one()


def time_calls(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Time each call ``runs`` times in ms, interleaved so drift (cache, CPU clock) hits all alike."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    """Build both ledgers, check them, time the report on each and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries in the big ledger")
    parser.add_argument("--small", type=int, default=1_000, help="entries in the small ledger")
    parser.add_argument("--tasks", type=int, default=100_000, help="finished tasks beside the big ledger")
    parser.add_argument("--runs", type=int, default=200, help="timed calls on each ledger")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    config = load_config(None)
    # Fixed for the whole run and after every entry: inside the current cycle, so no renewal is due.
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-balance-") as tmp:
        ledgers: dict[str, BuiltLedger] = {}
        for label, count, tasks in (("small", args.small, 0), ("big", args.entries, args.tasks)):
            built = build_ledger(Path(tmp) / f"{label}.db", count, now, config, args.seed, tasks)
            ledgers[label] = built
            size_mb = sum(f.stat().st_size for f in Path(tmp).glob(f"{label}.db*")) / 1e6  # with the WAL
            print(
                f"built {label}: {built.entries:,} entries, {tasks:,} finished tasks, "
                f"{built.daily_rows:,} daily_spend rows, "
                f"{size_mb:.1f} MB in {built.seconds:.1f} s ({built.entries / built.seconds:,.0f} rows/s)"
            )
            started = time.perf_counter()
            with built.db.read() as session:
                truth = ledger_sum(session, workspace_id=WORKSPACE, team=TEAM)
            scan_ms = (time.perf_counter() - started) * 1000
            verdict = "equals" if truth == built.balance else "DIFFERS FROM"
            print(f"  ledger_sum {truth} ({scan_ms:.0f} ms full scan) {verdict} the running row {built.balance}")
            if truth != built.balance:
                return 1

        def report(db: Database) -> Callable[[], object]:
            return lambda: balance_report(db, config, workspace_id=WORKSPACE, team=TEAM, now=now)

        quote = parse_command("quote image quality=high variants=4")
        assert isinstance(quote, TaskRequest)
        alice = Member(user_id="U0ALICE", team=TEAM, role=MEMBERS["U0ALICE"], is_bot_admin=False)

        def quote_call(db: Database) -> Callable[[], object]:
            return lambda: quote_task(db, config, workspace_id=WORKSPACE, member=alice, command=quote, now=now)

        calls = {f"balance {label}": report(built.db) for label, built in ledgers.items()}
        calls |= {f"quote {label}": quote_call(built.db) for label, built in ledgers.items()}
        counts_before = {label: entry_count(built.db) for label, built in ledgers.items()}
        for call in calls.values():  # warm-up: connections, statement cache, pages
            call()
        timings = time_calls(calls, args.runs)
        for label, built in ledgers.items():
            if entry_count(built.db) != counts_before[label]:
                print(f"the {label} ledger was written to while timing (a renewal?): figures are not reads")
                return 1
            built.db.dispose()

    print(f"\n{args.runs} calls each, interleaved; now={now.isoformat()}; no ledger written while timing")
    print(f"{'':48} {'p50 ms':>8} {'p99 ms':>8}")
    stats = {name: (float(np.percentile(v, 50)), float(np.percentile(v, 99))) for name, v in timings.items()}
    for name, (p50, p99) in stats.items():
        entries = ledgers[name.split()[-1]].entries
        what = "balance_report" if name.startswith("balance") else "quote_task (for comparison)"
        print(f"{what + f', {entries:,} entries':48} {p50:8.2f} {p99:8.2f}")
    for what in ("balance", "quote"):
        small, big = stats[f"{what} small"], stats[f"{what} big"]
        print(f"{what}: big/small p50 {big[0] / small[0]:.2f}x, p99 {big[1] / small[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
