"""Time to the member's visible answer for ``/credits quote`` and ``balance``, beside the bare-Bolt floor.

The visible answer is the ack's own body when it carries the reply (Slack shows it at once), else the
reply's arrival at the command's ``response_url``. The floor is a Bolt app whose handler acks with a
fixed text, behind the same WSGI edge and the same gunicorn settings. Both servers run side by side
and the phases alternate (floor, quote, balance, floor, quote, balance) so drift hits all alike; each
at 1 client and at ``--concurrency`` clients. Run on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_answers.py [--requests 1000] [--concurrency 50] [--postgres-url URL]

With ``--postgres-url`` (or ``KETER_TEST_POSTGRES_URL``) the bot is measured again on a fresh
PostgreSQL database. Results end with the aims of issue 11 and whether each was met.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.devtools.signing import signed_slash_command  # noqa: E402
from bot.devtools.slack_standin import SlackStandIn  # noqa: E402
from tests.bench.bench_quote import (  # noqa: E402
    CHANNEL,
    MEMBERS,
    RESPONSE_TIMEOUT,
    ResponseWatcher,
    Row,
    Sample,
    base_env,
    free_port,
    run_load,
    serving,
)

COMMANDS = {"quote": "quote image quality=high variants=4", "balance": "balance"}
EXPECTED = {"quote": "Quote:", "balance": "Team design", "floor": "ok"}


def sender(
    base_url: str, secret: str, standin: SlackStandIn, watcher: ResponseWatcher, text: str, expect: str
) -> Callable[[requests.Session, int], Sample]:
    """Signed ``/credits <text>``; the sample's ``response_at`` is when the answer became visible."""

    def send(session: requests.Session, index: int) -> Sample:
        response_url = standin.new_response_url()
        body, headers = signed_slash_command(
            secret, text=text, user_id=MEMBERS[index % len(MEMBERS)], channel_id=CHANNEL, response_url=response_url
        )
        arrived = watcher.expect(response_url)
        sample = Sample(sent=time.monotonic())
        try:
            reply = session.post(base_url + "/slack/events", data=body, headers=headers, timeout=10)
            sample.acked, sample.status = time.monotonic(), reply.status_code
        except requests.RequestException as exc:
            sample.error = type(exc).__name__
            return sample
        if not sample.ack_ok:
            return sample
        shown = json.loads(reply.text) if reply.text.startswith("{") else {}
        if shown.get("text"):  # the answer rides in the ack
            sample.response_at = sample.acked
            sample.response_ok = str(shown["text"]).startswith(expect)
            return sample
        arrived.wait(max(0.0, sample.sent + RESPONSE_TIMEOUT - time.monotonic()))
        recorded = watcher.arrival(response_url)
        if recorded is not None:
            sample.response_at = recorded.at
            sample.response_ok = str(recorded.payload.get("text", "")).startswith(expect)
        return sample

    return send


def visible_row(label: str, samples: Sequence[Sample], elapsed: float) -> Row:
    """Time to the visible answer; a failure is a non-200, a wrong answer, or none within 5 s."""
    good = [s for s in samples if s.response_ok and s.response_at is not None and s.response_at - s.sent <= 5]
    return Row(
        label, [(s.response_at - s.sent) * 1000 for s in good if s.response_at], len(samples) - len(good), elapsed
    )


def create_postgres_database(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the server at ``url``, and how to drop it."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


@contextmanager
def bot_server(
    env: dict[str, str], database_url: str, args: argparse.Namespace, log_dir: Path, name: str
) -> Iterator[str]:
    port = free_port()
    threads = str(args.bot_threads or args.threads)
    keter_env = dict(env, DATABASE_URL=database_url, PORT=str(port), WEB_WORKERS=str(args.workers), WEB_THREADS=threads)
    keter_env.pop("CREDITS_CONFIG", None)
    # PostgreSQL is migrated by the release step in production (SQLite upgrades itself on start).
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=keter_env, cwd=REPO_ROOT, check=True)
    with serving(name, [sys.executable, "-m", "bot", "serve"], keter_env, port, log_dir, "/healthz") as server:
        yield server.base_url


