"""Latency of ``/credits quote`` served the way production serves it, against a bare-Bolt floor.

Slack gives an app 3 s to ack a slash command and users judge the bot by how long the answer takes
to appear, so this measures both: the HTTP ack, and the time until the answer reaches the command's
``response_url``. The floor is a Bolt app whose handler only acks, behind the same WSGI edge and the
same gunicorn settings: what the bot adds on top of it is the bot's own cost.

Run it on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_quote.py [--requests 1000] [--concurrency 50] [--dev-server]

Everything talks to a Slack stand-in served in this process on 127.0.0.1; it is measured on its own
first, to show it is not what limits the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import numpy as np
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` and ``tests`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bot.devtools.signing import signed_slash_command  # noqa: E402
from bot.devtools.slack_standin import RecordedResponse, SlackStandIn  # noqa: E402

COMMAND_TEXT = "quote image quality=high variants=4"
CHANNEL = "C0DESIGN"
MEMBERS = ("U0ALICE", "U0BOB", "U0CAROL")  # creator, lead, admin in bot/default_credits.yml
RESPONSE_TIMEOUT = 5.0  # seconds from sending until the answer must be at the response_url
SLACK_ACK_DEADLINE = 3.0
STARTUP_TIMEOUT = 60.0
EVENTS_PATH = "/slack/events"
# The stand-in's server keeps http.server's listen backlog of 5. Bolt's ``respond`` opens a new
# connection per answer, so a burst of 30 answers overflows it, the kernel drops the SYNs and each
# dropped one costs a 1 s (then 3 s) retransmit: the stand-in, not the bot, would set the p99. Slack
# itself has no such limit, so the benchmark raises it (``measure_standin`` shows the difference).


# -- measurement ------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One request: when it was sent and acked (``time.monotonic``), and how it ended."""

    sent: float
    acked: float | None = None
    status: int | None = None
    error: str | None = None
    response_at: float | None = None
    response_ok: bool = False

    @property
    def ack_ok(self) -> bool:
        """Acked with 200, as Slack requires."""
        return self.status == 200 and self.acked is not None


