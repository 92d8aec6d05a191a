"""``/credits admin``: roles, limits, top-ups and teams; admins only, each change in the audit trail."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from bot.config import ADMIN_ROLE, CreditsConfig
from bot.domain import ledger as rules
from bot.domain.admin_commands import AdminLimitCommand, AdminRoleCommand, AdminTeamCommand, AdminTopupCommand
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError, unknown_name
from bot.domain.ledger import Balance, EntryKind
from bot.services.balances import open_team_cycle
from bot.services.members import Member, bot_admins
from bot.store import ledger as ledger_store
from bot.store.db import Database
from bot.store.models import MemberRole, RoleLimit, TeamSetting
from bot.store.tasks import add_audit


def require_admin(config: CreditsConfig, member: Member, what: str) -> None:
    """Refuse non-admins, naming who can do it."""
    if not member.is_bot_admin:
        admins = ", ".join(f"<@{user}>" for user in bot_admins(config)) or "a Slack workspace admin"
        raise UserFacingError(f"Only admins can {what}. Ask {admins}.")


def _audit(
    session: Session, member: Member, workspace_id: str, action: str, target: str, now: datetime, **details: object
) -> None:
    add_audit(
        session,
        workspace_id=workspace_id,
        actor=member.user_id,
        action=action,
        target=target,
        details=json.dumps(details, default=str),
        now=now,
    )


def set_role(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminRoleCommand, now: datetime
) -> tuple[str, str]:
    """Give a member a role in a team (the admin's team unless one is named); returns (team, role)."""
    require_admin(config, admin, "change roles")
    if command.role not in config.roles:
        raise unknown_name("role", command.role, config.roles)
    team = command.team or admin.team
    if team not in config.teams:
        raise unknown_name("team", team, config.teams)
    with db.write() as session:
        session.merge(MemberRole(workspace_id=workspace_id, team=team, user_id=command.member, role=command.role))
        before = config.teams[team].members.get(command.member)
        _audit(session, admin, workspace_id, "role", f"{team}/{command.member}", now, before=before, after=command.role)
    return team, command.role


def set_limit(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminLimitCommand, now: datetime
) -> tuple[int | None, int | None]:
    """Change a role's limits; returns the new (task, weekly) limits, None meaning no limit."""
    require_admin(config, admin, "change limits")
    if command.role not in config.roles:
        raise unknown_name("role", command.role, config.roles)
    if command.role == ADMIN_ROLE:
        raise UserFacingError("Admins have no limits; set limits on another role.")
    current = config.roles[command.role]

    def pick(new: int | None, old: int | None) -> int | None:
        if new is None:
            return old
        return None if new < 0 else new

    task_limit = pick(command.task_limit, current.task_limit)
    weekly_limit = pick(command.weekly_limit, current.weekly_limit)
    with db.write() as session:
        session.merge(
            RoleLimit(workspace_id=workspace_id, role=command.role, task_limit=task_limit, weekly_limit=weekly_limit)
        )
        _audit(
            session,
            admin,
            workspace_id,
            "limit",
            command.role,
            now,
            before=[current.task_limit, current.weekly_limit],
            after=[task_limit, weekly_limit],
        )
    return task_limit, weekly_limit


def top_up(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    admin: Member,
    command: AdminTopupCommand,
    request_key: str,
    now: datetime,
) -> Balance:
    """Add extra credits (they never lapse); the request's key makes a redelivery a no-op."""
    require_admin(config, admin, "add extra credits")
    if command.team not in config.teams:
        raise unknown_name("team", command.team, config.teams)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=command.team, now=now)
        written = ledger_store.append_entry(
            session,
            row=row,
            kind=EntryKind.EXTRA,
            delta=rules.add_extra(command.credits),
            idempotency_key=f"topup:{request_key}",
            now=now,
            local_day=local_date(now, config.teams[command.team].zone),
            member=admin.user_id,
            note=command.note,
        )
        if written:
            _audit(session, admin, workspace_id, "topup", command.team, now, credits=command.credits, note=command.note)
        return ledger_store.as_balance(row)


def set_team(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminTeamCommand, now: datetime
) -> bool:
    """Create a team or move it to another channel or plan; returns True when the team is new."""
    require_admin(config, admin, "set up teams")
    if command.plan not in config.plans:
        raise unknown_name("plan", command.plan, config.plans)
    owner = config.team_by_channel.get(command.channel)
    if owner is not None and owner != command.team:
        raise UserFacingError(f"<#{command.channel}> is already team {owner}'s channel; one team per channel.")
    with db.write() as session:
        session.merge(
            TeamSetting(workspace_id=workspace_id, team=command.team, channel=command.channel, plan=command.plan)
        )
        existing = config.teams.get(command.team)
        _audit(
            session,
            admin,
            workspace_id,
            "team",
            command.team,
            now,
            before=[existing.channel, existing.plan] if existing else None,
            after=[command.channel, command.plan],
        )
    return command.team not in config.teams
