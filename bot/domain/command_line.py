"""Every ``/credits`` subcommand, declared once; the text after ``/credits`` routed to one of them.

A ``Subcommand`` holds what the rest of the bot derives from: its name, usage line, example, who may
use it and its parser. The router, ``/credits help``, ``/credits admin`` and the "did you mean"
suggestions all read ``SUBCOMMANDS``; the Slack edge binds one handler to each declaration
(``bot.slack.answers.registry``), and a test holds the command table of docs/commands.md to the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from bot.domain.admin_commands import (
    AdminAdjustCommand,
    AdminAuditCommand,
    AdminBudgetCommand,
    AdminDigestCommand,
    AdminHelpCommand,
    AdminLimitCommand,
    AdminMembersCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
    parse_admin_adjust,
    parse_admin_audit,
    parse_admin_budget,
    parse_admin_digest,
    parse_admin_limit,
    parse_admin_members,
    parse_admin_role,
    parse_admin_team,
    parse_admin_topup,
)
from bot.domain.commands import BalanceCommand, HelpCommand, TaskRequest, free_text, parse_balance, parse_quote
from bot.domain.errors import UserFacingError, closest
from bot.domain.history_commands import HistoryCommand, parse_history
from bot.domain.task_commands import (
    CancelCommand,
    DoneCommand,
    LimitsCommand,
    RequestsCommand,
    RunCommand,
    TasksCommand,
    parse_cancel,
    parse_done,
    parse_limits,
    parse_requests,
    parse_run,
    parse_tasks,
)

HELP_WORDS = ("help", "-h", "--help", "?")
Audience = Literal["everyone", "admins"]


@dataclass(frozen=True)
class PricingCommand:
    """``/credits pricing [tool]``: the price list in force."""

    tool: str | None = None


@dataclass(frozen=True)
class DigestPreviewCommand:
    """``/credits digest preview [team=…]``: this week's digest, shown only to me."""

    team: str | None = None


ParsedCommand = (
    TaskRequest
    | BalanceCommand
    | HelpCommand
    | RunCommand
    | DoneCommand
    | CancelCommand
    | TasksCommand
    | LimitsCommand
    | RequestsCommand
    | AdminHelpCommand
    | AdminRoleCommand
    | AdminLimitCommand
    | AdminTopupCommand
    | AdminAdjustCommand
    | AdminTeamCommand
    | AdminDigestCommand
    | DigestPreviewCommand
    | AdminAuditCommand
    | AdminMembersCommand
    | PricingCommand
    | HistoryCommand
    | AdminBudgetCommand
)


