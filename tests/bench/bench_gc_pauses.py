"""How long do the garbage collector's pauses stop a request, with and without ``gc.freeze()``?

Under load every request thread of a gunicorn worker stops while the collector runs, so one long
full collection lands on the p99 of every request in flight. This dispatches ``--runs`` signed
``/credits quote`` commands in-process (``app.dispatch`` against the Slack stand-in, SQLite) and
records each collection's pause by generation, after freezing the startup heap as
``bot.server`` does in each worker (``--no-freeze`` to compare). Run on purpose::

    python tests/bench/bench_gc_pauses.py [--runs 1500] [--no-freeze]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))

from slack_bolt.request import BoltRequest  # noqa: E402

from bot.credits_file import load_config  # noqa: E402
from bot.devtools.signing import signed_slash_command  # noqa: E402
from bot.devtools.slack_standin import SlackStandIn  # noqa: E402
from bot.store.db import Database  # noqa: E402
from tests.bot_harness import DESIGN_CHANNEL, build_app  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Dispatch the quotes, print their p50/p99/max and each generation's collections and pauses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=1500)
    parser.add_argument("--no-freeze", action="store_true", help="leave the startup heap to the collector")
    args = parser.parse_args(argv)
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    with tempfile.TemporaryDirectory(prefix="bench-gc-") as tmp, SlackStandIn() as api:
        for user in ("U0ALICE", "U0BOB", "U0CAROL"):
            api.add_user(user)
        db = Database(f"sqlite:///{Path(tmp) / 'bot.db'}")
        db.upgrade()
        app, secret = build_app(api, db, load_config(None), lambda: datetime.now(UTC))
        if not args.no_freeze:
            gc.collect()
            gc.freeze()
        print(f"objects the collector tracks after startup: {len(gc.get_objects()):,}")
        gc.callbacks.append(timed)
        times: list[float] = []
        for _ in range(args.runs):
            body, headers = signed_slash_command(
                secret,
                text="quote image quality=high variants=4",
                user_id="U0ALICE",
                channel_id=DESIGN_CHANNEL,
                response_url=api.new_response_url(),
            )
            sent = time.perf_counter()
            response = app.dispatch(BoltRequest(body=body, headers=dict(headers)))
            times.append((time.perf_counter() - sent) * 1000)
            assert response.status == 200, response.body
        gc.callbacks.remove(timed)
        db.dispose()
    times.sort()
    print(f"quote p50 {times[len(times) // 2]:.2f} ms, p99 {times[int(len(times) * 0.99)]:.2f} ms, max {times[-1]:.2f}")
    for generation in (0, 1, 2):
        found = [ms for g, ms in pauses if g == generation]
        if found:
            mean = statistics.mean(found)
            print(f"gen{generation}: {len(found)} collections, mean {mean:.2f} ms, max {max(found):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
