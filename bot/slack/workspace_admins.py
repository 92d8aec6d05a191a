"""Slack workspace admins and owners, asked of Slack and cached briefly; and the member ids Slack does not know."""

from __future__ import annotations

import logging
import threading

from cachetools import TTLCache
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)


ADMIN_CACHE_SECONDS = 600


class WorkspaceAdmins:
    """Slack workspace admins and owners are admins of the bot; ``users.info`` says who, cached briefly."""

    def __init__(self, ttl_seconds: float = ADMIN_CACHE_SECONDS) -> None:
        self._cache: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=4096, ttl=ttl_seconds)
        self._lists: TTLCache[str, tuple[str, ...]] = TTLCache(maxsize=64, ttl=ttl_seconds)
        self._unknown: set[tuple[str, str]] = set()  # ids Slack answered user_not_found to, for this process
        self._lock = threading.Lock()

    def is_unknown(self, workspace_id: str, user_id: str) -> bool:
        """Slack answered ``user_not_found`` for this member id (a typo in ``admin role``, an account removed)."""
        with self._lock:
            return (workspace_id, user_id) in self._unknown

    def mark_unknown(self, workspace_id: str, user_id: str) -> None:
        """Remember that Slack does not know this member id (until the process restarts)."""
        with self._lock:
            self._unknown.add((workspace_id, user_id))

    def everyone(self, client: WebClient, workspace_id: str) -> list[str]:
        """The workspace's admins and owners (``users.list``, every page; no bots, no deactivated accounts).

        Cached like ``is_admin``; a refusal (a missing scope, Slack down) is logged and gives an empty list,
        not cached, so the next call asks again.
        """
        with self._lock:
            if workspace_id in self._lists:
                return list(self._lists[workspace_id])
        found: list[str] = []
        try:
            for page in client.users_list(limit=200):  # slack_sdk follows next_cursor
                for user in page.get("members") or []:
                    if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                        continue
                    if user.get("is_admin") or user.get("is_owner"):
                        found.append(str(user["id"]))
        except SlackApiError as exc:
            logger.warning(
                "users.list failed (%s); the workspace's admins are unknown for now", exc.response.get("error")
            )
            return []
        admins = tuple(sorted(set(found)))
        with self._lock:
            self._lists[workspace_id] = admins
            for user in admins:
                self._cache[(workspace_id, user)] = True
        return list(admins)

    def known(self, workspace_id: str, user_id: str) -> bool | None:
        """Whether the user is a workspace admin, if cached (None: only ``users.info`` can say); never calls Slack.

        For the checks before an ack, which must not wait on the Web API.
        """
        with self._lock:
            return self._cache.get((workspace_id, user_id))

    def is_admin(self, client: WebClient, workspace_id: str, user_id: str) -> bool:
        """Whether Slack marks the user as a workspace admin or owner."""
        key = (workspace_id, user_id)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        try:
            user = client.users_info(user=user_id).get("user") or {}
            answer = bool(user.get("is_admin") or user.get("is_owner"))
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                answer = False
                with self._lock:
                    self._cache[key] = answer
                    self._unknown.add(key)
                return answer
            logger.warning(
                "users.info failed for a user (%s); treating them as a regular member",
                exc.response.get("error"),
            )
            return False
        with self._lock:
            self._cache[key] = answer
        return answer
