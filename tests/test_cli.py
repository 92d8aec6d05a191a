"""``python -m bot`` as a user runs it: bad settings, the console, database maintenance.

Most tests call ``bot.__main__.main([...])`` in-process with a clean environment; only the exit status of
a real process on bad settings needs a subprocess (gunicorn and log redaction: ``tests/e2e``).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest
import time_machine

from bot.__main__ import main
from tests.processes import BOT_VARIABLES, REPO, run_bot


@dataclass(frozen=True)
class Run:
    """What one in-process ``main([...])`` returned and printed."""

    returncode: int
    stdout: str
    stderr: str


class RunMain(Protocol):
    def __call__(self, *args: str, stdin: str | bytes = "", **env: str) -> Run: ...


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Iterator[RunMain]:
    """``main(args)`` in this process, in ``tmp_path``, with only the given bot settings in the environment."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def run(*args: str, stdin: str | bytes = "", **env: str) -> Run:
        for name in BOT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        # the console reads standard input at call time; bytes arrive as a real stdin does, through a text layer
        text = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8") if isinstance(stdin, bytes) else io.StringIO(stdin)
        monkeypatch.setattr("sys.stdin", text)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    yield run
    root.handlers[:] = saved[0]  # main() configured logging for the process: undo it for the next test
    root.setLevel(saved[1])