@dataclass(frozen=True)
class Subcommand:
    """One ``/credits`` subcommand: the single place its name, usage, example, audience and parser live.

    ``parse`` gets the words after the name. A group (``admin``) routes its next word to one of its
    ``children``; its own ``parse`` answers the group alone (its help).
    """

    name: str
    usage: str
    summary: str
    parse: Callable[[str], ParsedCommand]
    example: str | None = None
    audience: Audience = "everyone"
    aliases: tuple[str, ...] = ()
    children: tuple[Subcommand, ...] = field(default=())

    @property
    def words(self) -> tuple[str, ...]:
        """What a user may type to reach it."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Invocation:
    """A routed command line: which declaration it reached and what its parser made of the rest."""

    subcommand: Subcommand
    command: ParsedCommand


def _parse_digest(rest: str) -> DigestPreviewCommand:
    words = rest.split()
    if not words or words[0].lower() != "preview":
        raise UserFacingError("Usage: `/credits digest preview` shows your team's digest for the last 7 days.")
    team = next((w.split("=", 1)[1].lower() for w in words[1:] if w.lower().startswith("team=")), None)
    return DigestPreviewCommand(team=team)


def _parse_pricing(rest: str) -> PricingCommand:
    words = rest.split()
    if len(words) > 1:
        raise UserFacingError("Name one tool at most, e.g. `/credits pricing image`.")
    return PricingCommand(tool=words[0].lower() if words else None)


def _parse_help(rest: str) -> HelpCommand:
    return HelpCommand()


def _parse_admin_help(rest: str) -> AdminHelpCommand:
    return AdminHelpCommand()


ADMIN_SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "role",
        "/credits admin role @member <role> [team]",
        "give a member a role (takes effect at once; `none` removes them from the team)",
        parse_admin_role,
        example="/credits admin role @ann lead design",
        audience="admins",
    ),
    Subcommand(
        "limit",
        "/credits admin limit <role> task=<n> week=<n>",
        "change a role's limits (`none` for no limit)",
        parse_admin_limit,
        example="/credits admin limit creator task=100 week=none",
        audience="admins",
    ),
    Subcommand(
        "topup",
        "/credits admin topup <team> <credits> [note]",
        "add extra credits to a team",
        parse_admin_topup,
        example="/credits admin topup design 500 launch week",
        audience="admins",
    ),
    Subcommand(
        "adjust",
        "/credits admin adjust <team> <+N/-N> <reason>",
        "correct a team's credits with a ledger entry (reason required)",
        parse_admin_adjust,
        example="/credits admin adjust design -40 Keter invoice KL-1182",
        audience="admins",
    ),
    Subcommand(
        "team",
        "/credits admin team <name> #channel plan=<plan> [tz=…]",
        "create a team, or move it to another channel, plan or timezone",
        parse_admin_team,
        example="/credits admin team video #video plan=starter tz=Europe/Berlin",
        audience="admins",
    ),
    Subcommand(
        "digest",
        "/credits admin digest <team> <day> <hh:mm>",
        "move the team's weekly digest (team's timezone)",
        parse_admin_digest,
        example="/credits admin digest design mon 09:00",
        audience="admins",
    ),
    Subcommand(
        "audit",
        "/credits admin audit [team] [days=7]",
        "decisions and admin changes, newest first",
        parse_admin_audit,
        example="/credits admin audit design days=30",
        audience="admins",
    ),
    Subcommand(
        "members",
        "/credits admin members [team]",
        "each member's role and where it comes from (credits file or command)",
        parse_admin_members,
        example="/credits admin members design",
        audience="admins",
    ),
    Subcommand(
        "budget",
        "/credits admin budget <team> <project> <credits/none>",
        "set a client project's budget for this cycle (`none` removes it)",
        parse_admin_budget,
        example="/credits admin budget design acme 1500",
        audience="admins",
    ),
)

HELP = Subcommand("help", "/credits help", "this message", _parse_help, aliases=HELP_WORDS[1:], example="/credits help")
ADMIN = Subcommand(
    "admin",
    "/credits admin",
    f"the admin commands ({', '.join(sub.name for sub in ADMIN_SUBCOMMANDS)}) with examples; admins only",
    _parse_admin_help,
    audience="admins",
    children=ADMIN_SUBCOMMANDS,
)
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "quote",
        "/credits quote <tool> [quality=…] [variants=…] [duration=…] [retries=…] [team=…] [keep=…]",
        "what a task will cost",
        parse_quote,
        example="/credits quote image quality=high variants=4",
    ),
    Subcommand(
        "run",
        "/credits run <tool> [options] [project=…] [note…]",
        "reserve the credits (or ask an approver when over your limits)",
        parse_run,
        example="/credits run video duration=10 storyboard for the launch",
    ),
    Subcommand(
        "done",
        "/credits done <task> [retries=…] [variants=…] [kept=…]",
        "record what it really cost (or `cost=…` as Keter Labs charged it)",
        parse_done,
        example="/credits done 12 retries=1 kept=2",
    ),
    Subcommand("cancel", "/credits cancel <task>", "drop a task and release its hold", parse_cancel),
    Subcommand("tasks", "/credits tasks", "list your open tasks in all your teams", parse_tasks),
    Subcommand(
        "balance",
        "/credits balance [team]",
        "plan and extra credits, holds, burn rate, run-out day",
        parse_balance,
    ),
    Subcommand(
        "limits",
        "/credits limits [@member]",
        "role, limits and what is used this week",
        parse_limits,
    ),
    Subcommand(
        "requests",
        "/credits requests",
        "the pending requests you can decide, oldest first",
        parse_requests,
    ),
    Subcommand(
        "pricing",
        "/credits pricing [tool]",
        "the price list the quotes use: rates, minimums, cost of retries, plans",
        _parse_pricing,
        example="/credits pricing video",
    ),
    Subcommand(
        "history",
        "/credits history [@member] [tool=…] [project=…] [days=30] [csv]",
        "the team's charge history, newest first (`csv`: all of it as a file)",
        parse_history,
        example="/credits history @ann tool=image days=7",
    ),
    Subcommand(
        "digest",
        "/credits digest preview [team=…]",
        "the digest of the last 7 days, shown only to you",
        _parse_digest,
    ),
    ADMIN,
    HELP,
)


def every_subcommand() -> Iterator[Subcommand]:
    """Every declaration, groups before their children."""
    for sub in SUBCOMMANDS:
        yield sub
        yield from sub.children


def subcommand(name: str, child: str | None = None) -> Subcommand:
    """The declaration called ``name`` (or its ``child``); a KeyError names what is not declared."""
    found = _find(name, SUBCOMMANDS)
    if found is not None and child is not None:
        found = _find(child, found.children)
    if found is None:
        raise KeyError(f"no subcommand {' '.join(filter(None, (name, child)))!r} is declared")
    return found


def _find(word: str, declared: tuple[Subcommand, ...]) -> Subcommand | None:
    return next((sub for sub in declared if word in sub.words), None)


def _split(text: str) -> tuple[str, str]:
    word, rest = [*text.strip().split(None, 1), "", ""][:2]
    return word.lower(), rest


def group_usage(group: Subcommand) -> str:
    """The group's subcommands' usage lines on one line, for an error about the group."""
    return " · ".join(f"`{sub.usage}`" for sub in group.children)


def _route_group(group: Subcommand, rest: str) -> Invocation:
    word, tail = _split(rest)
    if not word or word in HELP_WORDS:
        return Invocation(group, group.parse(tail))
    child = _find(word, group.children)
    if child is None:
        guess = closest(word, [sub.name for sub in group.children])
        hint = f" Did you mean `{guess}`?" if guess else ""
        raise UserFacingError(f"Unknown {group.name} command `{word}`.{hint} {group_usage(group)}")
    return Invocation(child, child.parse(tail))


def leading_subcommand(text: str) -> Subcommand:
    """The subcommand the line's first word names, the rest left unparsed (help when none does).

    Cheap enough to ask before routing (``route`` parses every option): a group's child needs ``route``.
    """
    word, _ = _split(free_text(text))
    found = _find(word, SUBCOMMANDS) if word else None
    return found if found is not None else HELP


def route(text: str) -> Invocation:
    """Route to the subcommand's parser; unknown subcommands become help with a close match.

    Control characters are stripped first (``free_text``), so no note or name ever holds one.
    """
    word, rest = _split(free_text(text))
    if not word:
        return Invocation(HELP, HelpCommand())
    sub = _find(word, SUBCOMMANDS)
    if sub is None:
        return Invocation(HELP, HelpCommand(unknown=word, suggestion=closest(word, [s.name for s in SUBCOMMANDS])))
    if sub.children:
        return _route_group(sub, rest)
    return Invocation(sub, sub.parse(rest))


def parse_command(text: str) -> ParsedCommand:
    """Just the parsed command (for callers that need no handler)."""
    return route(text).command
