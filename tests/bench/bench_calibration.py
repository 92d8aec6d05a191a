"""Does the quote's likely range hold 9 in 10 of what tasks really cost, and is its expected figure unbiased?

A replay: one team with known, different retry habits per tool (a seeded random draw of each tool's
chance that an attempt fails; a failed attempt is retried until one works) quotes, runs and reports a
few hundred tasks through the real services (``quote_task``, ``start_task``, ``finish_task``) on a
throwaway SQLite database, a task every ``--spacing-hours`` with a random quality, size and length.

For every quote made once the team had ``--after`` finished tasks of that tool in the history window it
measures: the share of actual costs inside the quoted range (aim ≥ 90 %), the bias of the expected
figure against the true mean cost under the tool's habit (aim within ±10 %), and the range's median
width (in credits, and in first attempts). Quotes made on the stated model (too little history) are
reported apart.

Run it on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_calibration.py [--tasks 400] [--after 30] [--seed 7] [--spacing-hours 2.4]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``bot`` importable
    sys.path.insert(0, str(REPO_ROOT))

from bot.credits_file import CreditsConfig, default_config_text, parse_config  # noqa: E402
from bot.domain.commands import TaskRequest  # noqa: E402
from bot.domain.estimates import RangeBasis  # noqa: E402
from bot.domain.pricing import TaskSpec, price_task  # noqa: E402
from bot.domain.task_commands import DoneCommand, RunCommand  # noqa: E402
from bot.services.quoting.quotes import quote_task  # noqa: E402
from bot.services.tasks.run_and_done import finish_task, start_task  # noqa: E402
from bot.services.workspace.members import Member  # noqa: E402
from bot.store.db import Database  # noqa: E402

WORKSPACE = "T0CALIBRATE"
TEAM = "design"
START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
MEMBER = Member(user_id="U0REPLAY", team=TEAM, role="admin", is_bot_admin=True)  # no limits: no approvals
MAX_RETRIES = 50
LENGTHS = {"video": (4, 30), "voice": (20, 180)}  # seconds, for time-based tools


@dataclass(frozen=True)
class Measured:
    """One quote and what its task really cost."""

    tool: str
    basis: RangeBasis
    history: int  # finished tasks of the tool in the window when quoted
    low: int
    high: int
    expected: int
    true_mean: float
    attempt: float
    actual: int


def replay_config() -> CreditsConfig:
    """The shipped pricing and one team with extra credits enough that a replay is never short."""
    base = parse_config(default_config_text()).model_dump(mode="python")
    base["teams"] = {
        TEAM: {
            "channel": "C0REPLAY",
            "plan": "pro",
            "timezone": "Europe/Berlin",
            "extra_credits": 100_000_000,
            "members": {MEMBER.user_id: "admin"},
        }
    }
    return CreditsConfig.model_validate(base)


def true_mean_cost(config: CreditsConfig, spec: TaskSpec, fail: float) -> float:
    """The mean cost of ``spec`` under a habit of failing ``fail`` of attempts (retried until one works)."""
    mean = 0.0
    for retries in range(MAX_RETRIES + 1):
        chance = (1 - fail) * fail**retries
        if chance < 1e-12:
            break
        priced = price_task(
            config.pricing, TaskSpec(spec.tool, spec.quality, spec.variants, spec.duration_seconds, retries)
        )
        mean += chance * priced.total
    return mean


def draw_retries(rng: random.Random, fail: float) -> int:
    """Attempts until one works, minus the first."""
    retries = 0
    while retries < MAX_RETRIES and rng.random() < fail:
        retries += 1
    return retries


def replay(tasks: int, after: int, seed: int, spacing: timedelta) -> tuple[dict[str, float], list[Measured]]:
    """Quote, run and report ``tasks`` tasks; return each tool's habit and every measured quote."""
    rng = random.Random(seed)
    config = replay_config()
    tools = sorted(config.pricing.tools)
    habits = {tool: round(rng.uniform(0.05, 0.55), 3) for tool in tools}  # chance an attempt fails
    keep = {tool: rng.uniform(0.2, 0.8) for tool in tools}
    measured: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="keter-calibration-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'replay.db'}")
        db.upgrade()
        try:
            for n in range(tasks):
                now = START + n * spacing
                tool = rng.choice(tools)
                tool_pricing = config.pricing.tools[tool]
                quality = rng.choice(sorted(tool_pricing.rates))
                variants = rng.randint(1, 4)
                duration = rng.randint(*LENGTHS[tool]) if tool_pricing.time_based else None
                request = TaskRequest(tool=tool, quality=quality, variants=variants, duration_seconds=duration)
                report = quote_task(db, config, workspace_id=WORKSPACE, member=MEMBER, command=request, now=now)
                started = start_task(
                    db,
                    config,
                    workspace_id=WORKSPACE,
                    member=MEMBER,
                    command=RunCommand(request),
                    now=now,
                    allow_duplicate=True,
                )
                assert started.task is not None and started.task.number is not None, started.kind
                retries = draw_retries(rng, habits[tool])
                generated = variants * (1 + retries)
                kept = sum(rng.random() < keep[tool] for _ in range(generated))
                done = finish_task(
                    db,
                    config,
                    workspace_id=WORKSPACE,
                    member=MEMBER,
                    command=DoneCommand(started.task.number, retries=retries, kept=kept),
                    now=now + timedelta(minutes=30),
                )
                assert done.kind == "captured", done.kind
                likely = report.likely
                assert likely is not None
                measured.append(
                    Measured(
                        tool,
                        likely.basis,
                        report.quote.history.tasks,
                        likely.low,
                        likely.high,
                        report.quote.total,
                        true_mean_cost(config, report.quote.spec, habits[tool]),
                        report.quote.attempt_cost,
                        done.charged,
                    )
                )
        finally:
            db.dispose()
    return habits, measured


