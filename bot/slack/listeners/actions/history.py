"""The "More" button under a page of ``/credits history``: the next (older) page, by keyset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.services.charges.history import read_history
from bot.slack.blocks.history import HistoryCursor, history_blocks, history_text
from bot.slack.context import RequestContext
from bot.slack.payloads import button_value


def handle_history_more_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """Show the next page in place of this one (the clicker's own team's history)."""
    ack()
    try:
        cursor = HistoryCursor.model_validate_json(button_value(body))
    except (KeyError, IndexError, ValidationError):
        raise UserFacingError("That button is out of date; run `/credits history` again.") from None
    ctx = rc
    viewer = ctx.member()
    page = read_history(
        rc.deps.db,
        rc.config,
        workspace_id=rc.workspace_id,
        viewer=viewer,
        days=cursor.days,
        now=rc.now,
        member=cursor.member,
        tool=cursor.tool,
        project=cursor.project,
        since=datetime.fromtimestamp(cursor.since, UTC),
        before=(datetime.fromtimestamp(cursor.at, UTC), cursor.id),
    )
    blocks = history_blocks(page, rc.config.teams[viewer.team].zone, first=False)
    respond(response_type="ephemeral", replace_original=True, text=history_text(page), blocks=blocks)
