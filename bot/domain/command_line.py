"""Turn the text after ``/credits`` into one typed command (or a clear error saying what would work)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.admin_commands import AdminCommand, parse_admin
from bot.domain.commands import BalanceCommand, HelpCommand, QuoteCommand, parse_balance, parse_quote
from bot.domain.errors import UserFacingError, closest
from bot.domain.task_commands import (
    CancelCommand,
    DoneCommand,
    LimitsCommand,
    RunCommand,
    TasksCommand,
    parse_cancel,
    parse_done,
    parse_limits,
    parse_run,
    parse_tasks,
)

SUBCOMMANDS = ("quote", "balance", "run", "done", "cancel", "tasks", "limits", "admin", "digest", "help")


@dataclass(frozen=True)
class DigestPreviewCommand:
    """``/credits digest preview [team=…]``: this week's digest, shown only to me."""

    team: str | None = None


Command = (
    QuoteCommand
    | BalanceCommand
    | HelpCommand
    | RunCommand
    | DoneCommand
    | CancelCommand
    | TasksCommand
    | LimitsCommand
    | AdminCommand
    | DigestPreviewCommand
)


def _parse_digest(rest: str) -> DigestPreviewCommand:
    words = rest.split()
    if not words or words[0].lower() != "preview":
        raise UserFacingError("Usage: `/credits digest preview` shows your team's digest for the last 7 days.")
    team = next((w.split("=", 1)[1].lower() for w in words[1:] if w.lower().startswith("team=")), None)
    return DigestPreviewCommand(team=team)


PARSERS: dict[str, Callable[[str], Command]] = {
    "quote": parse_quote,
    "balance": parse_balance,
    "run": parse_run,
    "done": parse_done,
    "cancel": parse_cancel,
    "tasks": parse_tasks,
    "limits": parse_limits,
    "admin": parse_admin,
    "digest": _parse_digest,
}


def parse_command(text: str) -> Command:
    """Route to the subcommand's parser; unknown subcommands become help with a close match."""
    stripped = text.strip()
    if not stripped:
        return HelpCommand()
    sub, rest = [*stripped.split(None, 1), ""][:2]
    sub = sub.lower()
    parser = PARSERS.get(sub)
    if parser is not None:
        return parser(rest)
    if sub in ("help", "-h", "--help", "?"):
        return HelpCommand()
    return HelpCommand(unknown=sub, suggestion=closest(sub, SUBCOMMANDS))
