"""The Slack stand-in's workspace: users, channels, messages, views, files, id and timestamp counters.

``WorkspaceState`` is the workspace itself (users, channels, messages, views, files, id and timestamp
counters). One instance is shared by composition: ``SlackStandIn`` configures, inspects and resets it,
``WebApiMethods`` reads and changes it on each request. Both touch it only under the stand-in's lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.devtools.standin_http import ApiArgs, ApiError

TEAM_ID = "T0STANDIN"
TEAM_NAME = "Stand-in"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0STANDIN"
WORKSPACE_URL = "https://standin.slack.com/"
MAX_BLOCKS = 50
MAX_TEXT = 40_000


@dataclass
class Channel:
    """What the stand-in knows of a channel (or a DM): enough for ``conversations.info`` and membership checks."""

    id: str
    name: str
    is_member: bool = True
    is_private: bool = False


def resolve_channel(channel: str) -> str:
    """Posting to a user ID lands in the DM with that user, as on Slack."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


class WorkspaceState:
    """Everything the stand-in's workspace holds; callers hold the stand-in's lock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        """``clock`` gives wall-clock seconds for message timestamps (a test may pin it)."""
        self.clock = clock
        self.ids = itertools.count(1)
        self.last_ts = 0
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.pending_files: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.response_ids: set[str] = set()
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> the Home tab last published
        self.function_results: dict[str, dict[str, Any]] = {}  # function_execution_id -> outputs or error

    def clear_content(self) -> None:
        """Forget messages, views and files (users, channels and response URLs stay)."""
        self.messages.clear()
        self.views.clear()
        self.pending_files.clear()
        self.uploads.clear()
        self.home_views.clear()
        self.function_results.clear()

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-shaped id (``V0STANDIN0001``); the prefix letter says what kind, as on Slack."""
        return f"{prefix}0STANDIN{next(self.ids):04d}"

    def next_ts(self) -> str:
        """Unique, increasing timestamps taken from the (possibly pinned) clock."""
        self.last_ts = max(int(self.clock() * 1_000_000), self.last_ts + 1)
        return f"{self.last_ts // 1_000_000}.{self.last_ts % 1_000_000:06d}"

    def channel(self, channel_id: str) -> Channel:
        """The channel (or DM) by id, made up on first use so tests need not declare every channel."""
        channel_id = resolve_channel(channel_id)
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(channel_id, f"channel-{channel_id.lower()}")
        return self.channels[channel_id]

    def find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        """The stored message itself (not a copy), so ``chat.update`` can change it in place."""
        for message in self.messages.get(resolve_channel(channel), []):
            if message["ts"] == ts:
                return message
        raise ApiError("message_not_found")

    def store_message(self, channel: Channel, message: dict[str, Any]) -> None:
        """Keep a posted message; a reply also updates its parent's thread fields, as Slack does."""
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            for parent in self.messages.get(channel.id, []):
                if parent["ts"] == thread_ts:
                    parent["thread_ts"] = thread_ts
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent["latest_reply"] = message["ts"]
        self.messages.setdefault(channel.id, []).append(message)

    def member_channel(self, args: ApiArgs, key: str = "channel") -> Channel:
        """The channel named by ``args[key]``, refused as Slack does when missing or the bot is not in it."""
        channel_id = args.get(key)
        if not channel_id or not isinstance(channel_id, str):
            raise ApiError("channel_not_found")
        channel = self.channel(channel_id)
        if not channel.is_member:
            raise ApiError("not_in_channel")
        return channel
