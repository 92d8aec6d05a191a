"""The Slack stand-in's Web API methods: what ``auth.*``, ``users.*``, ``chat.*`` and ``conversations.*``
answer (``views.*``, ``functions.*`` and ``files.*``: :mod:`bot.devtools.standin_surfaces`).

``WorkspaceState`` (:mod:`bot.devtools.standin_workspace`) is the workspace itself. One instance is shared
by composition: ``SlackStandIn`` configures, inspects and resets it, ``WebApiMethods`` reads and changes it
on each request. Both touch it only under the stand-in's lock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.standin_http import ApiAnswer, ApiArgs, ApiError, int_arg, truthy, ts_micros
from bot.devtools.standin_surfaces import SurfaceMethods
from bot.devtools.standin_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    MAX_BLOCKS,
    MAX_TEXT,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
    WorkspaceState,
    resolve_channel,
)


class WebApiMethods:
    """The Web API method implementations over one workspace.

    Every method is called with the stand-in's lock held and either returns the answer's fields (``ok: true``
    is added by the caller) or raises :class:`ApiError`.
    """

    def __init__(self, workspace: WorkspaceState, root_url: Callable[[], str]) -> None:
        """``root_url`` is the running server's address: the file methods' upload URLs point back at it."""
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
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            **SurfaceMethods(self.workspace, self._root_url).table(),
        }

    # -- checks and shapes shared by several methods -------------------------------------------------

    @staticmethod
    def _check_content(args: ApiArgs) -> None:
        """Refuse a message Slack would refuse, so the bot meets the errors it would meet in production."""
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            raise ApiError("no_text")
        blocks = args.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS):
            raise ApiError("invalid_blocks")
        if "attachments" in args and not isinstance(args["attachments"], list):
            raise ApiError("invalid_attachments")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and "event_type" in metadata and "event_payload" in metadata
        ):
            raise ApiError("invalid_metadata_format")
        if len(str(args.get("text", ""))) > MAX_TEXT:
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
        channel = self.workspace.member_channel(args)
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
        self.workspace.member_channel(args)
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

    def _chat_delete(self, args: ApiArgs) -> ApiAnswer:
        channel = str(args.get("channel", ""))
        message = self.workspace.find_message(channel, args.get("ts"))
        self.workspace.messages[resolve_channel(channel)].remove(message)
        return {"channel": resolve_channel(channel), "ts": message["ts"]}

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
        channel = self.workspace.member_channel(args)
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
        channel = self.workspace.member_channel(args)
        parent = self.workspace.find_message(channel.id, args.get("ts"))
        thread = [parent] + [
            m
            for m in self.workspace.messages.get(channel.id, [])
            if m.get("thread_ts") == parent["ts"] and m is not parent
        ]
        return self._page(thread, args)
