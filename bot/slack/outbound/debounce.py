"""Coalesced Home-tab refreshes: the latest action per key, once, after a short delay."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)


REFRESH_DELAY_SECONDS = 3.0


class Debouncer:
    """Runs the latest action per key once, ``delay`` seconds after the first request (Home tab refreshes)."""

    def __init__(self, delay_seconds: float = REFRESH_DELAY_SECONDS) -> None:
        self.delay = delay_seconds
        self._lock = threading.Lock()
        self._pending: dict[Hashable, Callable[[], None]] = {}
        self._timer: threading.Timer | None = None
        self._stopped = False

    def request(self, key: Hashable, action: Callable[[], None]) -> None:
        """Run ``action`` after the delay; a later request for the same key replaces it."""
        with self._lock:
            if self._stopped:  # the process is shutting down: the tab refreshes when it is next opened
                return
            self._pending[key] = action
            if self._timer is None:
                self._timer = threading.Timer(self.delay, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Run every pending action now (the timer calls it)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
        for key, action in pending.items():
            try:
                action()
            except Exception as exc:  # best effort: the next change, or opening the tab, shows it
                logger.warning("a debounced refresh of %s failed: %s", _key(key), _one_line(exc))

    def stop(self) -> None:
        """Run what is pending now and take no more (the process is stopping).

        Pending refreshes run rather than being dropped: each is a redraw a member is waiting for, and
        the database and Slack client they need are still there while the process stops.
        """
        with self._lock:
            self._stopped = True
        self.flush()


def _key(key: Hashable) -> str:
    return "/".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _one_line(exc: BaseException) -> str:
    """What failed, in one line: Slack's error code for a Web API refusal, else the exception's type and text."""
    if isinstance(exc, SlackApiError):
        return f"{exc.response.get('error', 'Slack API error')} (Slack)"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
