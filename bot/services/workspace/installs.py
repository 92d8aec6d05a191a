"""Whether the app is installed in a workspace: uninstall and revoke stop its scheduled work, data kept.

``app_uninstalled`` and ``tokens_revoked`` mark the workspace; digests, alerts and the approvals
sweep then skip it (one log line each per run) instead of calling Slack with a dead token. A signed
request from the workspace while the bot token works again marks it installed, and everything resumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from bot.store import workspaces as store
from bot.store.db import Database

REFRESH_SECONDS = 15.0


def mark_uninstalled(db: Database, *, workspace_id: str, reason: str, now: datetime) -> bool:
    """Stop scheduled work for the workspace (its ledger and requests are kept); True if it changed."""
    with db.write() as session:
        return store.set_installed(session, workspace_id=workspace_id, installed=False, reason=reason, now=now)


def mark_installed(db: Database, *, workspace_id: str, now: datetime) -> bool:
    """Resume the workspace's scheduled work; True if it had been marked uninstalled."""
    with db.write() as session:
        return store.set_installed(session, workspace_id=workspace_id, installed=True, reason="installed", now=now)


def not_installed(db: Database) -> set[str]:
    """The workspaces scheduled work must skip."""
    with db.read() as session:
        return store.not_installed(session)


class InstallState:
    """``not_installed`` read at most every REFRESH_SECONDS per process, for the request path.

    A change this process makes is seen at once; one made by another process within REFRESH_SECONDS.
    """

    def __init__(self, db: Database, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._read_at = float("-inf")

    def is_uninstalled(self, workspace_id: str) -> bool:
        """Whether the workspace is marked uninstalled (from a cache refreshed every few seconds)."""
        with self._lock:
            if self._monotonic() - self._read_at >= REFRESH_SECONDS:
                self._known, self._read_at = not_installed(self._db), self._monotonic()
            return workspace_id in self._known

    def forget(self) -> None:
        """Read the database again on the next question (after this process changed a state)."""
        with self._lock:
            self._read_at = float("-inf")
