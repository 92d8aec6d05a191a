"""One message per second per channel, for every post the process makes (Slack's documented limit).

Every Web API client the bot builds is a ``PacedWebClient`` (``bot.app.make_client``; Bolt's own
per-request copy is swapped for one by ``PacedListenerClient``), and all of them in one process share
one ``Pacer`` (``PROCESS_PACER``): approval requests, thread replies, direct
messages, digests, alerts and chart uploads all wait their turn per channel in the one place they
all go through, whoever sends them (a listener, the sweep, the digest job). Each process paces its
own posts: with N processes posting to one channel at the same instant the channel can see up to N
messages in a second, which Slack tolerates in short bursts; a 429 beyond that is waited out by the
client's ``RateLimitErrorRetryHandler``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

# Methods that put a message in a channel; the value names the argument that holds the channel.
PACED_METHODS = {
    "chat.postMessage": "channel",
    "chat.scheduleMessage": "channel",
    "chat.meMessage": "channel",
    "files.completeUploadExternal": "channel_id",
}


class Pacer:
    """At most one message per channel per ``interval`` seconds from this process (Slack's limit)."""

    def __init__(
        self,
        interval: float = 1.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Block until ``channel`` may take another message, and book it.

        The slot is booked under the lock and the sleep happens outside it, so a post to another
        channel never waits behind this one.
        """
        with self._lock:
            now = self._monotonic()
            ready = max(now, self._last.get(channel, float("-inf")) + self.interval)
            self._last[channel] = ready
        if ready > now:
            self._sleep(ready - now)


PROCESS_PACER = Pacer()


class PacedWebClient(WebClient):
    """A WebClient whose channel posts keep to ``pacer`` (the process's shared one by default)."""

    def __init__(self, *args: Any, pacer: Pacer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer or PROCESS_PACER

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        """Wait for the channel's turn before a method that posts to it, then call Slack."""
        key = PACED_METHODS.get(api_method)
        if key is not None:
            channel = _argument(kwargs, key)
            if channel:
                self.pacer.wait(channel)
        return super().api_call(api_method, **kwargs)


class PacedListenerClient:
    """Global middleware: Bolt hands each listener a fresh plain ``WebClient``; give it a paced one.

    It shares the app client's pacer, read per request, so every listener's posts and the app's wait
    their turn together.
    """

    def __init__(self, app_client: PacedWebClient) -> None:
        self.app_client = app_client

    def __call__(self, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Replace ``context["client"]`` with the same client, paced."""
        plain = context.client
        if plain is not None and not isinstance(plain, PacedWebClient):
            context["client"] = PacedWebClient(
                token=plain.token,
                base_url=plain.base_url,
                timeout=plain.timeout,
                ssl=plain.ssl,
                proxy=plain.proxy,
                headers=dict(plain.headers),
                team_id=plain.default_params.get("team_id"),
                logger=plain.logger,
                retry_handlers=plain.retry_handlers,
                pacer=self.app_client.pacer,
            )
        return next()


def _argument(kwargs: dict[str, Any], key: str) -> str:
    """An argument from wherever slack_sdk put it (JSON body, form data or query parameters)."""
    for place in ("json", "data", "params"):
        values = kwargs.get(place)
        if isinstance(values, dict) and values.get(key):
            return str(values[key])
    return ""
