"""Who may change a workspace's setup, and the audit entry every change writes."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain.errors import UserFacingError
from bot.services.workspace.members import Member, bot_admins
from bot.store import audit as audit_store


class AdminOnlyError(UserFacingError):
    """A non-admin asked for an admin change; ``admins`` are the members who could make it."""

    def __init__(self, what: str, admins: tuple[str, ...]) -> None:
        super().__init__(f"Only admins can {what}. Ask {', '.join(admins) or 'a Slack workspace admin'}.")
        self.what = what
        self.admins = admins


def require_admin(config: CreditsConfig, member: Member, what: str) -> None:
    """Refuse non-admins, naming who can do it."""
    if not member.is_bot_admin:
        raise AdminOnlyError(what, tuple(bot_admins(config)))


def _audit(
    session: Session,
    member: Member,
    workspace_id: str,
    action: str,
    target: str,
    now: datetime,
    *,
    team: str | None,
    **details: object,
) -> None:
    audit_store.add_entry(
        session,
        workspace_id=workspace_id,
        team=team,
        actor=member.user_id,
        action=action,
        target=target,
        details=json.dumps(details, default=str),  # in the order given: before, then after
        now=now,
    )


audit_change = _audit
"""An admin change in the audit trail, for admin commands whose use case lives in another service."""
