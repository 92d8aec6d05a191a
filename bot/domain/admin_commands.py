"""Parsing ``/credits admin …``: roles, limits, top-ups, teams and digest slots (admins only, checked by the service).

Each parser gets the words after its own name; ``bot.domain.command_line`` declares and routes them.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from bot.domain.commands import parse_channel, parse_count, parse_project_name, parse_user, split_words
from bot.domain.errors import UserFacingError, closest
from bot.domain.ledger import MAX_CREDITS

MAX_TOPUP = MAX_CREDITS
UNLIMITED = ("none", "unlimited", "-")


@dataclass(frozen=True)
class AdminHelpCommand:
    """``/credits admin`` alone: how to use the admin subcommands."""


@dataclass(frozen=True)
class AdminRoleCommand:
    """Give a member a role in a team."""

    member: str
    role: str
    team: str | None = None


@dataclass(frozen=True)
class AdminLimitCommand:
    """Change a role's limits; ``None`` in a field means "leave as is", ``-1`` means "no limit"."""

    role: str
    task_limit: int | None = None
    weekly_limit: int | None = None


@dataclass(frozen=True)
class AdminTopupCommand:
    """Add extra credits to a team."""

    team: str
    credits: int
    note: str | None = None


@dataclass(frozen=True)
class AdminAdjustCommand:
    """Correct a team's credits with a signed amount and a reason (a new ledger entry, never an edit)."""

    team: str
    credits: int
    reason: str


@dataclass(frozen=True)
class AdminTeamCommand:
    """Create a team or change its channel and plan."""

    team: str
    channel: str
    plan: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class AdminMembersCommand:
    """``/credits admin members [team]``: each member's role and where it comes from."""

    team: str | None = None


@dataclass(frozen=True)
class AdminDigestCommand:
    """Move a team's weekly digest slot."""

    team: str
    day: str
    time: str


@dataclass(frozen=True)
class AdminBudgetCommand:
    """Set a project's budget for the team's current cycle; ``credits`` None removes it."""

    team: str
    project: str
    credits: int | None


AdminCommand = (
    AdminRoleCommand
    | AdminLimitCommand
    | AdminTopupCommand
    | AdminAdjustCommand
    | AdminTeamCommand
    | AdminDigestCommand
    | AdminMembersCommand
    | AdminBudgetCommand
)


def unknown_name_short(kind: str, word: str, options: list[str], *, example: str) -> UserFacingError:
    """Unknown name among too many to list (timezones): suggest the closest and give an example."""
    guess = closest(word, options)
    hint = f" Did you mean `{guess}`?" if guess else ""
    return UserFacingError(f"Unknown {kind} `{word}`.{hint} Use an IANA name, e.g. `{example}`.")


def _limit_value(name: str, value: str) -> int:
    if value.lower() in UNLIMITED:
        return -1
    return parse_count(name, value, 0, MAX_TOPUP)


def parse_admin_role(rest: str) -> AdminRoleCommand:
    """``role @member <role> [team]``."""
    words = split_words(rest, ())
    member = parse_user(words.positional[0]) if words.positional else None
    if len(words.positional) not in (2, 3) or member is None:
        raise UserFacingError("Usage: `/credits admin role @member <role> [team]`.")
    team = words.positional[2].lower() if len(words.positional) == 3 else None
    return AdminRoleCommand(member=member, role=words.positional[1].lower(), team=team)


def parse_admin_limit(rest: str) -> AdminLimitCommand:
    """``limit <role> task=<n> week=<n>``."""
    words = split_words(rest, ("task", "week"))
    if len(words.positional) != 1 or not words.options:
        raise UserFacingError("Usage: `/credits admin limit <role> task=<n> week=<n>` (`none` for no limit).")
    return AdminLimitCommand(
        role=words.positional[0].lower(),
        task_limit=_limit_value("task", words.options["task"]) if "task" in words.options else None,
        weekly_limit=_limit_value("week", words.options["week"]) if "week" in words.options else None,
    )


def _refuse_spaced_number(amount: str, after: list[str]) -> None:
    """``5 000`` read as 5 credits and a note "000" added 5 (issue 25): a figure with a space is refused whole."""
    if after and re.fullmatch(r"[+-]?\d[\d,]*", amount) and re.fullmatch(r"\d{3}([,.]\d{3})*", after[0]):
        whole = amount + after[0]
        raise UserFacingError(
            f"`{amount} {after[0]}` looks like one number written with a space: write `{whole}` "
            f"(or `{whole[:-3]},{whole[-3:]}`), with no space inside it."
        )


def parse_admin_topup(rest: str) -> AdminTopupCommand:
    """``topup <team> <credits> [note]``."""
    words = split_words(rest, ())
    if len(words.positional) < 2:
        raise UserFacingError("Usage: `/credits admin topup <team> <credits> [note]`, e.g. `… topup design 500`.")
    _refuse_spaced_number(words.positional[1], words.positional[2:])
    credits = parse_count("credits", words.positional[1].replace(",", ""), 1, MAX_TOPUP)
    note = " ".join(words.positional[2:]) or None
    return AdminTopupCommand(team=words.positional[0].lower(), credits=credits, note=note)