def measure(
    targets: dict[str, tuple[str, str, str]],
    secret: str,
    standin: SlackStandIn,
    args: argparse.Namespace,
    clients: int,
    requests_total: int,
) -> dict[str, Row]:
    """Each target (label -> url, text, expected) twice, alternating; rows merge both rounds."""
    merged: dict[str, Row] = {}
    with ResponseWatcher(standin) as watcher:
        for round_number in range(2):
            for label, (url, text, expect) in targets.items():
                send = sender(url, secret, standin, watcher, text, expect)
                if round_number == 0 and args.warmup:
                    run_load(send, args.warmup, min(clients, args.warmup))
                samples, elapsed = run_load(send, requests_total, clients)
                row = visible_row(label, samples, elapsed)
                if label in merged:
                    previous = merged[label]
                    row = Row(
                        label,
                        previous.latencies_ms + row.latencies_ms,
                        previous.failures + row.failures,
                        previous.elapsed_s + row.elapsed_s,
                    )
                merged[label] = row
                print(f"  {label}, {clients} client(s), round {round_number + 1}: done", flush=True)
    return merged


def print_rows(title: str, rows: dict[str, Row]) -> None:
    print(f"\n{title}")
    header = f"{'':34} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} {'fail':>5} {'answers/s':>10}"
    print(header)
    for row in rows.values():
        print(
            f"{row.label:34} {row.pct(50):7.1f} {row.pct(90):7.1f} {row.pct(99):7.1f} "
            f"{max(row.latencies_ms, default=float('nan')):7.1f} {row.failures:5d} {row.rate:10.1f}"
        )


def verdicts(db: str, one: dict[str, Row], many: dict[str, Row]) -> None:
    """Issue 11's aims, each said plainly met or not."""
    floor1, floor50 = one["floor"], many["floor"]
    for what in ("quote", "balance"):
        bot1, bot50 = one[f"{db} {what}"], many[f"{db} {what}"]
        aims = [
            ("1 client p50 <= 1.2x floor", bot1.pct(50) <= 1.2 * floor1.pct(50), bot1.pct(50) / floor1.pct(50)),
            ("50 clients answers/s >= 0.5x floor", bot50.rate >= 0.5 * floor50.rate, bot50.rate / floor50.rate),
            ("50 clients p99 <= 2x floor", bot50.pct(99) <= 2 * floor50.pct(99), bot50.pct(99) / floor50.pct(99)),
            ("no answer over 3 s, no failure", max(bot50.latencies_ms, default=0) <= 3000 and not bot50.failures, 0.0),
        ]
        for name, met, ratio in aims:
            shown = f" ({ratio:.2f}x)" if ratio else ""
            print(f"  {db} {what}: {name}: {'MET' if met else 'NOT MET'}{shown}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="measured commands per phase, 50 clients")
    parser.add_argument("--single", type=int, default=200, help="measured commands per phase, 1 client")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="the floor's gunicorn threads per worker")
    parser.add_argument("--bot-threads", type=int, default=None, help="the bot's WEB_THREADS (default: as --threads)")
    parser.add_argument("--postgres-url", default=os.environ.get("KETER_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp, SlackStandIn() as standin:
        for user in MEMBERS:
            standin.add_user(user)
        log_dir = Path(tmp)
        env = base_env(standin, secret)
        env["BENCH_FLOOR_TEXT"] = "ok"
        databases: dict[str, tuple[str, Callable[[], None]]] = {
            "sqlite": (f"sqlite:///{log_dir / 'bot.db'}", lambda: None)
        }
        if args.postgres_url:
            databases["postgres"] = create_postgres_database(args.postgres_url)
        port = free_port()
        gunicorn = [
            sys.executable, "-m", "gunicorn",
            "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
            "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--keep-alive", "5",
            "--log-level", "warning", "tests.bench.bare_app:create()",
        ]  # fmt: skip
        bot_threads = args.bot_threads or args.threads
        print(
            f"{os.cpu_count()} CPUs; gunicorn gthread {args.workers} x {args.threads} (floor), "
            f"{args.workers} x {bot_threads} (bot); logs in {log_dir}",
            flush=True,
        )
        try:
            with serving("floor", gunicorn, env, port, log_dir, "/healthz") as floor:
                for db, (url, _drop) in databases.items():
                    with bot_server(env, url, args, log_dir, f"bot-{db}") as bot_url:
                        targets = {"floor": (floor.base_url, COMMANDS["quote"], EXPECTED["floor"])}
                        for what, text in COMMANDS.items():
                            targets[f"{db} {what}"] = (bot_url, text, EXPECTED[what])
                        one = measure(targets, secret, standin, args, 1, args.single)
                        many = measure(targets, secret, standin, args, args.concurrency, args.requests)
                    print_rows(f"{db}: 1 client, {2 * args.single} answers each (ms)", one)
                    print_rows(f"{db}: {args.concurrency} clients, {2 * args.requests} answers each (ms)", many)
                    verdicts(db, one, many)
        finally:
            for _url, drop in databases.values():
                drop()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
