"""Parsing primitives and the ``quote``, ``balance`` and ``help`` commands.

Options are ``key=value`` words; anything else is positional. Numbers must be whole and within sane
bounds (a typo like ``variants=400`` is far more likely than a 400-variant task).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace

from bot.domain.errors import UserFacingError, unknown_name

MAX_VARIANTS = 100
MAX_RETRIES = 50
MAX_DURATION_SECONDS = 4 * 60 * 60
QUOTE_OPTIONS = ("quality", "variants", "duration", "retries", "team", "project")
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,79}")
BALANCE_OPTIONS = ("team",)
QUOTE_ONLY_OPTIONS = ("keep",)  # plan by kept versions: a quote, not a task to run


@dataclass(frozen=True)
class TaskRequest:
    """``/credits quote <tool> [quality=] [variants=] [duration=] [retries=] [team=] [keep=]``."""

    tool: str
    quality: str | None = None
    variants: int = 1
    duration_seconds: int | None = None
    retries: int | None = None
    team: str | None = None
    keep: int | None = None  # quote only: versions worth keeping, the variants come from the keep rate
    project: str | None = None  # the client project the task counts against (``project=<name>``)


@dataclass(frozen=True)
class BalanceCommand:
    """``/credits balance [team]``."""

    team: str | None = None


@dataclass(frozen=True)
class HelpCommand:
    """``/credits help``, or an unknown subcommand (``unknown`` holds it, ``suggestion`` a close one)."""

    unknown: str | None = None
    suggestion: str | None = None


@dataclass(frozen=True)
class Words:
    positional: list[str]
    options: dict[str, str]


def split_words(text: str, allowed: tuple[str, ...]) -> Words:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    positional: list[str] = []
    options: dict[str, str] = {}
    for word in words:
        if "=" not in word:
            positional.append(word)
            continue
        key, _, value = word.partition("=")
        key = key.strip().lower()
        if key not in allowed:
            raise unknown_name("option", key or "=", allowed)
        if key in options:
            raise UserFacingError(f"`{key}=` is given twice; keep one.")
        if not value:
            raise UserFacingError(f"`{key}=` needs a value, like `{key}={_EXAMPLES.get(key, 'x')}`.")
        options[key] = value
    return Words(positional, options)


_EXAMPLES = {
    "quality": "high",
    "variants": "2",
    "duration": "30",
    "retries": "1",
    "team": "design",
    "cost": "120",
    "kept": "2",
    "task": "50",
    "week": "300",
    "plan": "pro",
    "keep": "3",
    "project": "acme",
}
TASK_NUMBER = re.compile(r"#?(\d{1,9})")
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,})")
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]{2,})")


def parse_task_number(word: str | None, verb: str) -> int:
    """``12`` or ``#12``; otherwise say how to find the number."""
    match = TASK_NUMBER.fullmatch(word or "")
    if not match:
        shown = f"`{word}` is not a task number" if word else "Which task?"
        raise UserFacingError(f"{shown}: use e.g. `/credits {verb} 12`; `/credits tasks` lists yours.")
    return int(match.group(1))


def parse_user(word: str) -> str | None:
    """A user id from an escaped mention ``<@U123|ann>`` (or a bare ``U123``), else None."""
    match = USER_MENTION.fullmatch(word)
    return (match.group(1) or match.group(2)) if match else None


def parse_channel(word: str) -> str | None:
    """A channel id from an escaped mention ``<#C123|design>`` (or a bare ``C123``), else None."""
    match = CHANNEL_MENTION.fullmatch(word)
    return (match.group(1) or match.group(2)) if match else None


