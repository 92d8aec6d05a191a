"""Run ``python -m bot`` as a real process with a clean environment (a test helper)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Slack's published specs live in a ``shared/`` folder beside the checkout (or beside a worktree's parent).
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared").is_dir()), REPO.parent / "shared")
BOT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "CREDITS_CONFIG",
    "PORT",
    "LOG_LEVEL",
    "WEB_WORKERS",
    "WEB_THREADS",
    "LISTENER_THREADS",
)


def bot_environment(**overrides: str) -> dict[str, str]:
    """The current environment without any of the bot's settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
    env.update(overrides)
    return env


def run_bot(
    *args: str, stdin: str = "", cwd: Path | None = None, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=bot_environment(**env),
        cwd=cwd or REPO,
        check=False,
    )


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
