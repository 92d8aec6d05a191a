"""Who sent a request and from where, read the same way from any payload (command, click, modal, event)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Parties:
    """The workspace, the user and the channel of one request ("" where the payload has none)."""

    workspace_id: str
    user_id: str
    channel_id: str


def _id(body: dict[str, Any], flat: str, nested: str) -> str:
    """Slash commands carry ``team_id``; interactivity payloads carry ``{"team": {"id": …}}``."""
    value = body.get(flat)
    if not value:
        inner = body.get(nested)
        value = inner.get("id") if isinstance(inner, dict) else None
    return str(value or "")


def parties(body: dict[str, Any]) -> Parties:
    """The workspace, user and channel of any Slack request body."""
    return Parties(
        workspace_id=_id(body, "team_id", "team"),
        user_id=_id(body, "user_id", "user"),
        channel_id=_id(body, "channel_id", "channel"),
    )


def button_value(body: dict[str, Any]) -> str:
    """The clicked button's value ("" when it carries none); KeyError or IndexError when nothing was clicked."""
    return str(body["actions"][0].get("value", ""))
