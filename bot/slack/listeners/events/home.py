"""``app_home_opened``: publish the member's Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.slack.outbound.home_tabs import publish_home


def handle_app_home_opened(
    event: dict[str, Any], client: WebClient, deps: Deps, config: CreditsConfig, workspace_id: str
) -> None:
    """Only the Home tab is ours to draw; the Messages tab needs nothing."""
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(deps, client, config, workspace_id, str(event["user"]))
