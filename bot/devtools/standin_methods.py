"""The Slack stand-in's Web API methods: what ``chat.*``, ``users.*``, ``conversations.*``, ``files.*`` and
``views.*`` answer, and the workspace state (users, channels, messages, views, files) they read and change.

Kept apart from :mod:`bot.devtools.slack_standin`, which owns that state, the lock, the recording of calls and
fault injection, so that each method's Slack semantics can be read in one place. The methods live on a mixin
rather than in free functions because they share the stand-in's state and its timestamp and id counters;
:meth:`_StandInMethods._method_table` is the dispatch table from Web API method name to implementation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.devtools.standin_http import ApiAnswer, ApiArgs, _ApiError, _int_arg, _truthy, _ts_micros

TEAM_ID = "T0STANDIN"
TEAM_NAME = "Stand-in"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0STANDIN"
WORKSPACE_URL = "https://standin.slack.com/"
_MAX_BLOCKS = 50
_MAX_TEXT = 40_000


@dataclass
class _Channel:
    """What the stand-in knows of a channel (or a DM): enough for ``conversations.info`` and membership checks."""

    id: str
    name: str
    is_member: bool = True
    is_private: bool = False


class _StandInMethods:
    """The Web API method implementations, mixed into ``SlackStandIn``.

    Every method is called with the stand-in's lock held and either returns the answer's fields (``ok: true``
    is added by the caller) or raises :class:`_ApiError`. The state below is initialised by
    ``SlackStandIn.__init__``; it is only declared here so the implementations type-check.
    """

    _clock: Callable[[], float]
    _ids: Iterator[int]
    _last_ts: int
    uploads: dict[str, bytes]
    _users: dict[str, dict[str, Any]]
    _channels: dict[str, _Channel]
    _messages: dict[str, list[dict[str, Any]]]
    _views: dict[str, dict[str, Any]]
    _pending_files: dict[str, dict[str, Any]]

    if TYPE_CHECKING:

        @property
        def root_url(self) -> str:
            """Provided by ``SlackStandIn``: upload URLs point back at the running server."""
            ...

    def _method_table(self) -> dict[str, Callable[[ApiArgs], ApiAnswer]]:
        """Web API method name to implementation; a name not in here answers ``unknown_method``."""
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- helpers for the method implementations (called with the lock held) ------------------------

    def _new_id(self, prefix: str) -> str:
        """A fresh Slack-shaped id (``V0STANDIN0001``); the prefix letter says what kind, as on Slack."""
        return f"{prefix}0STANDIN{next(self._ids):04d}"

    def _next_ts(self) -> str:
        """Unique, increasing timestamps taken from the (possibly pinned) clock."""
        self._last_ts = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    @staticmethod
    def _resolve_channel(channel: str) -> str:
        """Posting to a user ID lands in the DM with that user, as on Slack."""
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _channel(self, channel_id: str) -> _Channel:
        """The channel (or DM) by id, made up on first use so tests need not declare every channel."""
        channel_id = self._resolve_channel(channel_id)
        if channel_id not in self._channels:
            self._channels[channel_id] = _Channel(channel_id, f"channel-{channel_id.lower()}")
        return self._channels[channel_id]

    def _member_channel(self, args: ApiArgs, key: str = "channel") -> _Channel:
        """The channel named by ``args[key]``, refused as Slack does when missing or the bot is not in it."""
        channel_id = args.get(key)
        if not channel_id or not isinstance(channel_id, str):
            raise _ApiError("channel_not_found")
        channel = self._channel(channel_id)
        if not channel.is_member:
            raise _ApiError("not_in_channel")
        return channel

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        """The stored message itself (not a copy), so ``chat.update`` can change it in place."""
        for message in self._messages.get(self._resolve_channel(channel), []):
            if message["ts"] == ts:
                return message
        raise _ApiError("message_not_found")

    @staticmethod
    def _check_content(args: ApiArgs) -> None:
        """Refuse a message Slack would refuse, so the bot meets the errors it would meet in production."""
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise _ApiError("no_text")
        blocks = args.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > _MAX_BLOCKS):
            raise _ApiError("invalid_blocks")
        if "attachments" in args and not isinstance(args["attachments"], list):
            raise _ApiError("invalid_attachments")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and "event_type" in metadata and "event_payload" in metadata
        ):
            raise _ApiError("invalid_metadata_format")
        if len(str(args.get("text", ""))) > _MAX_TEXT:
            raise _ApiError("msg_too_long")

    def _store_message(self, channel: _Channel, message: dict[str, Any]) -> None:
        """Keep a posted message; a reply also updates its parent's thread fields, as Slack does."""
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            for parent in self._messages.get(channel.id, []):
                if parent["ts"] == thread_ts:
                    parent["thread_ts"] = thread_ts
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent["latest_reply"] = message["ts"]
        self._messages.setdefault(channel.id, []).append(message)

    @staticmethod
    def _permalink(channel: str, ts: str) -> str:
        """A permalink in Slack's shape: the ts without its dot, prefixed with ``p``."""
        return f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}"

    # -- Web API methods -----------------------------------------------------------------------------

    def _auth_test(self, args: ApiArgs) -> ApiAnswer:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": "credits",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: ApiArgs) -> ApiAnswer:
        user = self._users.get(str(args.get("user", "")))
        if user is None:
            raise _ApiError("user_not_found")
        user = copy.deepcopy(user)
        zone = ZoneInfo(user["tz"])
        now = datetime.now(zone)
        offset = now.utcoffset()
        user["tz_label"] = now.tzname()
        user["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        if _truthy(args.get("include_locale")):
            user["locale"] = "en-US"
        return {"user": user}

    def _chat_post_message(self, args: ApiArgs) -> ApiAnswer:
        channel = self._member_channel(args)
        self._check_content(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text") or args.get("markdown_text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key) is not None:
                message[key] = args[key]
        self._store_message(channel, message)
        return {"channel": channel.id, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: ApiArgs) -> ApiAnswer:
        self._member_channel(args)
        if not args.get("user"):
            raise _ApiError("user_not_found")
        self._check_content(args)
        return {"message_ts": self._next_ts()}

    def _chat_update(self, args: ApiArgs) -> ApiAnswer:
        channel = str(args.get("channel", ""))
        message = self._find_message(channel, args.get("ts"))
        changes: dict[str, Any] = {k: args[k] for k in ("text", "blocks", "attachments", "metadata") if k in args}
        self._check_content({**message, **changes})
        message.update(changes)
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        resolved = self._resolve_channel(channel)
        return {
            "channel": resolved,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_get_permalink(self, args: ApiArgs) -> ApiAnswer:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if not channel:
            raise _ApiError("channel_not_found")
        if not ts:
            raise _ApiError("message_not_found")
        channel = self._resolve_channel(channel)
        permalink = self._permalink(channel, ts)
        known = [m for m in self._messages.get(channel, []) if m["ts"] == ts]
        if known and known[0].get("thread_ts") not in (None, ts):
            permalink += f"?thread_ts={known[0]['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _conversations_info(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("channel"):
            raise _ApiError("channel_not_found")
        channel = self._channel(str(args["channel"]))
        is_im = channel.id.startswith("D")
        return {
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": not (channel.is_private or is_im),
                "is_group": channel.is_private,
                "is_im": is_im,
                "is_private": channel.is_private or is_im,
                "is_archived": False,
                "is_member": channel.is_member,
                "context_team_id": TEAM_ID,
            }
        }

    def _visible(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        """A copy as a reader sees it: Slack leaves out ``metadata`` unless asked for it."""
        shown = copy.deepcopy(message)
        if not include_metadata:
            shown.pop("metadata", None)
        return shown

    def _page(self, messages: list[dict[str, Any]], args: ApiArgs) -> ApiAnswer:
        """Apply ``limit``/``cursor`` the way Slack pages: ``has_more`` plus an opaque next cursor."""
        limit = max(1, min(_int_arg(args, "limit", 100), 999))
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("standin:")) if cursor.startswith("standin:") else 0
        include_metadata = _truthy(args.get("include_all_metadata"))
        page = [self._visible(m, include_metadata) for m in messages[start : start + limit]]
        has_more = start + limit < len(messages)
        next_cursor = f"standin:{start + limit}" if has_more else ""
        return {"messages": page, "has_more": has_more, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_history(self, args: ApiArgs) -> ApiAnswer:
        """Top-level messages only (replies stay in their thread), newest first, within oldest/latest."""
        channel = self._member_channel(args)
        oldest = _ts_micros(args.get("oldest") or 0)
        latest = _ts_micros(args["latest"], "invalid_ts_latest") if args.get("latest") else None
        inclusive = _truthy(args.get("inclusive"))

        def in_range(ts: int) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        top_level = [
            m
            for m in self._messages.get(channel.id, [])
            if m.get("thread_ts") in (None, m["ts"]) and in_range(_ts_micros(m["ts"]))
        ]
        return self._page(list(reversed(top_level)), args)

    def _conversations_replies(self, args: ApiArgs) -> ApiAnswer:
        """The thread's parent first, then its replies oldest first."""
        channel = self._member_channel(args)
        parent = self._find_message(channel.id, args.get("ts"))
        thread = [parent] + [
            m for m in self._messages.get(channel.id, []) if m.get("thread_ts") == parent["ts"] and m is not parent
        ]
        return self._page(thread, args)

    def _views_open(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("trigger_id"):
            raise _ApiError("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not isinstance(view.get("blocks"), list):
            raise _ApiError("invalid_arguments")
        view_id = self._new_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
            "hash": self._next_ts(),
            "state": {"values": {}},
        }
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: ApiArgs) -> ApiAnswer:
        """Replace a view by id or ``external_id``; a stale ``hash`` is refused, as Slack guards races."""
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            found = [v for v in self._views.values() if v.get("external_id") == args["external_id"]]
            view_id = found[0]["id"] if found else None
        if not view_id or view_id not in self._views:
            raise _ApiError("not_found")
        current = self._views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = args.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("blocks"), list):
            raise _ApiError("invalid_arguments")
        keep = {k: current[k] for k in ("id", "team_id", "app_id", "bot_id", "root_view_id", "state")}
        self._views[view_id] = {**view, **keep, "hash": self._next_ts()}
        return {"view": copy.deepcopy(self._views[view_id])}

    def _files_get_upload_url(self, args: ApiArgs) -> ApiAnswer:
        length = _int_arg(args, "length", -1)
        if not args.get("filename") or length < 0:
            raise _ApiError("invalid_arguments")
        file_id = self._new_id("F")
        self._pending_files[file_id] = {"name": args["filename"], "length": length}
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: ApiArgs) -> ApiAnswer:
        """Finish uploads already posted to their upload URLs, and share them in the target channels."""
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        files: list[dict[str, Any]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            if file_id not in self.uploads:
                raise _ApiError("file_not_found")
            name = self._pending_files[file_id]["name"]
            files.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": entry.get("title") or name,
                    "size": len(self.uploads[file_id]),
                    "user": BOT_USER_ID,
                    "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{file_id}/{name}",
                }
            )
        targets = [str(args["channel_id"])] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        for channel in [self._member_channel({"channel": target}) for target in targets]:
            message: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": args.get("initial_comment") or "",
                "ts": self._next_ts(),
                "files": copy.deepcopy(files),
                "upload": True,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self._store_message(channel, message)
        return {"files": files}
