"""The "More" button under a page of ``/credits admin audit``: the next page, by keyset on the entry id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.errors import UserFacingError
from bot.services.workspace.access import AdminOnlyError
from bot.services.workspace.audit_trail import read_audit
from bot.slack.answers.admin import audit_zone
from bot.slack.blocks.admin import refusal_text
from bot.slack.blocks.audit import AuditCursor, audit_blocks, audit_text
from bot.slack.context import RequestContext
from bot.slack.payloads import button_value


def handle_audit_more_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """Show the next (older) page in place of this one; the clicker must still be an admin."""
    ack()
    try:
        cursor = AuditCursor.model_validate_json(button_value(body))
    except (KeyError, IndexError, ValidationError):
        raise UserFacingError("That button is out of date; run `/credits admin audit` again.") from None
    ctx = rc
    try:
        page = read_audit(
            rc.deps.db,
            rc.config,
            workspace_id=rc.workspace_id,
            admin=ctx.actor(),
            team=cursor.team,
            days=cursor.days,
            now=rc.now,
            since=datetime.fromtimestamp(cursor.since, UTC),
            before_id=cursor.before,
        )
    except AdminOnlyError as refused:
        raise UserFacingError(refusal_text(refused)) from None
    blocks = audit_blocks(page, audit_zone(ctx, cursor.team), first=False)
    respond(response_type="ephemeral", replace_original=True, text=audit_text(page), blocks=blocks)
