"""Parsing primitives and the ``quote``, ``balance`` and ``help`` commands.

Options are ``key=value`` words; anything else is positional. Numbers must be whole and within sane
bounds (a typo like ``variants=400`` is far more likely than a 400-variant task).
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass, replace

from bot.domain.errors import UserFacingError, unknown_name

MAX_VARIANTS = 100
MAX_RETRIES = 50
MAX_DURATION_SECONDS = 4 * 60 * 60
QUOTE_OPTIONS = ("quality", "variants", "duration", "retries", "team", "project")
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
    new_project: bool = False  # ``project=new:<name>``: a new project, even if its name is close to a known one


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
TASK_NUMBER = re.compile(r"#?([0-9]{1,9})")
DIGITS_ONLY = "use the digits 0-9"
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def has_other_digits(text: str) -> bool:
    """Digits outside 0-9 (``５``, ``٣``): Python's ``int()`` and ``\\d`` take them, we never do."""
    return any(char.isdigit() and not ("0" <= char <= "9") for char in text)


KEPT_CONTROLS = frozenset("\n\t")


def free_text(text: str) -> str:
    """Text a member typed, without control characters (NUL and the like; newline and tab stay).

    PostgreSQL refuses a NUL in text and SQLite stores it: stripping them here, before anything is
    parsed or stored, makes both databases keep the same note.
    """
    return "".join(char for char in text if char in KEPT_CONTROLS or unicodedata.category(char) != "Cc")


def whole_number(text: str) -> int | None:
    """The one number reader: an optional sign and ASCII digits 0-9 only, else None."""
    text = text.strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,})")
CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]{2,})")


def parse_task_number(word: str | None, verb: str) -> int:
    """``12`` or ``#12``; otherwise say how to find the number."""
    match = TASK_NUMBER.fullmatch(word or "")
    if not match:
        shown = f"`{word}` is not a task number" if word else "Which task?"
        digits = f" ({DIGITS_ONLY})" if word and has_other_digits(word) else ""
        raise UserFacingError(f"{shown}{digits}: use e.g. `/credits {verb} 12`; `/credits tasks` lists yours.")
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
    if not WHOLE_NUMBER.fullmatch(value.strip()):
        hint = f"{DIGITS_ONLY}, e.g." if has_other_digits(value) else "use e.g."
        raise UserFacingError(f"`{name}={value}` is not a whole number; {hint} `{name}={max(minimum, 1)}`.")
    if len(value.strip().lstrip("+-").lstrip("0")) > len(str(maximum)):
        raise UserFacingError(f"`{name}={value[:12]}…` is more than the {maximum} allowed; check for a typo.")
    number = whole_number(value)
    assert number is not None
    if number < minimum:
        lowest = "a positive whole number" if minimum == 1 else f"a whole number of {minimum} or more"
        raise UserFacingError(f"`{name}` must be {lowest}, not {number}; e.g. `{name}={max(minimum, 1)}`.")
    if number > maximum:
        raise UserFacingError(f"`{name}={number}` is more than the {maximum} allowed; check for a typo.")
    return number


def parse_duration(value: str) -> int:
    """Seconds from ``90``, ``90s``, ``2m``, ``1m30s``, ``1.5m``, ``1h``, ``1h30m`` or ``1:30`` (minutes:seconds).

    pytimeparse2 reads the forms with units and colons; ASCII only, whole seconds, at most four hours.
    """
    from pytimeparse2 import parse as parse_time_expression

    text = value.strip().lower()
    if len(text) > 12:
        raise UserFacingError(f"`duration={value[:12]}…` is too long; give seconds like `duration=30`.")
    if WHOLE_NUMBER.fullmatch(text) or has_other_digits(text):
        return parse_count("duration", text, 1, MAX_DURATION_SECONDS)
    seconds = parse_time_expression(text) if text.isascii() and not text.startswith(("-", "+")) else None
    if seconds is None:
        raise UserFacingError(
            f"`duration={value}` is not a length; give seconds like `duration=30`, minutes like `duration=2m` "
            "or `duration=1:30`, or hours like `duration=1h30m`."
        )
    if seconds < 1 or seconds != int(seconds):
        raise UserFacingError(f"`duration={value}` must come to a whole number of seconds, at least 1.")
    if seconds > MAX_DURATION_SECONDS:
        raise UserFacingError(f"`duration={value}` is longer than the {MAX_DURATION_SECONDS // 3600} hours allowed.")
    return int(seconds)


PROJECT_LIMIT = 80


PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
NEW_PROJECT = "new:"


def parse_project(value: str) -> str:
    """A history filter's project (``project=acme``, ``project="Nike spring"``), trimmed and in lowercase.

    Lowercase so ``Acme`` and ``acme`` are one project for budgets, history filters and the digest;
    spaces are allowed here because Keter Labs' charges may name projects with them.
    """
    name = " ".join(value.split()).lower()
    if not name or len(name) > PROJECT_LIMIT:
        raise UserFacingError(f"A project name is 1 to {PROJECT_LIMIT} characters, e.g. `project=acme`.")
    return name


def parse_project_name(value: str) -> tuple[str, bool]:
    """A project a task or a budget names: lowercase letters, digits, ``-``, ``_``, ``.``; and whether ``new:``.

    ``Acme`` reads as ``acme``; ``new:acme2`` says it is a new project even when its name is close to one
    the team has (else refused with "Did you mean …").
    """
    raw = value.strip()
    new = raw.lower().startswith(NEW_PROJECT)
    name = (raw[len(NEW_PROJECT) :] if new else raw).lower()
    if not name or len(name) > PROJECT_LIMIT:
        raise UserFacingError(
            f"A project name is 1 to {PROJECT_LIMIT} characters: lowercase letters, digits, `-`, `_` and `.`, "
            "e.g. `project=acme`."
        )
    if not PROJECT_NAME.fullmatch(name):
        suggestion = "-".join(re.findall(r"[a-z0-9._]+", name))[:PROJECT_LIMIT] or "acme"
        raise UserFacingError(
            f"`project={value}` is not a project name: use lowercase letters, digits, `-`, `_` and `.`, "
            f"e.g. `project={suggestion}`."
        )
    return name, new


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
        project=parse_project_name(opts["project"])[0] if "project" in opts else None,
        new_project=parse_project_name(opts["project"])[1] if "project" in opts else False,
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
