"""The log handler writes one line per record, whatever a member typed, with secrets redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging, escape_controls


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_typed_newline_cannot_forge_a_record(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", ["xoxb-secret-token"])
    note = "launch\n2026-01-01 00:00:00,000 ERROR bot: forged\r\x1b[2K\u2028done"
    logging.getLogger("bot.test").info("task noted: %s (token xoxb-secret-token)", note)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.test").exception("failed on %s", "a\nb")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(
        "INFO bot.test: task noted: launch\\n2026-01-01 00:00:00,000 ERROR bot: forged\\r\\x1b[2K\\u2028done"
        " (token [redacted])"
    )
    assert lines[1].endswith("ERROR bot.test: failed on a\\nb") and lines[2] == "Traceback (most recent call last):"


def test_escaping_keeps_ordinary_text() -> None:
    assert escape_controls("Zoë's café, 1,000 credits") == "Zoë's café, 1,000 credits"
