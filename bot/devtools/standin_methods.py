"""The Slack stand-in's workspace and its Web API methods: what ``chat.*``, ``users.*``, ``conversations.*``,
``files.*`` and ``views.*`` answer.

``WorkspaceState`` is the workspace itself (users, channels, messages, views, files, id and timestamp
counters). One instance is shared by composition: ``SlackStandIn`` configures, inspects and resets it,
``WebApiMethods`` reads and changes it on each request. Both touch it only under the stand-in's lock.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.standin_http import ApiAnswer, ApiArgs, ApiError, int_arg, truthy, ts_micros

TEAM_ID = "T0STANDIN"
TEAM_NAME = "Stand-in"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0STANDIN"
WORKSPACE_URL = "https://standin.slack.com/"
_MAX_BLOCKS = 50
_MAX_TEXT = 40_000


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


class WebApiMethods:
    """The Web API method implementations over one workspace.

    Every method is called with the stand-in's lock held and either returns the answer's fields (``ok: true``
    is added by the caller) or raises :class:`ApiError`.
    """

    def __init__(self, workspace: WorkspaceState, root_url: Callable[[], str]) -> None:
        """``root_url`` is the running server's address: upload URLs point back at it."""
        self.workspace = workspace
        self._root_url = root_url

    def table(self) -> dict[str, Callable[[ApiArgs], ApiAnswer]]:
        """Web API method name to implementation; a name not in here answers ``unknown_method``."""
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": self._users_list,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- checks and shapes shared by several methods -------------------------------------------------

    def _member_channel(self, args: ApiArgs, key: str = "channel") -> Channel:
        """The channel named by ``args[key]``, refused as Slack does when missing or the bot is not in it."""
        channel_id = args.get(key)
        if not channel_id or not isinstance(channel_id, str):
            raise ApiError("channel_not_found")
        channel = self.workspace.channel(channel_id)
        if not channel.is_member:
            raise ApiError("not_in_channel")
        return channel

    @staticmethod
    def _check_content(args: ApiArgs) -> None:
        """Refuse a message Slack would refuse, so the bot meets the errors it would meet in production."""
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise ApiError("no_text")
        blocks = args.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > _MAX_BLOCKS):
            raise ApiError("invalid_blocks")
        if "attachments" in args and not isinstance(args["attachments"], list):
            raise ApiError("invalid_attachments")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and "event_type" in metadata and "event_payload" in metadata
        ):
            raise ApiError("invalid_metadata_format")
        if len(str(args.get("text", ""))) > _MAX_TEXT:
            raise ApiError("msg_too_long")

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
        user = self.workspace.users.get(str(args.get("user", "")))
        if user is None:
            raise ApiError("user_not_found")
        user = copy.deepcopy(user)
        zone = ZoneInfo(user["tz"])
        now = datetime.now(zone)
        offset = now.utcoffset()
        user["tz_label"] = now.tzname()
        user["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        if truthy(args.get("include_locale")):
            user["locale"] = "en-US"
        return {"user": user}

    def _users_list(self, args: ApiArgs) -> ApiAnswer:
        """Every user, bots and deactivated ones included, as Slack pages them: ``limit``, ``cursor``.

        No ``limit`` (or 0) asks for everything at once; ``response_metadata.next_cursor`` is empty on the
        last page; an unknown cursor is ``invalid_cursor``; ``cache_ts`` is when the list was read.
        """
        users = [copy.deepcopy(u) for u in self.workspace.users.values()]
        limit = int_arg(args, "limit", 0) or len(users) or 1
        cursor = str(args.get("cursor") or "")
        if cursor and not cursor.startswith("standin:"):
            raise ApiError("invalid_cursor")
        start = int(cursor.removeprefix("standin:")) if cursor else 0
        page = users[start : start + limit]
        for user in page:
            if truthy(args.get("include_locale")):
                user["locale"] = "en-US"
        more = start + limit < len(users)
        return {
            "members": page,
            "cache_ts": int(self.workspace.clock()),
            "response_metadata": {"next_cursor": f"standin:{start + limit}" if more else ""},
        }

    def _users_lookup_by_email(self, args: ApiArgs) -> ApiAnswer:
        """Slack's answer for an address it knows (``users:read.email``), else ``users_not_found``."""
        email = str(args.get("email") or "").strip().lower()
        if not email:
            raise ApiError("invalid_arguments")
        for user in self.workspace.users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"user": copy.deepcopy(user)}
        raise ApiError("users_not_found")

    def _conversations_open(self, args: ApiArgs) -> ApiAnswer:
        """A direct message with one user (``im:write``): its channel, made up on first use."""
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if args.get("channel"):
            return {"channel": {"id": self.workspace.channel(str(args["channel"])).id}}
        if len(users) != 1:
            raise ApiError("invalid_arguments" if not users else "not_enough_users")
        if users[0] not in self.workspace.users:
            raise ApiError("user_not_found")
        channel = self.workspace.channel(users[0])
        return {"no_op": True, "already_open": True, "channel": {"id": channel.id}}

    def _chat_post_message(self, args: ApiArgs) -> ApiAnswer:
        channel = self._member_channel(args)
        self._check_content(args)
        ts = self.workspace.next_ts()
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
        self.workspace.store_message(channel, message)
        return {"channel": channel.id, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: ApiArgs) -> ApiAnswer:
        self._member_channel(args)
        if not args.get("user"):
            raise ApiError("user_not_found")
        self._check_content(args)
        return {"message_ts": self.workspace.next_ts()}

    def _chat_update(self, args: ApiArgs) -> ApiAnswer:
        channel = str(args.get("channel", ""))
        message = self.workspace.find_message(channel, args.get("ts"))
        changes: dict[str, Any] = {k: args[k] for k in ("text", "blocks", "attachments", "metadata") if k in args}
        self._check_content({**message, **changes})
        message.update(changes)
        message["edited"] = {"user": BOT_USER_ID, "ts": self.workspace.next_ts()}
        resolved = resolve_channel(channel)
        return {
            "channel": resolved,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_get_permalink(self, args: ApiArgs) -> ApiAnswer:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if not channel:
            raise ApiError("channel_not_found")
        if not ts:
            raise ApiError("message_not_found")
        channel = resolve_channel(channel)
        permalink = self._permalink(channel, ts)
        known = [m for m in self.workspace.messages.get(channel, []) if m["ts"] == ts]
        if known and known[0].get("thread_ts") not in (None, ts):
            permalink += f"?thread_ts={known[0]['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _conversations_info(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("channel"):
            raise ApiError("channel_not_found")
        channel = self.workspace.channel(str(args["channel"]))
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
        limit = max(1, min(int_arg(args, "limit", 100), 999))
        cursor = str(args.get("cursor") or "")
        start = int(cursor.removeprefix("standin:")) if cursor.startswith("standin:") else 0
        include_metadata = truthy(args.get("include_all_metadata"))
        page = [self._visible(m, include_metadata) for m in messages[start : start + limit]]
        has_more = start + limit < len(messages)
        next_cursor = f"standin:{start + limit}" if has_more else ""
        return {"messages": page, "has_more": has_more, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_history(self, args: ApiArgs) -> ApiAnswer:
        """Top-level messages only (replies stay in their thread), newest first, within oldest/latest."""
        channel = self._member_channel(args)
        oldest = ts_micros(args.get("oldest") or 0)
        latest = ts_micros(args["latest"], "invalid_ts_latest") if args.get("latest") else None
        inclusive = truthy(args.get("inclusive"))

        def in_range(ts: int) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        top_level = [
            m
            for m in self.workspace.messages.get(channel.id, [])
            if m.get("thread_ts") in (None, m["ts"]) and in_range(ts_micros(m["ts"]))
        ]
        return self._page(list(reversed(top_level)), args)

    def _conversations_replies(self, args: ApiArgs) -> ApiAnswer:
        """The thread's parent first, then its replies oldest first."""
        channel = self._member_channel(args)
        parent = self.workspace.find_message(channel.id, args.get("ts"))
        thread = [parent] + [
            m
            for m in self.workspace.messages.get(channel.id, [])
            if m.get("thread_ts") == parent["ts"] and m is not parent
        ]
        return self._page(thread, args)

    def _views_open(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("trigger_id"):
            raise ApiError("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        view_id = self.workspace.new_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
            "hash": self.workspace.next_ts(),
            "state": {"values": {}},
        }
        self.workspace.views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: ApiArgs) -> ApiAnswer:
        """Replace a view by id or ``external_id``; a stale ``hash`` is refused, as Slack guards races."""
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            found = [v for v in self.workspace.views.values() if v.get("external_id") == args["external_id"]]
            view_id = found[0]["id"] if found else None
        if not view_id or view_id not in self.workspace.views:
            raise ApiError("not_found")
        current = self.workspace.views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = args.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        keep = {k: current[k] for k in ("id", "team_id", "app_id", "bot_id", "root_view_id", "state")}
        self.workspace.views[view_id] = {**view, **keep, "hash": self.workspace.next_ts()}
        return {"view": copy.deepcopy(self.workspace.views[view_id])}

    def _views_publish(self, args: ApiArgs) -> ApiAnswer:
        """Publish a user's Home tab: ``user_id`` and a ``view`` of type ``home``; a stale ``hash`` is refused."""
        user = str(args.get("user_id") or "")
        if user not in self.workspace.users:
            raise ApiError("invalid_arguments" if not user else "user_not_found")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "home" or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        if len(view["blocks"]) > 100:
            raise ApiError("invalid_arguments")
        current = self.workspace.home_views.get(user)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view_id = current["id"] if current else self.workspace.new_id("V")
        stored = {**view, "id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": BOT_ID}
        stored |= {"root_view_id": view_id, "previous_view_id": None, "state": {"values": {}}}
        stored["hash"] = self.workspace.next_ts()
        self.workspace.home_views[user] = stored
        return {"view": copy.deepcopy(stored)}

    def _function_execution(self, args: ApiArgs) -> str:
        execution = str(args.get("function_execution_id") or "")
        if not execution:
            raise ApiError("invalid_arguments")
        if execution in self.workspace.function_results:
            raise ApiError("function_execution_not_found")  # Slack: already completed
        return execution

    def _functions_complete_success(self, args: ApiArgs) -> ApiAnswer:
        """Complete a workflow step with its ``outputs`` (an object keyed by output parameter name)."""
        execution = self._function_execution(args)
        outputs = args.get("outputs")
        if isinstance(outputs, str):  # form-encoded calls carry the object as JSON text, as Slack accepts
            try:
                outputs = json.loads(outputs)
            except ValueError:
                raise ApiError("invalid_arguments") from None
        if not isinstance(outputs, dict):
            raise ApiError("invalid_arguments")
        self.workspace.function_results[execution] = {"outputs": outputs}
        return {}

    def _functions_complete_error(self, args: ApiArgs) -> ApiAnswer:
        """Fail a workflow step with an ``error`` message shown to the workflow's users."""
        execution = self._function_execution(args)
        if not args.get("error"):
            raise ApiError("invalid_arguments")
        self.workspace.function_results[execution] = {"error": str(args["error"])}
        return {}

    def _files_get_upload_url(self, args: ApiArgs) -> ApiAnswer:
        length = int_arg(args, "length", -1)
        if not args.get("filename") or length < 0:
            raise ApiError("invalid_arguments")
        file_id = self.workspace.new_id("F")
        self.workspace.pending_files[file_id] = {"name": args["filename"], "length": length}
        return {"upload_url": f"{self._root_url()}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: ApiArgs) -> ApiAnswer:
        """Finish uploads already posted to their upload URLs, and share them in the target channels."""
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        files: list[dict[str, Any]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            if file_id not in self.workspace.uploads:
                raise ApiError("file_not_found")
            name = self.workspace.pending_files[file_id]["name"]
            files.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": entry.get("title") or name,
                    "size": len(self.workspace.uploads[file_id]),
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
                "ts": self.workspace.next_ts(),
                "files": copy.deepcopy(files),
                "upload": True,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self.workspace.store_message(channel, message)
        return {"files": files}
