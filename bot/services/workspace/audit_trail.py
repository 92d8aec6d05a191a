"""The audit trail: every decision and admin change, who made it and when; admins read it with ``admin audit``.

``record_decision`` is the one function every decision calls (approve, deny, expire, withdraw, the
release of a stale hold; a flagged overrun and an adjustment too), inside the transaction that makes
the decision, so the trail never shows a decision that was rolled back nor misses one that was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain.admin_commands import AUDIT_MAX_DAYS
from bot.domain.errors import UserFacingError, unknown_name
from bot.services.workspace.access import require_admin
from bot.services.workspace.members import Member
from bot.store import audit as store
from bot.store.db import Database

SYSTEM_ACTOR = "system"
"""The actor of what the bot decided itself (an expiry, a withdrawal, a stale hold's release)."""

PAGE_SIZE = 15


def record_decision(
    session: Session,
    *,
    workspace_id: str,
    team: str,
    action: str,
    actor: str = SYSTEM_ACTOR,
    target: str,
    now: datetime,
    **details: object,
) -> None:
    """Write one audit entry for a decision in the caller's transaction.

    ``action`` is a short verb (``approve``, ``deny``, ``expire``, ``withdraw``, ``release_stale``,
    ``overrun_flagged``, ``adjust``), ``target`` what it concerns (``task #12``), ``details`` any
    figures worth keeping (stored as JSON).
    """
    store.add_entry(
        session,
        workspace_id=workspace_id,
        team=team,
        actor=actor,
        action=action,
        target=target,
        details=json.dumps(details, default=str, sort_keys=True),
        now=now,
    )


@dataclass(frozen=True)
class AuditLine:
    """One entry as an admin reads it."""

    id: int
    at: datetime
    team: str | None
    actor: str
    action: str
    target: str
    details: dict[str, object]


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first; ``next_before`` names the next page (None: this is the last)."""

    team: str | None
    since: datetime
    days: int
    lines: list[AuditLine]
    next_before: int | None


def _details(text: str) -> dict[str, object]:
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:
        return {"details": text}
    return loaded if isinstance(loaded, dict) else {"details": loaded}


def read_audit(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    admin: Member,
    team: str | None,
    days: int,
    now: datetime,
    since: datetime | None = None,
    before_id: int | None = None,
) -> AuditPage:
    """A page of the audit trail (admins only): the last ``days`` days, one team or all, by keyset on the id."""
    require_admin(config, admin, "read the audit trail")
    if team is not None and team not in config.teams:
        raise unknown_name("team", team, config.teams)
    if not 1 <= days <= AUDIT_MAX_DAYS:
        raise UserFacingError(f"`days={days}` is out of range; give 1 to {AUDIT_MAX_DAYS}, e.g. `days=30`.")
    start = since or now - timedelta(days=days)
    with db.read() as session:
        rows = store.entries_page(
            session, workspace_id=workspace_id, team=team, since=start, before_id=before_id, limit=PAGE_SIZE + 1
        )
        lines = [
            AuditLine(int(r.id or 0), r.created_at, r.team, r.actor, r.action, r.target, _details(r.details))
            for r in rows[:PAGE_SIZE]
        ]
    more = len(rows) > PAGE_SIZE
    return AuditPage(team, start, days, lines, lines[-1].id if more and lines else None)
