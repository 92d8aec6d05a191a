"""``/credits admin``: roles, limits, top-ups and teams; admins only, each change in the audit trail.

Each use case returns what it changed as data; ``bot.slack.blocks.admin`` words it (mentions included).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.credits_file import ADMIN_ROLE, CreditsConfig
from bot.domain import ledger as rules
from bot.domain.admin_commands import (
    AdminAdjustCommand,
    AdminLimitCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
)
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError, unknown_name
from bot.domain.ledger import Balance, EntryKind
from bot.services.balances.team_balances import open_team_cycle
from bot.services.workspace.access import _audit, require_admin
from bot.services.workspace.effective_config import REMOVED_ROLE
from bot.services.workspace.members import Member
from bot.store import ledger_reads, ledger_writes, overrides
from bot.store.db import Database


class ChannelTakenError(UserFacingError):
    """A team was to move into a channel that is already another team's."""

    def __init__(self, channel: str, owner: str) -> None:
        super().__init__(f"{channel} is already team {owner}'s channel; one team per channel.")
        self.channel = channel
        self.owner = owner


class KeterNameTakenError(UserFacingError):
    """A new team whose name is already another team's Keter Labs name (``keter_team``): it would take its charges."""

    def __init__(self, team: str, owner: str) -> None:
        super().__init__(
            f"{team} is already the Keter Labs name of team {owner} (its `keter_team` in the credits file), "
            "so the charge feed could not tell them apart; pick another name for the new team."
        )
        self.team = team
        self.owner = owner


class NotInTeamError(UserFacingError):
    """``admin role @member none`` for someone who is not in the team: nothing to remove."""

    def __init__(self, member: str, team: str) -> None:
        super().__init__(f"{member} is not a member of team {team}; nothing to remove.")
        self.member = member
        self.team = team


@dataclass(frozen=True)
class RoleSet:
    """``/credits admin role``: ``member`` now has ``role`` in ``team``."""

    member: str
    team: str
    role: str
    changed: bool = True  # False: it already was, so nothing was written (no audit entry)


@dataclass(frozen=True)
class LimitsSet:
    """``/credits admin limit``: the role's new limits, None meaning no limit."""

    role: str
    task_limit: int | None
    weekly_limit: int | None
    changed: bool = True


@dataclass(frozen=True)
class ToppedUp:
    """``/credits admin topup``: credits added and the team's balance after them."""

    team: str
    credits: int
    balance: Balance


@dataclass(frozen=True)
class Adjusted:
    """``/credits admin adjust``: the signed correction, its reason and the team's balance after it."""

    team: str
    credits: int
    reason: str
    balance: Balance


@dataclass(frozen=True)
class TeamSet:
    """``/credits admin team``: the team's channel and plan, and whether it is new."""

    team: str
    channel: str
    plan: str
    created: bool
    timezone: str = "UTC"
    changed: bool = True


AdminChange = RoleSet | LimitsSet | ToppedUp | Adjusted | TeamSet


NO_ROLE = REMOVED_ROLE


@dataclass(frozen=True)
class TeamMember:
    """One line of ``/credits admin members``: a member's role and where it comes from."""

    user_id: str
    role: str
    source: str  # "file" (the credits file) or "command" (``/credits admin role``)


@dataclass(frozen=True)
class TeamRoster:
    """``/credits admin members [team]``: a team's members, and who an admin removed by command."""

    team: str
    members: tuple[TeamMember, ...]
    removed: tuple[str, ...]


def team_roster(config: CreditsConfig, base: CreditsConfig, *, admin: Member, team: str | None) -> TeamRoster:
    """Each member's role in the team and whether it comes from the credits file or a command."""
    require_admin(config, admin, "list members")
    name = team or admin.team
    if name not in config.teams:
        raise unknown_name("team", name, config.teams)
    in_file = base.teams[name].members if name in base.teams else {}
    members = tuple(
        TeamMember(user, role, "file" if in_file.get(user) == role else "command")
        for user, role in sorted(config.teams[name].members.items(), key=lambda item: (item[1], item[0]))
    )
    removed = tuple(sorted(user for user in in_file if user not in config.teams[name].members))
    return TeamRoster(name, members, removed)


def set_role(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminRoleCommand, now: datetime
) -> RoleSet:
    """Give a member a role in a team (the admin's team unless one is named)."""
    require_admin(config, admin, "change roles")
    if command.role not in config.roles and command.role != NO_ROLE:
        raise unknown_name("role", command.role, [*config.roles, NO_ROLE])
    team = command.team or admin.team
    if team not in config.teams:
        raise unknown_name("team", team, config.teams)
    if command.role == NO_ROLE and command.member not in config.teams[team].members:
        raise NotInTeamError(command.member, team)
    before = config.teams[team].members.get(command.member)
    if before == command.role:
        return RoleSet(command.member, team, command.role, changed=False)
    with db.write() as session:
        overrides.set_member_role(
            session, workspace_id=workspace_id, team=team, user_id=command.member, role=command.role
        )
        _audit(
            session,
            admin,
            workspace_id,
            "role",
            f"{team}/{command.member}",
            now,
            team=team,
            before=before,
            after=command.role,
        )
    return RoleSet(command.member, team, command.role)