@dataclass
class Row:
    """One line of the results table."""

    label: str
    latencies_ms: list[float]
    failures: int
    elapsed_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Successful requests per second over the whole phase."""
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def pct(self, q: float) -> float:
        """The q-th percentile in ms (NaN if nothing succeeded)."""
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


class ResponseWatcher:
    """Wakes the client thread whose ``response_url`` the stand-in just recorded a post to.

    ``SlackStandIn.wait_for_response`` rescans every recorded post under the stand-in's lock on each
    wake-up, which with 50 waiters and 1,000 posts would itself add latency; this follows the
    ``responses`` list from one thread instead. The latency comes from ``RecordedResponse.at``, so the
    polling interval only affects pacing, never the figures.
    """

    def __init__(self, standin: SlackStandIn, poll_seconds: float = 0.001) -> None:
        self._standin = standin
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._waiting: dict[str, threading.Event] = {}
        self._arrived: dict[str, RecordedResponse] = {}
        self._seen = len(standin.responses)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="response-watcher", daemon=True)

    def __enter__(self) -> ResponseWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def expect(self, url: str) -> threading.Event:
        """Register interest in ``url`` before the request that names it is sent."""
        event = threading.Event()
        with self._lock:
            self._waiting[url] = event
            if url in self._arrived:
                event.set()
        return event

    def arrival(self, url: str) -> RecordedResponse | None:
        """The first post to ``url``, if any arrived."""
        with self._lock:
            return self._arrived.get(url)

    def _run(self) -> None:
        while not self._stop.is_set():
            fresh = self._standin.responses[self._seen :]  # a slice of a list is atomic in CPython
            self._seen += len(fresh)
            with self._lock:
                for response in fresh:
                    self._arrived.setdefault(response.url, response)
                    event = self._waiting.get(response.url)
                    if event is not None:
                        event.set()
            time.sleep(self._poll)


def run_load(
    send: Callable[[requests.Session, int], Sample], requests_total: int, concurrency: int
) -> tuple[list[Sample], float]:
    """Call ``send`` for request indexes 0..n-1 from ``concurrency`` threads; each keeps its session."""
    counter = itertools.count()
    counter_lock = threading.Lock()
    samples: list[Sample | None] = [None] * requests_total

    stop = threading.Event()

    def worker() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                with counter_lock:
                    index = next(counter)
                if index >= requests_total:
                    return
                samples[index] = send(session, index)

    threads = [threading.Thread(target=worker, name=f"client-{i}", daemon=True) for i in range(concurrency)]
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C: let requests in flight end while the servers still run
        stop.set()
        for thread in threads:
            thread.join(timeout=RESPONSE_TIMEOUT + 10)
        raise
    elapsed = time.monotonic() - started
    return [s for s in samples if s is not None], elapsed


def slash_command_sender(
    base_url: str, signing_secret: str, standin: SlackStandIn, watcher: ResponseWatcher | None
) -> Callable[[requests.Session, int], Sample]:
    """A sender of signed ``/credits quote`` commands; with a watcher it waits for each answer too.

    Waiting for the answer before the thread's next command is what a person does; without it the
    client would pile up work faster than the bot answers and measure a queue, not a latency.
    """

    def send(session: requests.Session, index: int) -> Sample:
        response_url = standin.new_response_url()
        body, headers = signed_slash_command(
            signing_secret,
            text=COMMAND_TEXT,
            user_id=MEMBERS[index % len(MEMBERS)],
            channel_id=CHANNEL,
            response_url=response_url,
        )
        arrived = watcher.expect(response_url) if watcher else None
        sample = Sample(sent=time.monotonic())
        try:
            reply = session.post(base_url + EVENTS_PATH, data=body, headers=headers, timeout=10)
            sample.acked, sample.status = time.monotonic(), reply.status_code
        except requests.RequestException as exc:
            sample.error = type(exc).__name__
            return sample
        if watcher is None or arrived is None or not sample.ack_ok:
            return sample
        arrived.wait(max(0.0, sample.sent + RESPONSE_TIMEOUT - time.monotonic()))
        recorded = watcher.arrival(response_url)
        if recorded is not None:
            sample.response_at = recorded.at
            sample.response_ok = str(recorded.payload.get("text", "")).startswith("Quote:")
        return sample

    return send


def ack_row(label: str, samples: Sequence[Sample], elapsed: float) -> Row:
    """Time to the HTTP ack; a failure is an exception or a status other than 200."""
    latencies = [(s.acked - s.sent) * 1000 for s in samples if s.ack_ok and s.acked is not None]
    errors = sorted({s.error or str(s.status) for s in samples if not s.ack_ok})
    row = Row(label, latencies, len(samples) - len(latencies), elapsed)
    if errors:
        row.notes.append(f"{label}: failures were {', '.join(errors)}")
    return row


def response_row(label: str, samples: Sequence[Sample]) -> Row:
    """Time to the answer at the response_url; late (> 5 s), missing or wrong answers fail."""
    good = [
        s for s in samples if s.response_at is not None and s.response_ok and s.response_at - s.sent <= RESPONSE_TIMEOUT
    ]
    latencies = [(s.response_at - s.sent) * 1000 for s in good if s.response_at is not None]
    first = min((s.sent for s in samples), default=0.0)
    last = max((s.response_at for s in good if s.response_at is not None), default=first)
    row = Row(label, latencies, len(samples) - len(good), last - first)
    wrong = sum(1 for s in samples if s.response_at is not None and not s.response_ok)
    missing = sum(1 for s in samples if s.ack_ok and s.response_at is None)
    if wrong or missing:
        row.notes.append(f"{label}: {missing} without an answer within 5 s, {wrong} not a quote")
    return row


# -- servers ----------------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A server subprocess in its own process group, so stopping it also stops gunicorn's workers."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv, env=env, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until_up(self, health_path: str | None) -> None:
        """Poll until the server answers (200 on ``health_path``, or any HTTP answer without one)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                reply = requests.get(self.base_url + (health_path or "/"), timeout=1)
                if health_path is None or reply.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not come up in {STARTUP_TIMEOUT:g}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output, for error messages."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after 10 s; safe to call twice."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


@contextlib.contextmanager
def serving(
    name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path, health_path: str | None
) -> Iterator[Server]:
    """Start a server, wait for it, and always stop it (exceptions and Ctrl-C included)."""
    server = Server(name, argv, env, port, log_dir)
    try:
        server.wait_until_up(health_path)
        yield server
    finally:
        server.stop()


