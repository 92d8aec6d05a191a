"""The credits.yml model: Keter Labs pricing, plans, roles and teams, loaded and validated.

The file is the admin's single place to describe how Keter Labs charges and who may spend what. It is
validated strictly (unknown keys are refused, so a typo never silently falls back to a default) and
every error names the path of the bad key, e.g. ``teams.design.plan: unknown plan 'prp'``.
"""

from __future__ import annotations

import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ADMIN_ROLE = "admin"
USER_ID_PATTERN = r"^[UW][A-Z0-9]{2,}$"
CHANNEL_ID_PATTERN = r"^[CGD][A-Z0-9]{2,}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """The credits file is missing, not YAML, or does not describe a usable setup."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Credits = Annotated[float, Field(ge=0)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class ToolPricing(_Strict):
    """How one Keter Labs tool is charged: a rate per unit for each quality."""

    unit: Literal["variant", "second", "minute"]
    rates: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    minimum: Credits = 0
    default_quality: str = "standard"

    @property
    def time_based(self) -> bool:
        """Time-based tools are priced per second or minute of output and need a duration."""
        return self.unit != "variant"

    @model_validator(mode="after")
    def _default_quality_is_priced(self) -> ToolPricing:
        if self.default_quality not in self.rates:
            raise ValueError(
                f"default_quality '{self.default_quality}' has no rate; "
                f"add it to rates or set default_quality to one of: {', '.join(self.rates)}"
            )
        return self


class Pricing(_Strict):
    """Prices of every tool plus the assumptions used to forecast retries."""

    retry_cost: Credits = 1.0
    expected_retry_rate: Credits = 0.25
    history_min_tasks: int = Field(default=10, ge=1)
    history_days: int = Field(default=30, ge=1, le=365)
    tools: dict[Annotated[str, Field(pattern=NAME_PATTERN)], ToolPricing] = Field(min_length=1)


class Plan(_Strict):
    """A Keter Labs subscription: its monthly allowance lapses at renewal."""

    monthly_credits: int = Field(ge=0)


class Role(_Strict):
    """Spending limits of a role. A missing limit means no limit; a missing approval cap, no approving."""

    task_limit: int | None = Field(default=None, ge=0)
    weekly_limit: int | None = Field(default=None, ge=0)
    can_approve_up_to: int | None = Field(default=None, ge=0)


