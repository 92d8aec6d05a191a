"""How fast do Keter Labs' charges go in, and does ``/credits history`` stay fast on a big ledger?

Builds team ``design`` with a year of 1,000,000 ledger entries (as ``bench_balance.py`` does), then:

1. feeds 100,000 charges in signed deliveries of 100 through the real HTTP server (``SlackWsgiApp`` with
   the feed on, verified by ``standardwebhooks``) and prints charges per second;
2. imports another 100,000 charges from a CSV file with ``python -m bot import charges`` (in-process)
   and prints charges per second;
3. times the first page and a later page of ``/credits history`` for one member (the service the Slack
   handler calls) on that ledger and on an empty one, and prints the ratio (aim: within 1.5×).

Run it on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_charges.py [--entries 1000000] [--charges 100000] [--runs 100]
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import requests
from standardwebhooks.webhooks import Webhook

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bot.credits_file import load_config  # noqa: E402
from bot.devtools.http_server import BackgroundServer  # noqa: E402
from bot.devtools.slack_standin import SlackStandIn  # noqa: E402
from bot.domain.keter_charges import CSV_COLUMNS  # noqa: E402
from bot.feed.csv_import import import_charges_file  # noqa: E402
from bot.feed.webhook import FeedEndpoint  # noqa: E402
from bot.services.charges.history import read_history  # noqa: E402
from bot.services.workspace.members import Member  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.history import rebuild_history_rollup  # noqa: E402
from bot.store.ledger_checks import check_running_balances  # noqa: E402
from bot.web import FEED_PATH, SlackWsgiApp  # noqa: E402
from bot.wiring import build_process  # noqa: E402
from tests.bench.bench_balance import TEAM, build_ledger  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-charges-secret-0123456789ab").decode()
BATCH = 100
EMAILS = ("alice@studio.example", "bob@studio.example", "carol@studio.example")
ALICE = Member(user_id="U0ALICE", team=TEAM, role="creator", is_bot_admin=False)


def charge_rows(prefix: str, count: int, now: datetime, seed: int) -> list[dict[str, object]]:
    """``count`` charges over the last week: image/video/upscale/voice, 20 % retries, 2 % refunds."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(count):
        tool = rng.choices(("image", "video", "upscale", "voice"), (50, 15, 25, 10))[0]
        kind = rng.choices(("attempt", "retry", "refund"), (78, 20, 2))[0]
        rows.append(
            {
                "id": f"{prefix}_{i}",
                "occurred_at": (now - timedelta(seconds=rng.uniform(0, 7 * 86400))).isoformat(),
                "team": TEAM,
                "user_email": rng.choice(EMAILS),
                "tool": tool,
                "quality": "high",
                "variants": rng.randint(1, 4) if tool in ("image", "upscale") else None,
                "duration_seconds": rng.randint(6, 60) if tool == "video" else None,
                "credits": rng.randint(1, 120),
                "kind": kind,
                "version_kept": None,
                "project": rng.choice((None, "Launch", "Nike spring", "Catalogue")),
                "reference": None,
            }
        )
    return rows


def feed_over_http(url: str, rows: list[dict[str, object]]) -> float:
    """Post the rows in signed deliveries of BATCH; returns the seconds it took."""
    sender = Webhook(SECRET)
    http = requests.Session()
    started = time.perf_counter()
    for n in range(0, len(rows), BATCH):
        body = json.dumps({"type": "charges.created", "data": {"charges": rows[n : n + BATCH]}})
        msg_id = f"msg_{n}"
        at = datetime.now(UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": sender.sign(msg_id, at, body),
            "content-type": "application/json",
        }
        answer = http.post(url + FEED_PATH, data=body.encode(), headers=headers, timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"delivery {n // BATCH} answered {answer.status_code}: {answer.text}")
    return time.perf_counter() - started


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    path.write_text(out.getvalue(), encoding="utf-8")