def parse_count(name: str, value: str, minimum: int, maximum: int) -> int:
    """A whole number within bounds, or an error naming the option and a valid example."""
    if not re.fullmatch(r"[+-]?\d+", value.strip()):
        raise UserFacingError(f"`{name}={value}` is not a whole number; use e.g. `{name}={max(minimum, 1)}`.")
    if len(value.strip().lstrip("+-").lstrip("0")) > len(str(maximum)):
        raise UserFacingError(f"`{name}={value[:12]}…` is more than the {maximum} allowed; check for a typo.")
    number = int(value)
    if number < minimum:
        lowest = "a positive whole number" if minimum == 1 else f"a whole number of {minimum} or more"
        raise UserFacingError(f"`{name}` must be {lowest}, not {number}; e.g. `{name}={max(minimum, 1)}`.")
    if number > maximum:
        raise UserFacingError(f"`{name}={number}` is more than the {maximum} allowed; check for a typo.")
    return number


def parse_duration(value: str) -> int:
    """Seconds from ``90``, ``90s``, ``2m``, ``1m30s`` or ``1.5m``."""
    text = value.strip().lower()
    if len(text) > 12:
        raise UserFacingError(f"`duration={value[:12]}…` is too long; give seconds like `duration=30`.")
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+)\s*s(?:ec)?)?", text)
    if re.fullmatch(r"[+-]?\d+", text):
        return parse_count("duration", text, 1, MAX_DURATION_SECONDS)
    if not text or not match or not (match.group(1) or match.group(2)):
        raise UserFacingError(
            f"`duration={value}` is not a length; give seconds like `duration=30`, or minutes like `duration=2m`."
        )
    seconds = float(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if seconds < 1 or seconds != int(seconds):
        raise UserFacingError(f"`duration={value}` must come to a whole number of seconds, at least 1.")
    if seconds > MAX_DURATION_SECONDS:
        raise UserFacingError(f"`duration={value}` is longer than the {MAX_DURATION_SECONDS // 3600} hours allowed.")
    return int(seconds)


def parse_project(value: str) -> str:
    """A project name: lowercase letters, digits, ``-``, ``_`` and ``.``, up to 80 characters."""
    name = value.strip().lower()
    if not PROJECT_NAME.fullmatch(name):
        raise UserFacingError(
            f"`{value[:40]}` can't be a project name: use lowercase letters, digits, `-`, `_` and `.` "
            "(up to 80), e.g. `project=acme-spring`."
        )
    return name


def parse_task(words: Words, verb: str) -> TaskRequest:
    """The task part shared by ``quote`` and ``run``: a tool and its options."""
    if not words.positional:
        raise UserFacingError(
            f"Which tool? e.g. `/credits {verb} image quality=high variants=4` or `/credits {verb} video duration=10`."
        )
    opts = words.options
    return TaskRequest(
        tool=words.positional[0].lower(),
        quality=opts["quality"].lower() if "quality" in opts else None,
        variants=parse_count("variants", opts["variants"], 1, MAX_VARIANTS) if "variants" in opts else 1,
        duration_seconds=parse_duration(opts["duration"]) if "duration" in opts else None,
        retries=parse_count("retries", opts["retries"], 0, MAX_RETRIES) if "retries" in opts else None,
        team=opts["team"].lower() if "team" in opts else None,
        project=parse_project(opts["project"]) if "project" in opts else None,
    )


def parse_quote(rest: str) -> TaskRequest:
    words = split_words(rest, QUOTE_OPTIONS + QUOTE_ONLY_OPTIONS)
    if len(words.positional) > 1:
        extra = " ".join(words.positional[1:])
        raise UserFacingError(f"I don't understand `{extra}`; options look like `variants=2`.")
    task = parse_task(words, "quote")
    if "keep" not in words.options:
        return task
    if "variants" in words.options:
        raise UserFacingError(
            "Give either `variants=` (how many to generate) or `keep=` (how many you want to keep), not both; "
            "with `keep=` your team's keep rate sets the variants."
        )
    return replace(task, keep=parse_count("keep", words.options["keep"], 1, MAX_VARIANTS))


def parse_balance(rest: str) -> BalanceCommand:
    words = split_words(rest, BALANCE_OPTIONS)
    if len(words.positional) > 1 or (words.positional and "team" in words.options):
        raise UserFacingError("Give one team at most, e.g. `/credits balance design`.")
    team = words.positional[0] if words.positional else words.options.get("team")
    return BalanceCommand(team=team.lower() if team else None)
