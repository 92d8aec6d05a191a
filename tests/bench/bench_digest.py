"""How long do 200 teams' weekly digest figures take on a ledger of a million entries?

The digest is meant to aggregate in SQL over the (workspace, team, time) indexes: a fixed handful
of grouped queries per team, never a query (or a Python loop) per ledger row. This builds an SQLite
database with ``--teams`` teams and ``--entries`` ledger entries spread over ``--days`` days (holds,
captures and releases, with the matching finished tasks, approvals, daily rollup and running
balances), then times ``compute_digest`` for every team at one slot, counts the SQL statements it
ran, and checks one team's figures against a full scan done in Python.

Run it on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_digest.py [--teams 200] [--entries 1000000] [--days 56] [--seed 7]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, text
from sqlmodel import select

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bot.credits_file import CreditsConfig, default_config_text, parse_config  # noqa: E402
from bot.domain import ledger as rules  # noqa: E402
from bot.domain.calendar import cycle_start, local_date  # noqa: E402
from bot.domain.digest import digest_window, latest_slot  # noqa: E402
from bot.domain.ledger import Balance, Delta, EntryKind  # noqa: E402
from bot.domain.pricing import TaskSpec, actual_cost  # noqa: E402
from bot.services.digests.weekly_digest import compute_digest  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.tables.ledger import DailySpend, LedgerEntry, TeamBalance  # noqa: E402
from bot.store.tables.tasks import Approval, Task  # noqa: E402
from tests.bench.rows import ledger_row  # noqa: E402

WORKSPACE = "T0BENCH"
WORKSPACE_URL = "https://bench.slack.com/"
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # half an hour after Monday 09:00 in Berlin
CHUNK = 50_000
SHAPES = [  # tool, quality, variants, duration (s), weight
    ("image", "high", 4, None, 30),
    ("image", "standard", 2, None, 25),
    ("upscale", "high", 2, None, 20),
    ("video", "standard", 1, 10, 10),
    ("voice", "standard", 1, 90, 15),
]


def bench_config(teams: int) -> CreditsConfig:
    """The shipped pricing with ``teams`` teams of five members, all on Monday 09:00 in Berlin."""
    base = parse_config(default_config_text()).model_dump(mode="python")
    base["teams"] = {
        f"team-{n:03d}": {
            "channel": f"C{n:06d}",
            "plan": "pro",
            "timezone": "Europe/Berlin",
            "digest": "mon 09:00",
            "members": {f"U{n:04d}M{m}": "creator" for m in range(5)},
        }
        for n in range(teams)
    }
    return CreditsConfig.model_validate(base)


def simulate_team(
    team: str, members: list[str], entries: int, days: int, config: CreditsConfig, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], Balance, Counter[tuple[date, str]]]:
    """One team's ledger rows, finished tasks and approvals; each delta comes from the domain rules."""
    zone = config.teams[team].zone
    start = NOW - timedelta(days=days)
    ledger: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    approvals: list[dict[str, Any]] = []
    spend: Counter[tuple[date, str]] = Counter()
    balance = Balance()

    def write(kind: EntryKind, delta: Delta, key: str, at: datetime, **extra: Any) -> None:
        nonlocal balance
        balance = balance.apply(delta)
        ledger.append(ledger_row(WORKSPACE, team, kind, delta, f"{team}:{key}", at, **extra))
        if delta.spent:
            spend[(at.astimezone(zone).date(), extra.get("tool") or "other")] += delta.spent

    write(EntryKind.GRANT, rules.grant_plan(5000), "grant", start)
    write(EntryKind.EXTRA, rules.add_extra(50_000_000), "extra", start)
    times = sorted(start + timedelta(seconds=rng.uniform(0, days * 86400 - 120)) for _ in range((entries - 2) // 2))
    for number, at in enumerate(times, start=1):
        tool, quality, variants, duration, _ = rng.choices(SHAPES, [s[4] for s in SHAPES])[0]
        spec = TaskSpec(tool, quality, variants, duration)
        retries = rng.choices((0, 1, 2), (70, 22, 8))[0]
        cost = actual_cost(config.pricing, spec, retries)
        member = rng.choice(members)
        common = {"member": member, "tool": tool, "task_id": number}
        write(EntryKind.HOLD, rules.place_hold(balance, cost), f"hold:{number}", at, **common)
        done = at + timedelta(seconds=rng.uniform(10, 110))
        if rng.random() < 0.85:
            write(EntryKind.CAPTURE, rules.capture(balance, cost, cost), f"capture:{number}", done, **common)
            kept = rng.randint(0, variants * (1 + retries)) if rng.random() < 0.8 else None
            tasks.append(
                {
                    "workspace_id": WORKSPACE,
                    "team": team,
                    "number": number,
                    "requester": member,
                    "tool": tool,
                    "quality": quality,
                    "variants": variants,
                    "duration_seconds": duration,
                    "retries_used": retries,
                    "quoted_cost": cost,
                    "held": 0,
                    "status": "done",
                    "actual_cost": cost,
                    "kept": kept,
                    "created_at": at,
                    "finished_at": done,
                }
            )
            if rng.random() < 0.1:
                approvals.append(
                    {
                        "workspace_id": WORKSPACE,
                        "team": team,
                        "task_id": len(tasks),  # replaced by the real id after insertion
                        "kind": "task",
                        "requester": member,
                        "amount": cost,
                        "reasons": "over the per-task limit",
                        "status": rng.choice(("approved", "approved", "denied", "expired")),
                        "channel_id": config.teams[team].channel,
                        "message_ts": f"{at.timestamp():.6f}",
                        "decided_at": at + timedelta(seconds=30),
                        "announced": True,
                        "expires_at": at + timedelta(hours=24),
                        "created_at": at,
                    }
                )
        else:
            write(EntryKind.RELEASE, rules.release_hold(balance, cost), f"release:{number}", done, **common)
    return ledger, tasks, approvals, balance, spend


def build(path: Path, config: CreditsConfig, entries: int, days: int, seed: int) -> tuple[Database, int, float]:
    """Migrate a fresh SQLite file and bulk-insert every team's rows in one transaction."""
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    rng = random.Random(seed)
    teams = list(config.teams)
    per_team = entries // len(teams)
    started = time.perf_counter()
    written = 0
    with db.engine.begin() as connection:
        pending: dict[str, list[dict[str, Any]]] = defaultdict(list)

        def flush(force: bool = False) -> None:
            for table, model in (("ledger", LedgerEntry), ("daily", DailySpend), ("balance", TeamBalance)):
                if pending[table] and (force or len(pending[table]) >= CHUNK):
                    connection.execute(insert(model), pending[table])
                    pending[table] = []

        for team in teams:
            members = list(config.teams[team].members)
            ledger, tasks, approvals, balance, spend = simulate_team(team, members, per_team, days, config, rng)
            written += len(ledger)
            pending["ledger"] += ledger
            pending["daily"] += [
                {"workspace_id": WORKSPACE, "team": team, "day": day, "tool": tool, "spent": spent}
                for (day, tool), spent in spend.items()
            ]
            pending["balance"].append(
                {
                    "workspace_id": WORKSPACE,
                    "team": team,
                    "cycle_start": cycle_start(local_date(NOW, config.teams[team].zone), 1),
                    "plan": balance.plan,
                    "extra": balance.extra,
                    "held": balance.held,
                    "spent": balance.spent,
                    "entry_count": len(ledger),
                    "updated_at": NOW,
                }
            )
            first_id = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM task")).scalar_one() + 1
            if tasks:
                connection.execute(insert(Task), tasks)
            for approval in approvals:
                approval["task_id"] += first_id - 1
            if approvals:
                connection.execute(insert(Approval), approvals)
            flush()
        flush(force=True)
    seconds = time.perf_counter() - started
    db.engine.dispose()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, written, seconds


def full_scan_spend(db: Database, team: str, config: CreditsConfig) -> tuple[int, int]:
    """This week's and last week's spend of one team, summed in Python over every one of its rows."""
    team_cfg = config.teams[team]
    window = digest_window(latest_slot(team_cfg.digest_schedule, team_cfg.zone, NOW), team_cfg.zone)
    current = previous = 0
    with db.read() as session:
        for entry in session.exec(select(LedgerEntry).where(LedgerEntry.team == team)):
            if entry.kind not in ("capture", "refund"):
                continue
            if window.start <= entry.created_at < window.end:
                current += entry.spent_delta
            elif window.previous_start <= entry.created_at < window.start:
                previous += entry.spent_delta
    return current, previous


def main(argv: list[str] | None = None) -> int:
    """Build, time every team's digest figures, check one team, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries in all")
    parser.add_argument("--days", type=int, default=56, help="the ledger spans this many days before the slot")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    config = bench_config(args.teams)
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as tmp:
        db, entries, build_seconds = build(Path(tmp) / "digest.db", config, args.entries, args.days, args.seed)
        size = sum(f.stat().st_size for f in Path(tmp).glob("digest.db*")) / 1e6
        print(
            f"built {args.teams} teams, {entries:,} ledger entries over {args.days} days, {size:.0f} MB, "
            f"in {build_seconds:.1f} s ({entries / build_seconds:,.0f} rows/s)"
        )
        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(db.engine, "before_cursor_execute", count)
        slots = {t: latest_slot(c.digest_schedule, c.zone, NOW) for t, c in config.teams.items()}
        started = time.perf_counter()
        reports = [
            compute_digest(db, config, workspace_id=WORKSPACE, team=t, end=slot, now=NOW, workspace_url=WORKSPACE_URL)
            for t, slot in slots.items()
        ]
        seconds = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", count)
        window = digest_window(next(iter(slots.values())), config.teams["team-000"].zone)
        with db.read() as session:
            in_windows = session.exec(
                select(func.count())
                .select_from(LedgerEntry)
                .where(
                    LedgerEntry.created_at >= window.previous_start,
                    LedgerEntry.created_at < window.end,  # type: ignore[arg-type]
                )
            ).one()
            plan = session.exec(
                text(  # type: ignore[call-overload]
                    "EXPLAIN QUERY PLAN SELECT tool, member, SUM(spent_delta) FROM ledger_entry "
                    "WHERE workspace_id = 'x' AND team = 'y' AND created_at >= '2026-01-01' "
                    "AND created_at < '2026-01-15' AND kind IN ('capture', 'refund') GROUP BY tool, member"
                )
            ).all()
        print(
            f"computed {len(reports)} digests in {seconds:.2f} s ({seconds / len(reports) * 1000:.1f} ms each), "
            f"{statements} SQL statements ({statements / len(reports):.1f} per team, none per row)"
        )
        print(
            f"  {entries / seconds:,.0f} ledger rows/s over the whole ledger; {in_windows:,} rows in the two weeks "
            f"read, {in_windows / seconds:,.0f} rows/s"
        )
        print("  spend query plan: " + "; ".join(str(row[-1]) for row in plan))
        sample = reports[0]
        truth = full_scan_spend(db, sample.team, config)
        figures = (sample.figures.spend.total, sample.figures.spend.previous_total)
        verdict = "equals" if figures == truth else "DIFFERS FROM"
        print(
            f"  {sample.team}: spend {figures[0]:,} (week before {figures[1]:,}) {verdict} a full scan {truth}; "
            f"retries {sample.figures.retries.cost:,}, {len(sample.figures.largest)} largest tasks, "
            f"{sample.figures.approvals.asked} approvals asked"
        )
        db.dispose()
        aim = "within" if seconds < 10 else "OVER"
        print(f"aim: all {len(reports)} digests under 10 s: {aim} ({seconds:.2f} s)")
        return 0 if figures == truth else 1


if __name__ == "__main__":
    sys.exit(main())
