"""``/credits history [@member] [tool=…] [project=…] [days=30] [csv]``: which slice of the charge history."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.commands import parse_count, parse_project, parse_user, split_words
from bot.domain.errors import UserFacingError

HISTORY_DEFAULT_DAYS = 30
HISTORY_MAX_DAYS = 366


@dataclass(frozen=True)
class HistoryCommand:
    """A slice of the team's charge history; ``csv`` uploads all of it as a file instead of a page."""

    member: str | None = None
    tool: str | None = None
    project: str | None = None
    days: int = HISTORY_DEFAULT_DAYS
    csv: bool = False


def parse_history(rest: str) -> HistoryCommand:
    """``history @ann tool=image project=launch days=7 csv``."""
    words = split_words(rest, ("tool", "project", "days"))
    member, wants_csv = None, False
    for word in words.positional:
        if word.lower() == "csv":
            wants_csv = True
            continue
        user = parse_user(word)
        if user is None or member is not None:
            raise UserFacingError(
                f"I don't understand `{word}`; e.g. `/credits history @ann tool=image days=7` (add `csv` for a file)."
            )
        member = user
    opts = words.options
    return HistoryCommand(
        member=member,
        tool=opts["tool"].lower() if "tool" in opts else None,
        project=parse_project(opts["project"]) if "project" in opts else None,
        days=parse_count("days", opts["days"], 1, HISTORY_MAX_DAYS) if "days" in opts else HISTORY_DEFAULT_DAYS,
        csv=wants_csv,
    )
