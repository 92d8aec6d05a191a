"""Parsing ``run``, ``done``, ``cancel``, ``tasks`` and ``limits``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.commands import (
    MAX_RETRIES,
    MAX_VARIANTS,
    QUOTE_ONLY_OPTIONS,
    QUOTE_OPTIONS,
    TaskRequest,
    parse_count,
    parse_task,
    parse_task_number,
    parse_user,
    split_words,
)
from bot.domain.errors import UserFacingError
from bot.domain.ledger import MAX_CREDITS

MAX_COST = MAX_CREDITS
DONE_OPTIONS = ("retries", "variants", "cost", "kept", "team")
NOTE_LIMIT = 300


@dataclass(frozen=True)
class RunCommand:
    """``/credits run <tool> [options] [note text]``: price it, then reserve it or ask for approval."""

    request: TaskRequest
    note: str | None = None

    @property
    def project(self) -> str | None:
        """``project=``: tags the task; Keter Labs' charges for it inherit it (one place: the request)."""
        return self.request.project


@dataclass(frozen=True)
class DoneCommand:
    """``/credits done <task> [retries=] [variants=] | [cost=] [kept=]``: what the task really cost."""

    number: int
    retries: int | None = None
    variants: int | None = None
    cost: int | None = None
    kept: int | None = None
    team: str | None = None


@dataclass(frozen=True)
class CancelCommand:
    """``/credits cancel <task>``: give its hold back."""

    number: int
    team: str | None = None


@dataclass(frozen=True)
class TasksCommand:
    """``/credits tasks``: my open tasks."""

    team: str | None = None


@dataclass(frozen=True)
class LimitsCommand:
    """``/credits limits [@member]``: role, limits and what is used this week."""

    member: str | None = None
    team: str | None = None


QUOTED = re.compile(r"""(?<![\w=])(["'“])(.*?)(["'”])(?!\S)""")


def parse_run(rest: str) -> RunCommand:
    """A task like ``quote``; words after the tool, ``note="…"``, or any quoted text are a free-text note.

    A quoted note may hold ``=`` (``note="client=nike"``, ``"client=nike"``), which an unquoted word
    may not, since it would read as an option.
    """
    quoted: list[str] = []

    def hold(match: re.Match[str]) -> str:  # a quoted phrase waits as a placeholder word, in its place
        quoted.append(match.group(2))
        return f" \x00{len(quoted) - 1} "

    words = split_words(QUOTED.sub(hold, rest), (*QUOTE_OPTIONS, *QUOTE_ONLY_OPTIONS, "note"))
    if "keep" in words.options:
        raise UserFacingError(
            "`keep=` plans a quote: `/credits quote <tool> keep=<n>` says how many variants to run, "
            "then run it with `variants=`."
        )
    task = parse_task(words, "run")
    phrases = [quoted[int(word[1:])] if word.startswith("\x00") else word for word in words.positional[1:]]
    parts = [words.options.get("note", ""), *phrases]
    note = " ".join(part.strip() for part in parts if part.strip()) or None
    if note and len(note) > NOTE_LIMIT:
        raise UserFacingError(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.")
    return RunCommand(request=task, note=note)


def parse_done(rest: str) -> DoneCommand:
    """``done 12 retries=1`` or ``done 12 cost=80 kept=2``."""
    words = split_words(rest, DONE_OPTIONS)
    number = parse_task_number(words.positional[0] if words.positional else None, "done")
    if len(words.positional) > 1:
        raise UserFacingError(
            f"I don't understand `{' '.join(words.positional[1:])}`; e.g. `/credits done {number} retries=1 kept=2`."
        )
    opts = words.options
    if "cost" in opts and ({"retries", "variants"} & opts.keys()):
        raise UserFacingError("Give either `cost=` (what Keter Labs charged) or `retries=`/`variants=`, not both.")
    return DoneCommand(
        number=number,
        retries=parse_count("retries", opts["retries"], 0, MAX_RETRIES) if "retries" in opts else None,
        variants=parse_count("variants", opts["variants"], 1, MAX_VARIANTS) if "variants" in opts else None,
        cost=parse_count("cost", opts["cost"], 0, MAX_COST) if "cost" in opts else None,
        kept=parse_count("kept", opts["kept"], 0, MAX_VARIANTS * (MAX_RETRIES + 1)) if "kept" in opts else None,
        team=opts["team"].lower() if "team" in opts else None,
    )


def parse_cancel(rest: str) -> CancelCommand:
    """``cancel 12``."""
    words = split_words(rest, ("team",))
    number = parse_task_number(words.positional[0] if words.positional else None, "cancel")
    if len(words.positional) > 1:
        raise UserFacingError(f"`/credits cancel` takes one task number, e.g. `/credits cancel {number}`.")
    return CancelCommand(number=number, team=words.options.get("team", "").lower() or None)


def parse_tasks(rest: str) -> TasksCommand:
    """``tasks [team=…]``."""
    words = split_words(rest, ("team",))
    if words.positional:
        raise UserFacingError("`/credits tasks` lists your open tasks; it takes no other words.")
    return TasksCommand(team=words.options.get("team", "").lower() or None)


@dataclass(frozen=True)
class RequestsCommand:
    """``/credits requests``: the pending requests I can decide."""


def parse_requests(rest: str) -> RequestsCommand:
    """``requests`` takes no words."""
    if rest.strip():
        raise UserFacingError("`/credits requests` lists the requests you can decide; it takes no other words.")
    return RequestsCommand()


def parse_limits(rest: str) -> LimitsCommand:
    """``limits`` or ``limits @member``."""
    words = split_words(rest, ("team",))
    if len(words.positional) > 1:
        raise UserFacingError("Name one member at most, e.g. `/credits limits @ann`.")
    member = None
    if words.positional:
        member = parse_user(words.positional[0])
        if member is None:
            raise UserFacingError(
                f"`{words.positional[0]}` is not a member; mention them, e.g. `/credits limits @ann`."
            )
    return LimitsCommand(member=member, team=words.options.get("team", "").lower() or None)
