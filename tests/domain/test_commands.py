"""Parsing the text after /credits: typed commands, or an error message that says what would work."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.admin_commands import AdminTopupCommand
from bot.domain.command_line import parse_command
from bot.domain.commands import (
    MAX_DURATION_SECONDS,
    MAX_RETRIES,
    MAX_VARIANTS,
    BalanceCommand,
    HelpCommand,
    TaskRequest,
    parse_duration,
)
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import RunCommand


def error_of(text: str) -> str:
    with pytest.raises(UserFacingError) as caught:
        parse_command(text)
    return caught.value.message


# --- quote ---------------------------------------------------------------------------------------


def test_quote_defaults() -> None:
    assert parse_command("quote image") == TaskRequest(
        tool="image", quality=None, variants=1, duration_seconds=None, retries=None, team=None
    )


def test_quote_with_every_option() -> None:
    command = parse_command("quote video quality=high variants=3 duration=45 retries=2 team=design")
    assert command == TaskRequest(
        tool="video", quality="high", variants=3, duration_seconds=45, retries=2, team="design"
    )


def test_quote_options_in_any_order() -> None:
    assert parse_command("quote retries=1 variants=4 image quality=high") == TaskRequest(
        tool="image", quality="high", variants=4, retries=1
    )


def test_quote_subcommand_tool_and_quality_are_case_insensitive() -> None:
    command = parse_command("QUOTE Image Quality=HIGH VARIANTS=4")
    assert command == TaskRequest(tool="image", quality="high", variants=4)


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_command("   quote   image   variants=2  ") == TaskRequest(tool="image", variants=2)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("90sec", 90),
        ("2m", 120),
        ("2min", 120),
        ("1m30s", 90),
        ("1.5m", 90),
        ("0.5m", 30),
        ("1M30S", 90),
        (str(MAX_DURATION_SECONDS), MAX_DURATION_SECONDS),
        ("240m", MAX_DURATION_SECONDS),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1:30", 90),
        ("4h", MAX_DURATION_SECONDS),
    ],
)
def test_duration_forms(value: str, seconds: int) -> None:
    command = parse_command(f"quote video duration={value}")
    assert isinstance(command, TaskRequest)
    assert command.duration_seconds == seconds
    assert parse_duration(value) == seconds


def test_quoted_duration_with_a_space() -> None:
    command = parse_command('quote video duration="1m 30s"')
    assert isinstance(command, TaskRequest)
    assert command.duration_seconds == 90


def test_retries_zero_is_accepted() -> None:
    command = parse_command("quote image retries=0")
    assert isinstance(command, TaskRequest)
    assert command.retries == 0


def test_limits_are_inclusive() -> None:
    command = parse_command(f"quote image variants={MAX_VARIANTS} retries={MAX_RETRIES}")
    assert command == TaskRequest(tool="image", variants=MAX_VARIANTS, retries=MAX_RETRIES)


# --- balance and help ----------------------------------------------------------------------------


def test_balance_without_a_team() -> None:
    assert parse_command("balance") == BalanceCommand(team=None)


def test_balance_with_a_positional_team() -> None:
    assert parse_command("balance design") == BalanceCommand(team="design")


def test_balance_with_team_option() -> None:
    assert parse_command("balance team=design") == BalanceCommand(team="design")


def test_balance_team_is_lowercased() -> None:
    assert parse_command("Balance Design") == BalanceCommand(team="design")


def test_balance_refuses_two_teams() -> None:
    assert "one team at most" in error_of("balance design brand")
    assert "one team at most" in error_of("balance design team=brand")


def test_balance_refuses_quote_options() -> None:
    message = error_of("balance variants=2")
    assert "Unknown option `variants`" in message
    assert "`team`" in message


@pytest.mark.parametrize("text", ["help", "HELP", "--help", "-h", "?"])
def test_help(text: str) -> None:
    assert parse_command(text) == HelpCommand()


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_help(text: str) -> None:
    assert parse_command(text) == HelpCommand()


def test_unknown_subcommand_is_help_with_a_suggestion() -> None:
    assert parse_command("blance") == HelpCommand(unknown="blance", suggestion="balance")
    assert parse_command("qoute image") == HelpCommand(unknown="qoute", suggestion="quote")


def test_unknown_subcommand_with_nothing_close() -> None:
    assert parse_command("xyzzy") == HelpCommand(unknown="xyzzy", suggestion=None)


# --- errors --------------------------------------------------------------------------------------


def test_negative_variants() -> None:
    message = error_of("quote image variants=-2")
    assert message == "`variants` must be a positive whole number, not -2; e.g. `variants=1`."


def test_zero_variants() -> None:
    message = error_of("quote image variants=0")
    assert message == "`variants` must be a positive whole number, not 0; e.g. `variants=1`."


@pytest.mark.parametrize("value", ["two", "2.5", "1e3", "0x10"])
def test_variants_not_a_number(value: str) -> None:
    message = error_of(f"quote image variants={value}")
    assert message == f"`variants={value}` is not a whole number; use e.g. `variants=1`."


def test_negative_retries() -> None:
    message = error_of("quote image retries=-1")
    assert message == "`retries` must be a whole number of 0 or more, not -1; e.g. `retries=1`."


def test_too_many_variants() -> None:
    message = error_of(f"quote image variants={MAX_VARIANTS + 1}")
    assert message == f"`variants={MAX_VARIANTS + 1}` is more than the {MAX_VARIANTS} allowed; check for a typo."


def test_too_many_retries() -> None:
    assert f"more than the {MAX_RETRIES} allowed" in error_of(f"quote image retries={MAX_RETRIES + 1}")


def test_unknown_option_suggests_a_close_one() -> None:
    message = error_of("quote image varaints=2")
    assert message.startswith("Unknown option `varaints`. Did you mean `variants`?")
    assert "`quality`" in message


def test_option_given_twice() -> None:
    assert error_of("quote image variants=2 variants=3") == "`variants=` is given twice; keep one."


def test_option_given_twice_in_different_case() -> None:
    assert "given twice" in error_of("quote image variants=2 VARIANTS=3")


def test_empty_value() -> None:
    assert error_of("quote image quality=") == "`quality=` needs a value, like `quality=high`."


def test_bare_equals_sign() -> None:
    assert "Unknown option `=`" in error_of("quote image =2")


def test_missing_tool() -> None:
    message = error_of("quote")
    assert message.startswith("Which tool?")
    assert "/credits quote image" in message
    assert "Which tool?" in error_of("quote variants=2")


def test_extra_positional_words() -> None:
    message = error_of("quote image high 4")
    assert message == "I don't understand `high 4`; options look like `variants=2`."


@pytest.mark.parametrize("value", ["-5", "0"])
def test_duration_out_of_range(value: str) -> None:
    message = error_of(f"quote video duration={value}")
    assert message.startswith("`duration` must be a positive whole number")


@pytest.mark.parametrize("value", ["abc", "m", "s", "1s30m", "1:3x"])
def test_duration_not_a_length(value: str) -> None:
    message = error_of(f"quote video duration={value}")
    assert message == (
        f"`duration={value}` is not a length; give seconds like `duration=30`, minutes like `duration=2m` "
        "or `duration=1:30`, or hours like `duration=1h30m`."
    )


@pytest.mark.parametrize("value", ["1.25s", "0m", "0s", "0.001m", "1.01m", "1.5"])
def test_duration_that_is_not_whole_seconds(value: str) -> None:
    message = error_of(f"quote video duration={value}")
    assert "duration=" in message
    assert "whole number of seconds" in message or "not a length" in message


def test_duration_too_long() -> None:
    message = error_of("quote video duration=241m")
    assert message == "`duration=241m` is longer than the 4 hours allowed."
    assert error_of("quote video duration=5h") == "`duration=5h` is longer than the 4 hours allowed."
    assert "more than" in error_of(f"quote video duration={MAX_DURATION_SECONDS + 1}")


def test_huge_minute_duration_is_a_user_facing_error() -> None:
    assert "duration=" in error_of("quote video duration=" + "9" * 400 + "m")


def test_huge_count_is_a_user_facing_error() -> None:
    assert "variants=" in error_of("quote image variants=" + "9" * 5000)


def test_quote_team_is_lowercased_like_balance() -> None:
    assert parse_command("quote image team=Design") == TaskRequest(tool="image", team="design")


# --- robustness ----------------------------------------------------------------------------------

words = st.one_of(
    st.sampled_from(["quote", "balance", "help", "image", "video", "QUOTE", "team", "design", '"', "'", "=", " "]),
    st.builds(
        lambda key, value: f"{key}={value}",
        st.sampled_from(["quality", "variants", "duration", "retries", "team", "varaints", ""]),
        st.one_of(
            st.text(max_size=8),
            st.from_regex(r"[+-]?\d{0,6}(\.\d{0,3})?(m|s|min|sec)?(\d{0,3}s)?", fullmatch=True),
        ),
    ),
    st.text(max_size=12),
)


@settings(deadline=None, max_examples=500)
@given(st.lists(words, max_size=6).map(" ".join))
@example('quote image "unterminated')
@example("quote video duration=1e999m")
@example("quote image variants=٣")
def test_parse_command_only_raises_user_facing_errors(text: str) -> None:
    try:
        command = parse_command(text)
    except UserFacingError as error:
        assert error.message
        return
    assert isinstance(command, TaskRequest | BalanceCommand | HelpCommand)


@settings(deadline=None, max_examples=300)
@given(st.text())
def test_parse_command_on_arbitrary_text(text: str) -> None:
    try:
        command = parse_command(text)
    except UserFacingError as error:
        assert error.message
        return
    if isinstance(command, TaskRequest):
        assert 1 <= command.variants <= MAX_VARIANTS
        assert command.retries is None or 0 <= command.retries <= MAX_RETRIES
        assert command.duration_seconds is None or 1 <= command.duration_seconds <= MAX_DURATION_SECONDS


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("quote image variants=５", "`variants=５` is not a whole number; use the digits 0-9, e.g. `variants=1`."),
        ("quote image variants=٣", "`variants=٣` is not a whole number; use the digits 0-9, e.g. `variants=1`."),
        ("quote image retries=१", "`retries=१` is not a whole number; use the digits 0-9, e.g. `retries=1`."),
        ("quote video duration=３０", "`duration=３０` is not a whole number; use the digits 0-9, e.g. `duration=1`."),
        ("quote video duration=２m", "`duration=２m` is not a whole number; use the digits 0-9, e.g. `duration=1`."),
        ("admin topup design ５００", "`credits=５００` is not a whole number; use the digits 0-9, e.g. `credits=1`."),
        ("done １２", "`１２` is not a task number (use the digits 0-9): use e.g. `/credits done 12`;"),
        ("cancel #٣", "`#٣` is not a task number (use the digits 0-9): use e.g. `/credits cancel 12`;"),
    ],
)
def test_only_ascii_digits_are_numbers(text: str, shown: str) -> None:
    """Python's int() and \\d take any Unicode digit (issue 10 item 3); the bot reads 0-9 only."""
    assert error_of(text).startswith(shown)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ('run image note="client=nike" variants=2', "client=nike"),
        ('run image storyboard "client=nike" for launch', "storyboard client=nike for launch"),
        ("run image “client=nike”", "client=nike"),  # Slack's curly quotes
        ("run image don't panic", "don't panic"),
        ("run image storyboard for the launch", "storyboard for the launch"),
    ],
)
def test_a_quoted_note_may_hold_an_equals_sign(text: str, note: str) -> None:
    command = parse_command(text)
    assert isinstance(command, RunCommand)
    assert command.note == note


def test_an_unquoted_word_with_equals_is_still_an_option() -> None:
    assert error_of("run image client=nike").startswith("Unknown option `client`.")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("admin topup design 5 000", "`5 000` looks like one number written with a space: write `5000` (or `5,000`)"),
        ("admin topup design 12 500 spring", "`12 500` looks like one number written with a space: write `12500`"),
        ("admin adjust design -3 300 invoice KL-1182", "`-3 300` looks like one number written with a space"),
    ],
)
def test_a_figure_with_a_space_is_refused_whole(text: str, shown: str) -> None:
    """The bug (issue 25, item 4): `admin topup design 5 000` added 5 credits with the note "000"."""
    assert error_of(text).startswith(shown)


def test_a_topup_reads_thousands_separators_and_keeps_a_note_of_words() -> None:
    command = parse_command("admin topup design 5,000 march invoice")
    assert isinstance(command, AdminTopupCommand)
    assert (command.credits, command.note) == (5000, "march invoice")