def set_limit(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminLimitCommand, now: datetime
) -> LimitsSet:
    """Change a role's limits; a negative number means no limit, a missing one keeps the current limit."""
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
    if (task_limit, weekly_limit) == (current.task_limit, current.weekly_limit):
        return LimitsSet(command.role, task_limit, weekly_limit, changed=False)
    with db.write() as session:
        overrides.set_role_limit(
            session, workspace_id=workspace_id, role=command.role, task_limit=task_limit, weekly_limit=weekly_limit
        )
        _audit(
            session,
            admin,
            workspace_id,
            "limit",
            command.role,
            now,
            team=None,
            before=[current.task_limit, current.weekly_limit],
            after=[task_limit, weekly_limit],
        )
    return LimitsSet(command.role, task_limit, weekly_limit)


def top_up(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    admin: Member,
    command: AdminTopupCommand,
    request_key: str,
    now: datetime,
) -> ToppedUp:
    """Add extra credits (they never lapse); the request's key makes a redelivery a no-op."""
    require_admin(config, admin, "add extra credits")
    if command.team not in config.teams:
        raise unknown_name("team", command.team, config.teams)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=command.team, now=now)
        written = ledger_writes.append_entry(
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
            _audit(
                session,
                admin,
                workspace_id,
                "topup",
                command.team,
                now,
                team=command.team,
                credits=command.credits,
                note=command.note,
            )
        return ToppedUp(command.team, command.credits, ledger_reads.as_balance(row))


def adjust_credits(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    admin: Member,
    command: AdminAdjustCommand,
    request_key: str,
    now: datetime,
) -> Adjusted:
    """Correct the team's credits with an ``adjustment`` entry (never an edit); it may leave it overdrawn.

    A correction of credits is a correction of spend (``rules.adjust``): it moves this cycle's spent and
    the day's spend the burn rate reads, but not the admin's own week.

    The ledger keeps the reason as the entry's note, the audit trail the before and after; the request's
    key makes a redelivery a no-op.
    """
    require_admin(config, admin, "adjust a team's credits")
    if command.team not in config.teams:
        raise unknown_name("team", command.team, config.teams)
    with db.write() as session:
        row = open_team_cycle(session, config, workspace_id=workspace_id, team=command.team, now=now)
        before = ledger_reads.as_balance(row)
        written = ledger_writes.append_entry(
            session,
            row=row,
            kind=EntryKind.ADJUSTMENT,
            delta=rules.adjust(before, command.credits),
            idempotency_key=f"adjust:{request_key}",
            now=now,
            local_day=local_date(now, config.teams[command.team].zone),
            member=admin.user_id,
            note=command.reason,
            week_usage=0,  # the team's spend, corrected: not the admin's own week
        )
        after = ledger_reads.as_balance(row)
        if written:
            _audit(
                session,
                admin,
                workspace_id,
                "adjust",
                command.team,
                now,
                team=command.team,
                credits=command.credits,
                reason=command.reason,
                before=[before.plan, before.extra],
                after=[after.plan, after.extra],
            )
        return Adjusted(command.team, command.credits, command.reason, after)


def set_team(
    db: Database, config: CreditsConfig, *, workspace_id: str, admin: Member, command: AdminTeamCommand, now: datetime
) -> TeamSet:
    """Create a team or move it to another channel, plan or timezone (a new team needs its plan)."""
    require_admin(config, admin, "set up teams")
    existing = config.teams.get(command.team)
    plan = command.plan or (existing.plan if existing else None)
    if plan is None:
        raise UserFacingError(
            f"Team {command.team} is new: give its plan, e.g. `plan={next(iter(config.plans), 'pro')}` "
            f"(plans: {', '.join(config.plans)})."
        )
    if plan not in config.plans:
        raise unknown_name("plan", plan, config.plans)
    owner = config.team_by_channel.get(command.channel)
    if owner is not None and owner != command.team:
        raise ChannelTakenError(command.channel, owner)
    keter_owner = config.team_by_keter_name.get(command.team)
    if existing is None and keter_owner is not None:
        raise KeterNameTakenError(command.team, keter_owner)
    timezone = command.timezone or (existing.timezone if existing else None)
    if existing is not None and (existing.channel, existing.plan, existing.timezone) == (
        command.channel,
        plan,
        timezone or "UTC",
    ):
        return TeamSet(command.team, command.channel, plan, created=False, timezone=existing.timezone, changed=False)
    with db.write() as session:
        overrides.set_team_setting(
            session,
            workspace_id=workspace_id,
            team=command.team,
            channel=command.channel,
            plan=plan,
            timezone=timezone,
        )
        _audit(
            session,
            admin,
            workspace_id,
            "team",
            command.team,
            now,
            team=command.team,
            before=[existing.channel, existing.plan, existing.timezone] if existing else None,
            after=[command.channel, plan, timezone or "UTC"],
        )
    return TeamSet(command.team, command.channel, plan, created=existing is None, timezone=timezone or "UTC")
