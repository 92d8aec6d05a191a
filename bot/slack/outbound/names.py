"""Members' display names (``users.info``), cached, so a digest or a CSV names people without pinging them.

The one way every surface that lists members by name resolves them: the posted digest, its preview
and the history CSV. A member Slack cannot say (a refusal, a missing scope) is shown as a mention.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

NAME_CACHE_SECONDS = 600

_cache: TTLCache[tuple[str, str], str] = TTLCache(maxsize=8192, ttl=NAME_CACHE_SECONDS)
_lock = threading.Lock()


def _display_name(info: dict[str, object]) -> str | None:
    profile = info.get("profile")
    shown = profile.get("display_name") if isinstance(profile, dict) else None
    for name in (shown, info.get("real_name"), info.get("name")):
        if isinstance(name, str) and name:
            return name
    return None


def member_names(client: WebClient, users: Iterable[str]) -> dict[str, str]:
    """Each user's display name (else real name, else handle); ``<@U…>`` when Slack cannot say (not cached)."""
    names: dict[str, str] = {}
    for user in dict.fromkeys(users):
        key = (client.base_url, user)
        with _lock:
            cached = _cache.get(key)
        if cached is not None:
            names[user] = cached
            continue
        try:
            info = client.users_info(user=user).get("user") or {}
        except SlackApiError:
            names[user] = f"<@{user}>"
            continue
        name = _display_name(info) or f"<@{user}>"
        with _lock:
            _cache[key] = name
        names[user] = name
    return names