class DigestSchedule(_Strict):
    """When a team's weekly digest is due, in the team's own timezone."""

    weekday: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)

    @classmethod
    def parse(cls, text: str) -> DigestSchedule:
        """Read ``"mon 09:00"``; raise ValueError saying what would work."""
        match = re.fullmatch(r"\s*([a-zA-Z]{3})[a-zA-Z]*\s+([0-9]{1,2}):([0-9]{2})\s*", text)
        if not match or match.group(1).lower() not in WEEKDAYS:
            raise ValueError(f"'{text}' is not a schedule; write a weekday and a time, like 'mon 09:00'")
        hour, minute = int(match.group(2)), int(match.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(f"'{text}' has no such time of day; use 00:00 to 23:59")
        return cls(weekday=WEEKDAYS.index(match.group(1).lower()), hour=hour, minute=minute)

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:{self.minute:02d}"


class Team(_Strict):
    """A team: its channel, plan, renewal day, timezone, digest slot, extra credits and members."""

    channel: str = Field(pattern=CHANNEL_ID_PATTERN)
    plan: str
    renews_on_day: int = Field(default=1, ge=1, le=31)
    timezone: str = "UTC"
    digest: str = "mon 09:00"
    extra_credits: int = Field(default=0, ge=0)
    members: dict[Annotated[str, Field(pattern=USER_ID_PATTERN)], str] = Field(default_factory=dict)
    # The team's name in Keter Labs' charge feed (default: this team's name) and, optionally, the Slack
    # member of each e-mail address the feed names (else ``users.lookupByEmail`` finds them).
    keter_team: str | None = Field(default=None, min_length=1, max_length=80)
    emails: dict[
        Annotated[str, Field(min_length=3, max_length=254)], Annotated[str, Field(pattern=USER_ID_PATTERN)]
    ] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}'; use an IANA name like 'Europe/Berlin'") from None
        return value

    @field_validator("digest")
    @classmethod
    def _digest_parses(cls, value: str) -> str:
        DigestSchedule.parse(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The team's timezone, for weeks, cycles and digests."""
        return ZoneInfo(self.timezone)

    @property
    def digest_schedule(self) -> DigestSchedule:
        """The parsed digest slot."""
        return DigestSchedule.parse(self.digest)


class Approvals(_Strict):
    """How long a request waits for an approver, and when a repeated ``run`` looks like a mistake."""

    expire_after_hours: float = Field(default=24, gt=0, le=24 * 30)
    duplicate_window_seconds: int = Field(default=120, ge=0, le=3600)
    # Fractions of a request's lifetime: its eligible approvers get a DM at ``remind_at``, the team's
    # admins at ``escalate_at`` (0.5 and 0.75 of 24 h: after 12 h and 18 h).
    remind_at: float = Field(default=0.5, gt=0, lt=1)
    escalate_at: float = Field(default=0.75, gt=0, lt=1)

    @model_validator(mode="after")
    def _remind_before_escalating(self) -> Approvals:
        if self.escalate_at <= self.remind_at:
            raise ValueError("approvals.escalate_at must come after approvals.remind_at (fractions of the lifetime)")
        return self


class Holds(_Strict):
    """When a reserved task nobody reported gets a reminder, and when its hold is given back."""

    remind_after_hours: float = Field(default=24, ge=1, le=24 * 90)
    release_after_days: float = Field(default=7, gt=0, le=365)

    @model_validator(mode="after")
    def _reminder_comes_first(self) -> Holds:
        if self.remind_after_hours >= self.release_after_days * 24:
            raise ValueError(
                f"remind_after_hours ({self.remind_after_hours:g}) must come before release_after_days "
                f"({self.release_after_days:g} days = {self.release_after_days * 24:g} hours)"
            )
        return self


class Feed(_Strict):
    """Keter Labs' charge feed: when a task with charges is settled, and how far balances may differ unflagged."""

    settle_after_minutes: float = Field(default=60, gt=0, le=24 * 60 * 7)
    tolerance: int = Field(default=0, ge=0)


class CreditsConfig(_Strict):
    """The whole credits file."""

    pricing: Pricing
    approvals: Approvals = Field(default_factory=Approvals)
    holds: Holds = Field(default_factory=Holds)
    feed: Feed = Field(default_factory=Feed)
    plans: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Plan] = Field(min_length=1)
    roles: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Role] = Field(min_length=1)
    teams: dict[Annotated[str, Field(pattern=NAME_PATTERN)], Team] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> CreditsConfig:
        problems = reference_problems(self.model_dump(mode="python"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def team_by_keter_name(self) -> dict[str, str]:
        """The bot's team for each Keter Labs team name in the charge feed."""
        return {(team.keter_team or name): name for name, team in self.teams.items()}

    @cached_property
    def team_by_channel(self) -> dict[str, str]:
        """Team name for each team channel id."""
        return {team.channel: name for name, team in self.teams.items()}


def _mapping(value: object) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def reference_problems(data: dict[str, Any]) -> list[str]:
    """Names that must resolve (plans, roles, one team per channel), checked on the raw file.

    Run on the raw data as well as the model, so a file with a bad field *and* a bad reference hears
    about both at once instead of one layer at a time.
    """
    plans, roles = _mapping(data.get("plans")), _mapping(data.get("roles"))
    problems: list[str] = []
    if "roles" in data and ADMIN_ROLE not in roles:
        problems.append("roles: an 'admin' role is required (Slack workspace admins get it)")
    channels: dict[str, str] = {}
    for name, team in _mapping(data.get("teams")).items():
        team = _mapping(team)
        plan = team.get("plan")
        if plans and isinstance(plan, str) and plan not in plans:
            problems.append(f"teams.{name}.plan: unknown plan '{plan}' (known: {', '.join(plans)})")
        for user, role in _mapping(team.get("members")).items():
            if roles and isinstance(role, str) and role not in roles:
                problems.append(f"teams.{name}.members.{user}: unknown role '{role}' (known: {', '.join(roles)})")
        channel = team.get("channel")
        if isinstance(channel, str) and channel in channels:
            problems.append(f"teams.{name}.channel: {channel} is already the channel of team '{channels[channel]}'")
        if isinstance(channel, str):
            channels[channel] = name
    problems.extend(keter_name_problems(data))
    return problems


def keter_name_problems(data: dict[str, Any]) -> list[str]:
    """Two teams under one Keter Labs name (``keter_team``, default the team's own name): one would get both's charges.

    The problem is reported at the team whose ``keter_team`` caused it, naming the other team.
    """
    seen: dict[str, tuple[str, bool]] = {}  # Keter Labs name -> (team, named explicitly)
    problems: list[str] = []
    for name, team in _mapping(data.get("teams")).items():
        explicit = _mapping(team).get("keter_team")
        keter = explicit if isinstance(explicit, str) and explicit else name
        first = seen.setdefault(keter, (name, keter is explicit))
        if first[0] == name:
            continue
        culprit, other = (name, first[0]) if keter is explicit else (first[0], name)
        problems.append(
            f"teams.{culprit}.keter_team: '{keter}' is already the Keter Labs name of team '{other}' "
            "(each Keter Labs team name may belong to one team only)"
        )
    return problems


CHANNEL_ID_HINT = (
    "use the channel's id (C…), not its name: in Slack, open the channel's details, the id is at the bottom"
)
MEMBER_ID_HINT = "use the member's id (U…), not their name: in Slack, open their profile, ⋮ (more) → Copy member ID"


def _message(item: Any, path: str) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        return "unknown key (check its spelling; README.md lists every key)"
    if item["type"] == "missing":
        return "required key is missing"
    if item["type"] == "string_pattern_mismatch" and path.endswith(".channel"):
        return f"'{item['input']}' is not a channel id; {CHANNEL_ID_HINT}"
    if item["type"] == "string_pattern_mismatch" and ".members." in path and path.endswith("[key]"):
        return f"'{item['input']}' is not a member id; {MEMBER_ID_HINT}"
    return message


def _format_validation_error(error: ValidationError, data: dict[str, Any]) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if not str(part).startswith("function-"))
        message = _message(item, path)
        path = path.removesuffix(".[key]")
        lines.append(f"{path}: {message}" if path else message)
    for problem in reference_problems(data):
        if not any(problem in line for line in lines):
            lines.append(problem)
    return "\n".join(dict.fromkeys(lines))


def parse_config(text: str, source: str = "credits file") -> CreditsConfig:
    """Validate credits YAML text; raise ConfigError naming the path of every bad key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping with pricing, plans, roles and teams")
    try:
        return CreditsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source} has errors:\n{_format_validation_error(exc, data)}") from None


def default_config_text() -> str:
    """The realistic Keter Labs defaults shipped with the package."""
    return resources.files("bot").joinpath("default_credits.yml").read_text(encoding="utf-8")


def load_config(path: Path | None) -> CreditsConfig:
    """Load CREDITS_CONFIG, or the shipped default when it is unset."""
    if path is None:
        return parse_config(default_config_text(), "the default credits file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"CREDITS_CONFIG: cannot read {path}: {exc.strerror}") from None
    return parse_config(text, f"CREDITS_CONFIG ({path})")
