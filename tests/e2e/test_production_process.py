"""The bot as production runs it (``python -m bot`` under gunicorn): it serves, and its logs keep secrets."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.devtools.signing import sign, signed_slash_command
from bot.devtools.slack_standin import SlackStandIn
from tests.e2e.conftest import ALICE, BOB, DESIGN_CHANNEL
from tests.processes import REPO, bot_environment, free_port


@pytest.fixture
def production_bot(tmp_path: Path) -> Iterator[tuple[SlackStandIn, str, str, Path]]:
    """`python -m bot` in HTTP mode with default logging, talking to the stand-in."""
    secret = secrets.token_hex(16)
    log_path = tmp_path / "bot.log"
    with SlackStandIn() as standin, log_path.open("w") as log:
        standin.add_user(ALICE)
        standin.add_user(BOB)
        port = free_port()
        env = bot_environment(
            SLACK_BOT_TOKEN=standin.bot_token,
            SLACK_SIGNING_SECRET=secret,
            SLACK_API_URL=standin.base_url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}",
            PORT=str(port),
            WEB_WORKERS="1",
            WEB_THREADS="8",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):  # not listening, or the worker still loading
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the bot did not start serving"
                time.sleep(0.1)
            yield standin, base, secret, log_path
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_default_logs_never_contain_tokens_secrets_or_response_urls(
    production_bot: tuple[SlackStandIn, str, str, Path],
) -> None:
    standin, base, secret, log_path = production_bot
    response_urls = []
    for user, text in [
        (ALICE, "quote image quality=high variants=4"),
        (BOB, "balance"),
        (ALICE, "quote imgae"),
        ("U0NOBODY", "quote image"),
        (ALICE, "frobnicate"),
    ]:
        response_url = standin.new_response_url()
        response_urls.append(response_url)
        body, headers = signed_slash_command(
            secret, text=text, user_id=user, channel_id=DESIGN_CHANNEL, response_url=response_url
        )
        answer = requests.post(base + "/slack/events", data=body, headers=headers, timeout=10)
        assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"  # answered in the ack
    forged_body, _ = signed_slash_command(
        secret, text="balance", user_id=ALICE, channel_id=DESIGN_CHANNEL, response_url=standin.new_response_url()
    )
    refused = requests.post(base + "/slack/events", data=forged_body, headers=sign("wrong", forged_body), timeout=10)
    assert refused.status_code == 401
    time.sleep(0.5)
    logs = log_path.read_text()
    assert "serving Slack requests on port" in logs  # the log is really being written
    assert standin.bot_token not in logs
    assert secret not in logs
    assert "/response/" not in logs
    for response_url in response_urls:
        assert response_url not in logs
    assert "Traceback" not in logs


def test_no_request_can_flood_or_forge_the_log(production_bot: tuple[SlackStandIn, str, str, Path]) -> None:
    """Three unsigned 5 MB posts and newlines in bodies and notes: a few short lines, none forged."""
    standin, base, secret, log_path = production_bot
    before = log_path.stat().st_size
    flood = b"text=" + b"A" * (5 * 1024 * 1024) + b"%0A2026-01-01 00:00:00,000 ERROR forged: flood"
    for _ in range(3):
        assert requests.post(base + "/slack/events", data=flood, timeout=30).status_code == 413
    unsigned = "text=hi%0AERROR+forged%3A+unsigned&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fx"
    headers = {"X-Slack-Request-Timestamp": "1 ERROR forged: header", "X-Slack-Signature": "v0=00"}
    assert requests.post(base + "/slack/events", data=unsigned, headers=headers, timeout=10).status_code == 401
    response_url = standin.new_response_url()
    body, signed_headers = signed_slash_command(
        secret,
        text="run image variants=1 launch\nERROR forged: note",
        user_id=ALICE,
        channel_id=DESIGN_CHANNEL,
        response_url=response_url,
    )
    assert requests.post(base + "/slack/events", data=body, headers=signed_headers, timeout=10).status_code == 200
    standin.wait_for_response(response_url, timeout=10)
    time.sleep(0.5)
    written = log_path.read_bytes()[before:].decode()
    assert len(written) < 4_000
    assert "AAAA" not in written
    assert not [line for line in written.splitlines() if "ERROR forged" in line.split(": ", 1)[0]]
    assert not [line for line in written.splitlines() if line.startswith(("ERROR", "2026-01-01"))]


def test_serve_starts_while_slack_is_unreachable_and_is_ready_once_slack_answers(tmp_path: Path) -> None:
    """Slack's API on a closed port: alive at once, not ready (503, a reason), ready when it answers; no traceback."""
    secret = secrets.token_hex(16)
    log_path = tmp_path / "bot.log"
    slack_port, port = free_port(), free_port()
    env = bot_environment(
        SLACK_BOT_TOKEN="xoxb-standin",
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ledger.db'}",
        PORT=str(port),
        WEB_WORKERS="1",
        WEB_THREADS="4",
    )
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):  # not listening, or the worker still loading
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the bot did not start serving"
                time.sleep(0.1)
            deadline = time.monotonic() + 20
            while "did not answer auth.test" not in log_path.read_text():  # the check's first attempt failed
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            not_ready = requests.get(base + "/readyz", timeout=5)
            assert not_ready.status_code == 503
            assert not_ready.json()["ready"] is False
            assert not_ready.json()["reason"].startswith("slack: URLError")  # the closed port, in one line
            with SlackStandIn(port=slack_port) as standin:
                standin.add_user(ALICE)
                deadline = time.monotonic() + 20
                while requests.get(base + "/readyz", timeout=5).status_code != 200:
                    assert time.monotonic() < deadline, "never ready once Slack answered"
                    time.sleep(0.2)
                assert requests.get(base + "/healthz", timeout=5).status_code == 200
                body, headers = signed_slash_command(
                    secret,
                    text="balance",
                    user_id=ALICE,
                    channel_id=DESIGN_CHANNEL,
                    response_url=standin.new_response_url(),
                )
                answer = requests.post(base + "/slack/events", data=body, headers=headers, timeout=10)
                assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"
        finally:
            process.terminate()
            process.wait(timeout=20)
    logs = log_path.read_text()
    assert "Traceback" not in logs, logs
    assert len([line for line in logs.splitlines() if "did not answer auth.test" in line]) == 1, logs