def base_env(standin: SlackStandIn, signing_secret: str) -> dict[str, str]:
    """The environment both apps get: the stand-in's token and URL, a random signing secret."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=standin.base_url,
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


# -- phases -----------------------------------------------------------------------------------------


def measure_standin(standin: SlackStandIn, requests_total: int, concurrency: int) -> Row:
    """Posts straight to the stand-in's response URLs, each on a new connection like the bot's.

    Bolt's ``respond`` opens a fresh connection per answer (urllib), so this is the load the bot puts
    on the stand-in; its figures must sit far below the bot's for the comparison to mean anything.
    """

    def send(_session: requests.Session, _index: int) -> Sample:
        url = standin.new_response_url()
        sample = Sample(sent=time.monotonic())
        try:
            reply = requests.post(url, json={"text": "Quote: 0 credits"}, timeout=10)
            sample.acked, sample.status = time.monotonic(), reply.status_code
        except requests.RequestException as exc:
            sample.error = type(exc).__name__
        return sample

    samples, elapsed = run_load(send, requests_total, concurrency)
    return ack_row("stand-in alone (POST response_url)", samples, elapsed)


def load_phase(
    base_url: str,
    secret: str,
    standin: SlackStandIn,
    args: argparse.Namespace,
    watcher: ResponseWatcher | None,
) -> tuple[list[Sample], float]:
    """A short warm-up (first auth.test, imports, the cycle's opening grant), then the measured run."""
    send = slash_command_sender(base_url, secret, standin, watcher)
    if args.warmup:
        run_load(send, args.warmup, min(args.concurrency, args.warmup))
    return run_load(send, args.requests, args.concurrency)


def print_table(rows: Sequence[Row], args: argparse.Namespace) -> None:
    """The results, one row per measured thing."""
    print()
    print(
        f"{args.requests} requests, {args.concurrency} client threads, "
        f"gunicorn gthread {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs"
    )
    header = f"{'':44} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'failures':>9} {'req/s':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.label:44} {row.pct(50):8.1f} {row.pct(90):8.1f} {row.pct(99):8.1f} "
            f"{max(row.latencies_ms, default=float('nan')):8.1f} {row.failures:9d} {row.rate:8.1f}"
        )
    print("(latencies in ms)")
    for row in rows:
        for note in row.notes:
            print(f"note: {note}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run every phase, print the table; servers are stopped on every way out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="measured commands per phase")
    parser.add_argument("--concurrency", type=int, default=50, help="client threads")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured commands before each phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_WORKERS)")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker (WEB_THREADS)")
    parser.add_argument(
        "--dev-server", action="store_true", help="also measure the bare app on Bolt's app.start() server"
    )
    args = parser.parse_args(argv)

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # a kill of this script still stops its servers

    secret = secrets.token_hex(16)
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-quote-") as tmp,
        SlackStandIn() as standin,
    ):
        for user in MEMBERS:  # as on Slack, users.info knows them (none is a workspace admin)
            standin.add_user(user)
        log_dir = Path(tmp)
        env = base_env(standin, secret)
        print(f"stand-in on {standin.root_url}; server logs in {log_dir}", flush=True)

        print("measuring the stand-in alone ...", flush=True)
        rows.append(measure_standin(standin, args.requests, args.concurrency))

        print("measuring the floor: bare Bolt app on gunicorn ...", flush=True)
        port = free_port()
        gunicorn = [
            sys.executable, "-m", "gunicorn",
            "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
            "--bind", f"0.0.0.0:{port}", "--timeout", "30", "--graceful-timeout", "10", "--keep-alive", "5",
            "--log-level", "warning", "tests.bench.bare_app:create()",
        ]  # fmt: skip
        with serving("bare-gunicorn", gunicorn, env, port, log_dir, "/healthz") as server:
            samples, elapsed = load_phase(server.base_url, secret, standin, args, None)
        floor = ack_row("bare Bolt floor, gunicorn (ack)", samples, elapsed)
        rows.append(floor)

        if args.dev_server:
            print("measuring the bare Bolt app on app.start() ...", flush=True)
            port = free_port()
            argv_dev = [sys.executable, "-m", "tests.bench.bare_app", str(port)]
            with serving("bare-dev-server", argv_dev, env, port, log_dir, None) as server:
                samples, elapsed = load_phase(server.base_url, secret, standin, args, None)
            rows.append(ack_row("bare Bolt, app.start() dev server (ack)", samples, elapsed))

        print("measuring keter-credits: python -m bot serve ...", flush=True)
        port = free_port()
        keter_env = dict(
            env,
            DATABASE_URL=f"sqlite:///{log_dir / 'keter-credits.db'}",
            PORT=str(port),
            WEB_WORKERS=str(args.workers),
            WEB_THREADS=str(args.threads),
        )
        keter_env.pop("CREDITS_CONFIG", None)  # the shipped default config: team design
        argv_bot = [sys.executable, "-m", "bot", "serve"]
        with (
            serving("keter-credits", argv_bot, keter_env, port, log_dir, "/healthz") as server,
            ResponseWatcher(standin) as watcher,
        ):
            samples, elapsed = load_phase(server.base_url, secret, standin, args, watcher)
            errors_logged = server.log_tail(5) if "Traceback" in server.log_path.read_text() else ""
        keter_ack = ack_row("keter-credits ack", samples, elapsed)
        keter_ttr = response_row("keter-credits time-to-response", samples)
        rows += [keter_ack, keter_ttr]

    print_table(rows, args)
    ratio = keter_ttr.pct(99) / floor.pct(99) if floor.latencies_ms else float("nan")
    print(f"keter-credits p99 time-to-response / floor p99 ack: {ratio:.1f}x")
    late_ack = sum(1 for v in keter_ack.latencies_ms if v > SLACK_ACK_DEADLINE * 1000)
    late_answer = sum(1 for s in samples if s.response_at is None or s.response_at - s.sent > SLACK_ACK_DEADLINE)
    print(
        f"over 3 s: {late_ack} acks (Slack would show a timeout), "
        f"{late_answer} answers (late or missing) of {len(samples)}"
    )
    if errors_logged:
        print(f"the bot logged tracebacks; last lines:\n{errors_logged}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