def test_a_malformed_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    result = run_bot(PORT="abc", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("keter-credits: PORT:")
    assert "Traceback" not in result.stderr


def test_a_missing_signing_secret_is_named(run_main: RunMain) -> None:
    result = run_main(SLACK_BOT_TOKEN="xoxb-123")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET: is not set" in result.stderr


def test_a_bad_credits_file_names_the_bad_key(run_main: RunMain, tmp_path: Path) -> None:
    bad = tmp_path / "credits.yml"
    bad.write_text((REPO / "bot" / "default_credits.yml").read_text().replace("plan: pro", "plan: prro"))
    result = run_main(CREDITS_CONFIG=str(bad))
    assert result.returncode == 2
    assert "teams.design.plan: unknown plan 'prro' (known: starter, pro)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_answers_scripted_commands(run_main: RunMain, tmp_path: Path) -> None:
    script = (
        "/credits help\n/credits quote image quality=high variants=4\nas U0BOB /credits balance\n/credits quote imgae\n"
    )
    result = run_main(stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "local console" in out and "no Slack credentials" in out
    assert "/credits quote <tool>" in out
    assert "Total: 40 credits" in out
    assert "Balance: team design" in out and "Available now: 5,500 credits" in out
    assert "Unknown tool imgae. Did you mean image?" in out
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.db")), "the console must not create the default database"


def test_db_upgrade_and_check(run_main: RunMain, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgraded = run_main("db", "upgrade", DATABASE_URL=url)
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout
    checked = run_main("db", "check", DATABASE_URL=url)
    assert checked.returncode == 0
    assert "every running balance equals the sum of its ledger entries" in checked.stdout
    assert "every task's holds and captures add up" in checked.stdout


def test_db_check_reports_a_task_whose_holds_do_not_add_up(run_main: RunMain, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.store.db import Database
    from bot.store.tables.tasks import Task

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run_main("db", "upgrade", DATABASE_URL=url).returncode == 0
    db = Database(url)
    with db.write() as session:  # a task holding 25 credits the ledger never reserved
        now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        session.add(
            Task(
                workspace_id="T0CLI",
                team="design",
                number=7,
                requester="U0ALICE",
                tool="image",
                quality="high",
                quoted_cost=25,
                held=25,
                status="held",
                created_at=now,
            )
        )
    db.dispose()
    checked = run_main("db", "check", DATABASE_URL=url)
    assert checked.returncode == 1
    assert "T0CLI/design task #7 (held): holds 25 but its entries hold 0" in checked.stdout
    assert "1 task(s) whose holds do not add up" in checked.stdout


def test_the_console_clicks_approval_buttons(run_main: RunMain) -> None:
    script = "/credits run image quality=ultra variants=4 moodboard\nas U0BOB approve\nas U0CAROL approve\n"
    out = run_main(stdin=script).stdout
    assert "Task #1 needs approval" in out and "[Approve] [Deny]" in out
    assert "Approved by @U0BOB" in out and "@U0ALICE approved by @U0BOB: task #1 can go ahead" in out
    assert "Too late: this request was already settled" in out


def test_the_console_names_a_line_that_is_not_utf8_and_goes_on(run_main: RunMain) -> None:
    script = b"/credits help\n/credits quote image variants=\xff\xfe\n/credits quote image quality=high variants=4\n"
    result = run_main(stdin=script)
    assert result.returncode == 0, result.stderr
    assert "line 2 is not valid UTF-8 text (byte 31); skipped it" in result.stdout
    assert "Total: 40 credits" in result.stdout  # the line after it still ran
    assert "Traceback" not in result.stderr


def test_digest_needs_no_signing_secret_and_names_an_unknown_team_before_asking_slack(run_main: RunMain) -> None:
    unreachable = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    result = run_main("digest", "--team", "desgn", "--now", **unreachable)
    assert result.returncode == 2
    assert result.stdout.strip() == "unknown team 'desgn' (teams: design)"
    assert "SLACK_SIGNING_SECRET" not in result.stderr


def test_digest_with_slack_unreachable_is_one_line_and_exit_1(run_main: RunMain) -> None:
    result = run_main("digest", "--due", SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL="http://127.0.0.1:9/api/")
    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "cannot reach Slack at http://127.0.0.1:9/api/ ([Errno 111] Connection refused); nothing was posted"
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_the_console_clicks_a_request_by_task_number_even_from_an_earlier_session(
    run_main: RunMain, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first = run_main(
        stdin="/credits run image quality=ultra variants=4 moodboard\n/credits run image\n", DATABASE_URL=url
    )
    assert "Task #1 needs approval" in first.stdout
    later = run_main(stdin="as U0BOB approve #1\nas U0BOB approve #7\n", DATABASE_URL=url)
    assert "Approved by @U0BOB" in later.stdout and "task #1 can go ahead" in later.stdout
    assert "(no approval request has been posted for task #7)" in later.stdout


def test_the_console_clicks_start_a_second_task_and_takes_hours_and_quoted_notes(run_main: RunMain) -> None:
    script = (
        "/credits run image variants=2\n/credits run image variants=2\nas U0ALICE again\n"
        '/credits quote voice duration=1h30m\n/credits run image note="client=nike"\n/credits tasks\n'
    )
    out = run_main(stdin=script).stdout
    assert "Did you mean a second one?" in out and "[Start a second task]" in out
    assert "Task #2 reserved" in out
    assert "Quote: voice · standard · 5,400 s" in out and "Total: 1,125 credits" in out
    assert "“client=nike”" in out


def test_the_console_runs_the_approvals_sweep(tmp_path: Path) -> None:
    import io
    import time

    from bot.credits_file import default_config_text, parse_config
    from bot.devtools.console import Console
    from bot.settings import Settings

    config = parse_config(default_config_text() + "approvals: {expire_after_hours: 0.0003}\n")  # about a second
    console = Console(Settings(), config, out=io.StringIO())
    console.start()
    try:
        assert "needs approval" in console.run_line("/credits run image quality=ultra variants=4 moodboard")
        time.sleep(1.5)
        shown = console.run_line("/credits tasks")
    finally:
        console.stop()
    assert "Expired" in shown and "nobody decided in time" in shown
    assert "no open tasks" in shown


DOCUMENTED = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _console_examples(page: Path) -> list[tuple[str, str]]:
    """Each console example on a page: the script of its ``$ printf '…' | python3 -m bot`` line, and the output."""
    examples = []
    for block in re.findall(r"```text\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
        first, _, shown = block.partition("\n")
        match = re.fullmatch(r"\$ printf '(.*)' \| python3 -m bot", first.strip())
        if match:
            examples.append((match.group(1).encode().decode("unicode_escape"), shown))
    return examples


EXAMPLES = [
    pytest.param(script, shown, id=f"{page.relative_to(REPO).as_posix()}-{number}")
    for page in DOCUMENTED
    for number, (script, shown) in enumerate(_console_examples(page), 1)
]


def test_the_readme_shows_a_console_example() -> None:
    assert _console_examples(REPO / "README.md"), "README.md shows no `$ printf '…' | python3 -m bot` example"


@pytest.mark.parametrize(("script", "shown"), EXAMPLES)
def test_the_documented_console_examples_are_what_the_console_prints(
    run_main: RunMain, script: str, shown: str
) -> None:
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=True):  # the README's date
        out = run_main(stdin=script).stdout
    transcript = out[out.index("\n> ") + 1 :]  # after the banner
    assert transcript.rstrip() == shown.rstrip()


# -- python -m bot import charges FILE.csv ------------------------------------------------------------

CHARGES_HEADER = (
    "id,occurred_at,team,user_email,tool,quality,variants,duration_seconds,credits,kind,version_kept,project,reference"
)
GOOD_LINES = (
    "ch_1,2026-11-24T10:05:00Z,design,alice@studio.example,image,high,4,,32,attempt,,Nike spring,KC-12\n"
    "ch_2,2026-11-24T10:09:00Z,design,alice@studio.example,image,high,4,,32,retry,2,Nike spring,KC-12\n"
    "ch_3,2026-11-24T11:00:00Z,design,,video,high,,10,120,attempt,,,\n"
)


@pytest.fixture
def slack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for a CLI that talks to the Web API stand-in and an SQLite file."""
    from bot.devtools.slack_standin import SlackStandIn

    with SlackStandIn() as api:
        yield {
            "SLACK_BOT_TOKEN": api.bot_token,
            "SLACK_SIGNING_SECRET": "cli-test",
            "SLACK_API_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        }


def test_import_charges_prints_what_it_did_and_a_reimport_changes_nothing(
    run_main: RunMain, slack_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "charges.csv"
    path.write_text(CHARGES_HEADER + "\n" + GOOD_LINES, encoding="utf-8")
    first = run_main("import", "charges", str(path), **slack_env)
    assert (first.returncode, first.stdout) == (0, "design: 3 new, 0 already known, 0 matched to tasks, 3 unplanned\n")
    again = run_main("import", "charges", str(path), **slack_env)
    assert again.stdout == "design: 0 new, 3 already known, 0 matched to tasks, 0 unplanned\n"


def test_import_charges_with_bad_lines_imports_nothing_unless_skip_bad(
    run_main: RunMain, slack_env: dict[str, str], tmp_path: Path
) -> None:
    bad = (
        "ch_4,2026-11-24T10:05:00Z,design,,image,high,4,,0,attempt,,,\n"
        "ch_5,2026-11-24T10:05:00Z,marketing,,image,high,4,,3,attempt,,,\n"
        "ch_6,not a date,design,,image,high,4,,3,attempt,,,\n"
    )
    path = tmp_path / "charges.csv"
    path.write_text(CHARGES_HEADER + "\n" + GOOD_LINES + bad, encoding="utf-8")
    refused = run_main("import", "charges", str(path), **slack_env)
    assert refused.returncode == 1
    lines = refused.stdout.splitlines()
    assert lines[0].startswith("line 5: credits: Input should be greater than or equal to 1")
    assert lines[1].startswith("line 6: unknown team 'marketing' (known: design")
    assert lines[2].startswith("line 7: occurred_at:")
    assert lines[3] == "3 bad line(s); nothing was imported (fix them, or pass --skip-bad)"
    skipped = run_main("import", "charges", str(path), "--skip-bad", **slack_env)
    assert (skipped.returncode, skipped.stdout.splitlines()[-1]) == (
        0,
        "design: 3 new, 0 already known, 0 matched to tasks, 3 unplanned",
    )
