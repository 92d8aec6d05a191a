"""``python -m bot`` as a user runs it: bad settings, the console, database maintenance."""

from __future__ import annotations

from pathlib import Path

from tests.processes import run_bot


def test_a_malformed_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    result = run_bot(PORT="abc", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("keter-credits: PORT:")
    assert "Traceback" not in result.stderr


def test_a_missing_signing_secret_is_named(tmp_path: Path) -> None:
    result = run_bot(SLACK_BOT_TOKEN="xoxb-123", cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET: is not set" in result.stderr


def test_a_bad_credits_file_names_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "credits.yml"
    bad.write_text(
        (Path(__file__).parents[1] / "bot" / "default_credits.yml").read_text().replace("plan: pro", "plan: prro")
    )
    result = run_bot(CREDITS_CONFIG=str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "teams.design.plan: unknown plan 'prro' (known: starter, pro)" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_answers_scripted_commands(tmp_path: Path) -> None:
    script = (
        "/credits help\n/credits quote image quality=high variants=4\nas U0BOB /credits balance\n/credits quote imgae\n"
    )
    result = run_bot(stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "local console" in out and "no Slack credentials" in out
    assert "/credits quote <tool>" in out
    assert "Total: 40 credits" in out
    assert "Balance: team design" in out and "Available now: 5,500 credits" in out
    assert "Unknown tool imgae. Did you mean image?" in out
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.db")), "the console must not create the default database"


def test_db_upgrade_and_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgraded = run_bot("db", "upgrade", DATABASE_URL=url)
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout
    checked = run_bot("db", "check", DATABASE_URL=url)
    assert checked.returncode == 0
    assert "every running balance equals the sum of its ledger entries" in checked.stdout


def test_the_console_clicks_approval_buttons(tmp_path: Path) -> None:
    script = "/credits run image quality=ultra variants=4 moodboard\nas U0BOB approve\nas U0CAROL approve\n"
    out = run_bot(stdin=script, cwd=tmp_path).stdout
    assert "Task #1 needs approval" in out and "[Approve] [Deny]" in out
    assert "Approved by @U0BOB" in out and "@U0ALICE approved by @U0BOB: task #1 can go ahead" in out
    assert "Too late: this request was already settled" in out
