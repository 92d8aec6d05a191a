"""The global shortcut "Quote a Keter Labs task": open the quote form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.slack.context import RequestContext
from bot.slack.flows.quote_form import first_team, new_form


def handle_quote_shortcut(ack: Ack, body: dict[str, Any], client: WebClient, rc: RequestContext) -> None:
    """Open the form for the member's team (the first, when in several)."""
    ack()
    ctx = rc.for_command("", channel_id="")
    client.views_open(
        trigger_id=body["trigger_id"], view=new_form(ctx, first_team(ctx, _own_first(rc.config, rc.user_id)))
    )


def _own_first(config: CreditsConfig, user_id: str) -> str | None:
    return next((name for name, team in config.teams.items() if user_id in team.members), None)