ADJUST_USAGE = "Usage: `/credits admin adjust <team> <+N/-N> <reason>`, e.g. `… adjust design -40 invoice KL-1182`."


def parse_admin_adjust(rest: str) -> AdminAdjustCommand:
    """``adjust <team> <+N/-N> <reason>``: the sign is required, and so is the reason."""
    words = rest.split()
    if len(words) < 2:
        raise UserFacingError(ADJUST_USAGE)
    amount = words[1]
    if not re.fullmatch(r"[+-]\d[\d,]*", amount):
        raise UserFacingError(
            f"`{amount[:20]}` is not a signed number of credits: write `+40` or `-40`. {ADJUST_USAGE}"
        )
    _refuse_spaced_number(amount, words[2:])
    credits = parse_count("credits", amount.replace(",", "").lstrip("+"), -MAX_TOPUP, MAX_TOPUP)
    if credits == 0:
        raise UserFacingError("An adjustment of 0 changes nothing; give `+N` or `-N` credits.")
    reason = " ".join(words[2:]).strip()
    if not reason:
        raise UserFacingError(f"Say why: the reason is kept in the ledger and the audit trail. {ADJUST_USAGE}")
    return AdminAdjustCommand(team=words[0].lower(), credits=credits, reason=reason[:400])


def _timezone(value: str) -> str:
    """An IANA timezone name, spelt as the tz database spells it (``europe/berlin`` works too)."""
    by_lower = {name.lower(): name for name in zoneinfo.available_timezones()}
    name = by_lower.get(value.strip().lower())
    if name is None:
        raise unknown_name_short("timezone", value, sorted(by_lower.values()), example="tz=Europe/Berlin")
    return name


def parse_admin_team(rest: str) -> AdminTeamCommand:
    """``team <name> #channel [plan=<plan>] [tz=<IANA name>]`` (a new team needs its plan)."""
    words = split_words(rest, ("plan", "tz"))
    channel = parse_channel(words.positional[1]) if len(words.positional) == 2 else None
    if channel is None:
        raise UserFacingError("Usage: `/credits admin team <name> #channel plan=<plan> [tz=Europe/Berlin]`.")
    name = words.positional[0].lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", name):
        raise UserFacingError(f"`{name}` can't be a team name: use lowercase letters, digits, - and _.")
    plan = words.options["plan"].lower() if "plan" in words.options else None
    timezone = _timezone(words.options["tz"]) if "tz" in words.options else None
    return AdminTeamCommand(team=name, channel=channel, plan=plan, timezone=timezone)


def parse_admin_members(rest: str) -> AdminMembersCommand:
    """``members [team]``."""
    words = split_words(rest, ())
    if len(words.positional) > 1:
        raise UserFacingError("Usage: `/credits admin members [team]`, e.g. `/credits admin members design`.")
    return AdminMembersCommand(team=words.positional[0].lower() if words.positional else None)


def parse_admin_digest(rest: str) -> AdminDigestCommand:
    """``digest <team> <day> <hh:mm>``."""
    words = split_words(rest, ())
    if len(words.positional) != 3:
        raise UserFacingError("Usage: `/credits admin digest <team> <day> <hh:mm>`, e.g. `… digest design mon 09:00`.")
    return AdminDigestCommand(
        team=words.positional[0].lower(), day=words.positional[1].lower(), time=words.positional[2]
    )


AUDIT_DEFAULT_DAYS = 7
AUDIT_MAX_DAYS = 366


@dataclass(frozen=True)
class AdminAuditCommand:
    """Read the audit trail: decisions and admin changes of the last ``days`` days, one team or all."""

    team: str | None = None
    days: int = AUDIT_DEFAULT_DAYS


def parse_admin_audit(rest: str) -> AdminAuditCommand:
    """``audit [team] [days=7]``."""
    words = split_words(rest, ("days",))
    if len(words.positional) > 1:
        raise UserFacingError("Usage: `/credits admin audit [team] [days=7]`, e.g. `… audit design days=30`.")
    days = words.options.get("days")
    return AdminAuditCommand(
        team=words.positional[0].lower() if words.positional else None,
        days=parse_count("days", days, 1, AUDIT_MAX_DAYS) if days is not None else AUDIT_DEFAULT_DAYS,
    )


BUDGET_USAGE = "Usage: `/credits admin budget <team> <project> <credits/none>`, e.g. `… budget design acme 1500`."


def parse_admin_budget(rest: str) -> AdminBudgetCommand:
    """``budget <team> <project> <credits/none>``."""
    words = split_words(rest, ())
    if len(words.positional) != 3:
        raise UserFacingError(BUDGET_USAGE)
    team, project, amount = words.positional
    credits = None if amount.lower() in UNLIMITED else parse_count("credits", amount.replace(",", ""), 1, MAX_TOPUP)
    return AdminBudgetCommand(team=team.lower(), project=parse_project_name(project)[0], credits=credits)