def time_calls(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Each call ``runs`` times in ms, interleaved so drift hits all alike."""
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries in the big ledger")
    parser.add_argument("--charges", type=int, default=100_000, help="charges fed, and charges imported")
    parser.add_argument("--runs", type=int, default=100, help="timed history calls on each ledger")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    data = load_config(None).model_dump()
    data["teams"][TEAM]["emails"] = {"alice@studio.example": "U0ALICE", "bob@studio.example": "U0BOB"}
    config = type(load_config(None)).model_validate(data)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-charges-") as tmp, SlackStandIn() as api:
        built = build_ledger(Path(tmp) / "big.db", args.entries, now, config, args.seed)
        with built.db.write() as session:  # the bulk load bypassed the store: its history totals from the ledger
            rebuild_history_rollup(session, workspace_id="T0STANDIN", team=TEAM)
        print(f"built: {built.entries:,} entries in {built.seconds:.1f} s")
        empty = Database(f"sqlite:///{Path(tmp) / 'empty.db'}")
        empty.upgrade()
        db = built.db
        settings = Settings(slack_bot_token=api.bot_token, slack_signing_secret="bench", slack_api_url=api.base_url)
        process = build_process(settings, config, db=db, clock=lambda: now)
        endpoint = FeedEndpoint(secret=SECRET, deps=process.deps, client=process.client)
        server = BackgroundServer(SlackWsgiApp(process.app(), "bench", feed=endpoint)).start()
        try:
            fed = charge_rows("wh", args.charges, now, args.seed)
            seconds = feed_over_http(server.url, fed)
            print(
                f"webhook: {len(fed):,} charges in {len(fed) // BATCH:,} signed deliveries over HTTP in "
                f"{seconds:.1f} s: {len(fed) / seconds:,.0f} charges/s"
            )
        finally:
            server.stop()
        csv_path = Path(tmp) / "charges.csv"
        write_csv(csv_path, charge_rows("csv", args.charges, now, args.seed + 1))
        file_settings = Settings(
            slack_bot_token=api.bot_token,
            slack_signing_secret="bench",
            slack_api_url=api.base_url,
            database_url=f"sqlite:///{Path(tmp) / 'big.db'}",
        )
        out = io.StringIO()
        started = time.perf_counter()
        importing = build_process(file_settings, config)
        status = import_charges_file(importing.deps, importing.client, path=csv_path, skip_bad=False, out=out)
        importing.close()
        seconds = time.perf_counter() - started
        print(f"csv import: {args.charges:,} charges in {seconds:.1f} s: {args.charges / seconds:,.0f} charges/s")
        print(f"  {out.getvalue().strip()} (exit {status})")
        with db.read() as session:
            problems = check_running_balances(session)
        print("running balance equals the ledger" if not problems else f"LEDGER DIFFERS: {problems}")

        workspace = "T0STANDIN"

        def page(target: Database, second: bool) -> Callable[[], object]:
            def call() -> object:
                first = read_history(
                    target, config, workspace_id=workspace, viewer=ALICE, days=30, now=now, member="U0ALICE"
                )
                if second and first.cursor is not None:
                    return read_history(
                        target,
                        config,
                        workspace_id=workspace,
                        viewer=ALICE,
                        days=30,
                        now=now,
                        member="U0ALICE",
                        since=first.since,
                        before=first.cursor,
                    )
                return first

            return call

        from bot.services.balances.team_balances import current_balance

        current_balance(empty, config, workspace_id=workspace, team=TEAM, now=now)
        calls = {
            "history page 1, empty ledger": page(empty, False),
            f"history page 1, {built.entries + 2 * args.charges:,} entries": page(db, False),
            f"history pages 1+2, {built.entries + 2 * args.charges:,} entries": page(db, True),
        }
        for call in calls.values():
            call()
        timings = time_calls(calls, args.runs)
        stats = {name: (float(np.percentile(v, 50)), float(np.percentile(v, 99))) for name, v in timings.items()}
        print(f"\n{args.runs} calls each, interleaved")
        for name, (p50, p99) in stats.items():
            print(f"{name:48} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")
        names = list(stats)
        print(f"page 1 big/empty: p50 {stats[names[1]][0] / stats[names[0]][0]:.2f}x")
        db.dispose()
        empty.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
