"""The subcommand declarations, ``/credits help``, ``/credits admin`` and the table of docs/commands.md agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.render import render_blocks
from bot.domain.admin_commands import AdminHelpCommand, AdminTopupCommand
from bot.domain.command_line import ADMIN, SUBCOMMANDS, Subcommand, every_subcommand, route, subcommand
from bot.domain.commands import HelpCommand
from bot.domain.errors import UserFacingError
from bot.slack.answers.registry import HANDLERS
from bot.slack.blocks.help import admin_help_blocks, help_blocks

COMMANDS_PAGE = Path(__file__).parents[2] / "docs" / "commands.md"


def _shown(blocks: list[Any]) -> str:
    """What Slack shows, flattened (markup and code spans removed) as a user would read it."""
    return render_blocks([block.to_dict() for block in blocks])


def _plain(usage: str) -> str:
    return render_blocks([], f"`{usage}`")


def _commands_table() -> str:
    text = COMMANDS_PAGE.read_text(encoding="utf-8")
    start = text.index("Commands (all answers are ephemeral")
    table = text[start:].split("\n\n", 2)[1]
    assert table.startswith("| command |"), table[:80]
    return table


def test_every_top_level_subcommand_is_in_help_with_its_usage_and_example() -> None:
    shown = _shown(help_blocks(["image", "video"]))
    for sub in SUBCOMMANDS:
        assert _plain(sub.usage) in shown, sub.name
        if sub.example:
            assert _plain(sub.example) in shown, sub.example
    assert "/credits digest preview" in shown and "/credits admin" in shown


def test_every_admin_subcommand_is_in_admin_help() -> None:
    shown = _shown(admin_help_blocks())
    assert ADMIN.children
    for sub in ADMIN.children:
        assert _plain(sub.usage) in shown, sub.name
        assert sub.example and _plain(sub.example) in shown, sub.name
        assert sub.audience == "admins"


@pytest.mark.parametrize("sub", list(every_subcommand()), ids=lambda sub: sub.usage)
def test_every_subcommand_is_a_row_of_the_commands_table(sub: Subcommand) -> None:
    rows = [line for line in _commands_table().splitlines() if line.startswith("| `")]
    assert any(row.startswith(f"| `{sub.usage}`") for row in rows), f"docs/commands.md has no row for `{sub.usage}`"


def test_the_commands_table_has_no_row_without_a_declaration() -> None:
    declared = {sub.usage for sub in every_subcommand()}
    rows = re.findall(r"^\| `([^`]+)`", _commands_table(), flags=re.MULTILINE)
    assert set(rows) == declared


@pytest.mark.parametrize("sub", list(every_subcommand()), ids=lambda sub: sub.usage)
def test_every_subcommand_has_a_handler_and_its_example_reaches_it(sub: Subcommand) -> None:
    assert sub in HANDLERS
    if sub.example:
        # As Slack delivers what the user typed (mentions escaped to ids), in capitals: words are case-blind.
        typed = re.sub(r"@(\w+)", r"<@U0\1|\1>", re.sub(r"#(\w+)", r"<#C0\1|\1>", sub.example))
        assert route(typed.upper().removeprefix("/CREDITS ")).subcommand is sub


def test_admin_alone_is_the_admin_help_not_an_error() -> None:
    for text in ("admin", "admin help", "ADMIN  "):
        invocation = route(text)
        assert invocation.subcommand is ADMIN and invocation.command == AdminHelpCommand()


def test_admin_subcommands_route_to_their_own_declaration() -> None:
    invocation = route("admin topup design 500 launch week")
    assert invocation.subcommand is subcommand("admin", "topup")
    assert invocation.command == AdminTopupCommand(team="design", credits=500, note="launch week")


def test_did_you_mean_comes_from_the_declarations() -> None:
    assert route("digets preview").command == HelpCommand(unknown="digets", suggestion="digest")
    assert route("lmits").command == HelpCommand(unknown="lmits", suggestion="limits")
    with pytest.raises(UserFacingError) as raised:
        route("admin digets design mon 09:00")
    assert "Unknown admin command `digets`. Did you mean `digest`?" in raised.value.message
    for child in ADMIN.children:
        assert f"`{child.usage}`" in raised.value.message


def test_an_undeclared_name_is_refused() -> None:
    with pytest.raises(KeyError):
        subcommand("admin", "nope")