def summary(rows: list[Measured]) -> tuple[str, str, str, str, str]:
    """Quotes, share inside the range, bias of the expected figure, median width in credits and in attempts."""
    if not rows:
        return "0", "–", "–", "–", "–"
    inside = sum(r.low <= r.actual <= r.high for r in rows) / len(rows)
    bias = sum(r.expected for r in rows) / sum(r.true_mean for r in rows) - 1
    width = statistics.median(r.high - r.low for r in rows)
    attempts = statistics.median((r.high - r.low) / r.attempt for r in rows)
    return f"{len(rows)}", f"{inside:.1%}", f"{bias:+.1%}", f"{width:,.0f}", f"{attempts:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--after", type=int, default=30, help="finished tasks of the tool before a quote counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spacing-hours", type=float, default=2.4, help="time between two tasks")
    args = parser.parse_args()
    habits, rows = replay(args.tasks, args.after, args.seed, timedelta(hours=args.spacing_hours))
    print(f"{args.tasks} tasks, one every {args.spacing_hours} h, seed {args.seed}")
    print("tool      fails  mean retries")
    for tool, fail in habits.items():
        print(f"{tool:<9} {fail:>5.0%}  {fail / (1 - fail):>12.2f}")
    calibrated = [r for r in rows if r.history >= args.after]
    by_tool: dict[str, list[Measured]] = defaultdict(list)
    for row in calibrated:
        by_tool[row.tool].append(row)
    header = f"{'quotes':<34} {'n':>5} {'inside':>8} {'bias':>7} {'median width':>13} {'in attempts':>12}"
    print()
    print(header)
    print(
        f"{f'after {args.after} tasks of the tool':<34} "
        + " ".join(f"{v:>{w}}" for v, w in zip(summary(calibrated), (5, 8, 7, 13, 12), strict=True))
    )
    for tool, tool_rows in sorted(by_tool.items()):
        print(
            f"{f'  {tool}':<34} "
            + " ".join(f"{v:>{w}}" for v, w in zip(summary(tool_rows), (5, 8, 7, 13, 12), strict=True))
        )
    for basis in RangeBasis:
        basis_rows = [r for r in rows if r.basis is basis]
        label = f"all quotes on {basis.value.replace('_', ' ')}"
        print(
            f"{label:<34} " + " ".join(f"{v:>{w}}" for v, w in zip(summary(basis_rows), (5, 8, 7, 13, 12), strict=True))
        )
    inside = sum(r.low <= r.actual <= r.high for r in calibrated) / max(1, len(calibrated))
    bias = sum(r.expected for r in calibrated) / max(1.0, sum(r.true_mean for r in calibrated)) - 1
    verdict = "meets" if inside >= 0.9 and abs(bias) <= 0.1 else "MISSES"
    print(f"\n{verdict} the aims (inside ≥ 90 %, bias within ±10 %)")
    if not math.isfinite(bias):
        sys.exit(1)


if __name__ == "__main__":
    main()
