"""Hostile and malformed requests over real HTTP: refused at the edge with 413, 401 or 400 and one short log line."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import pytest

from bot.devtools.signing import sign, signed_interaction, view_submission_payload
from bot.slack.ids import CallbackId
from bot.web import MAX_BODY_BYTES
from tests.e2e.conftest import WORKSPACE, HttpBot
from tests.e2e.test_request_verification import nothing_happened


def edge_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.web"]


def test_a_body_over_the_limit_is_refused_unread_and_unlogged(bot: HttpBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    flood = "text=" + "A" * (5 * 1024 * 1024) + "%0AERROR+forged"
    assert bot.post(flood, {"X-Slack-Request-Timestamp": str(int(time.time()))}).status_code == 413
    body, response_url = bot.command_body("balance")
    signed_but_big = body + "&padding=" + "B" * MAX_BODY_BYTES
    assert bot.post(signed_but_big, sign(bot.signing_secret, signed_but_big)).status_code == 413
    lines = edge_lines(caplog)
    assert len(lines) == 2 and all("over 65536 bytes" in line and len(line) < 200 for line in lines)
    assert not any("AAAA" in r.getMessage() or "BBBB" in r.getMessage() for r in caplog.records)
    nothing_happened(bot, response_url)


def test_a_timestamp_past_pythons_int_limit_gets_401_and_its_response_url_is_never_used(
    bot: HttpBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: Bolt's verification raised and the error handler posted to the unverified response_url."""
    body, response_url = bot.command_body("balance")
    headers = sign(bot.signing_secret, body)
    headers["X-Slack-Request-Timestamp"] = "9" * 5000
    assert bot.post(body, headers).status_code == 401
    assert edge_lines(caplog) == [edge_lines(caplog)[0]] and "malformed timestamp" in edge_lines(caplog)[0]
    nothing_happened(bot, response_url)


def deny_submission(state: object, *, drop_state: bool = False) -> dict[str, object]:
    payload = view_submission_payload(
        callback_id=CallbackId.DENY_REASON, private_metadata='{"approval_id": 1}', values={}, user_id="U0BOB"
    )
    view = dict(payload["view"])  # type: ignore[call-overload]
    if drop_state:
        del view["state"]
    else:
        view["state"] = state
    return payload | {"view": view, "team": {"id": WORKSPACE}}


def signed(bot: HttpBot, body: bytes | str, content_type: str) -> tuple[bytes, dict[str, str]]:
    """Signed as Slack signs, over raw bytes (``bot.devtools.signing`` signs text only)."""
    raw = body.encode() if isinstance(body, str) else body
    timestamp = str(int(time.time()))
    digest = hmac.new(bot.signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    return raw, {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": content_type,
    }


def interaction(payload: dict[str, object]) -> str:
    """An interactivity form from these workspace and user."""
    return urlencode({"payload": json.dumps({"team": {"id": WORKSPACE}, "user": {"id": "U0ALICE"}} | payload)})


def function_event(changes: dict[str, object]) -> dict[str, object]:
    """A custom step's ``function_executed`` event, changed."""
    event = {
        "type": "function_executed",
        "function_execution_id": "Fx0SHAPE",
        "function": {"callback_id": "quote_task"},
        "inputs": {},
        "bot_access_token": "xwfp-shape",
    } | changes
    return {"type": "event_callback", "team_id": WORKSPACE, "event": event, "event_id": "Ev0FUNCTION"}


FORM = "application/x-www-form-urlencoded"
MALFORMED = {
    "non-utf8": (b"command=%2Fcredits&text=\xff\xfe\xfa", FORM),
    "payload-not-json": ("payload=%7Bnot+json", FORM),
    "state-null": (urlencode({"payload": json.dumps(deny_submission(None))}), FORM),
    "no-state": (urlencode({"payload": json.dumps(deny_submission(None, drop_state=True))}), FORM),
    "json-as-form": (json.dumps({"command": "/credits", "text": "balance"}), FORM),
    "form-as-json": ("command=%2Fcredits&text=balance", "application/json"),
    "json-array": ("[1, 2]", "application/json"),
    # Signed payloads Bolt's matchers or the listeners would index without checking (a 500 and a traceback before)
    "actions-empty": (interaction({"type": "block_actions", "actions": []}), FORM),
    "actions-not-objects": (interaction({"type": "block_actions", "actions": ["x"]}), FORM),
    "action-without-id": (interaction({"type": "block_actions", "actions": [{"value": "1"}]}), FORM),
    "action-id-a-number": (interaction({"type": "block_actions", "actions": [{"action_id": 5}]}), FORM),
    "view-callback-id-a-number": (interaction({"type": "view_submission", "view": {"callback_id": 5}}), FORM),
    "view-without-callback-id": (interaction({"type": "view_submission", "view": {"state": {"values": {}}}}), FORM),
    "view-metadata-a-number": (
        interaction(
            deny_submission({"values": {}})
            | {"view": {"callback_id": "deny_reason", "private_metadata": 5, "state": {"values": {}}}}
        ),
        FORM,
    ),
    "view-values-not-objects": (interaction(deny_submission({"values": {"reason": 5}})), FORM),
    "shortcut-without-callback-id": (interaction({"type": "shortcut"}), FORM),
    "event-without-type": (
        json.dumps({"type": "event_callback", "event": {}, "event_id": "Ev0SHAPE"}),
        "application/json",
    ),
    "function-inputs-a-list": (json.dumps(function_event({"inputs": []})), "application/json"),
    "function-without-function": (json.dumps(function_event({"function": None})), "application/json"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_signed_but_malformed_request_gets_400_and_one_log_line(
    bot: HttpBot, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    body, content_type = MALFORMED[kind]
    raw, headers = signed(bot, body, content_type)
    answer = bot.http.post(bot.events_url, data=raw, headers=headers, timeout=10)
    assert answer.status_code == 400, answer.text
    assert len(edge_lines(caplog)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback anywhere
    nothing_happened(bot, "")


def test_a_well_formed_submission_still_reaches_the_bot(bot: HttpBot) -> None:
    body, headers = signed_interaction(bot.signing_secret, deny_submission({"values": {}}))
    assert bot.post(body, headers).status_code == 200
