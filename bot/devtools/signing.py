"""Build slash-command requests signed the way Slack signs them (console, tests and benchmarks)."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def slash_command_form(
    *,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    team_id: str = "T0STANDIN",
    command: str = "/credits",
) -> dict[str, str]:
    """The form fields Slack posts for a slash command."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "keter",
        "channel_id": channel_id,
        "channel_name": "credits",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0KETER",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }


def sign(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers that make ``body`` a genuine Slack request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    if signature is None:
        raise ValueError("no signature could be made (empty signing secret?)")
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def signed_slash_command(signing_secret: str, **fields: str) -> tuple[str, dict[str, str]]:
    """A form-encoded slash command body and its signed headers."""
    body = urlencode(slash_command_form(**fields))
    return body, sign(signing_secret, body)


def _trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}"


def _interaction(kind: str, user_id: str, team_id: str) -> dict[str, object]:
    """What every interactivity payload starts with: its type, the workspace and who acted."""
    return {
        "type": kind,
        "team": {"id": team_id, "domain": "keter"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": "A0KETER",
        "token": "deprecated-verification-token",
        "trigger_id": _trigger_id(),
    }


def block_action_payload(
    *,
    action_id: str,
    value: str,
    user_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str,
    team_id: str = "T0STANDIN",
) -> dict[str, object]:
    """The ``block_actions`` payload Slack posts when a button is clicked."""
    return _interaction("block_actions", user_id, team_id) | {
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
        "channel": {"id": channel_id, "name": "design"},
        "message": {"type": "message", "ts": message_ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": "button",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def view_submission_payload(
    *, callback_id: str, private_metadata: str, values: dict[str, object], user_id: str, team_id: str = "T0STANDIN"
) -> dict[str, object]:
    """The ``view_submission`` payload Slack posts when a modal is submitted."""
    return _interaction("view_submission", user_id, team_id) | {
        "view": {
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "blocks": [],
        },
    }


def signed_interaction(signing_secret: str, payload: dict[str, object]) -> tuple[str, dict[str, str]]:
    """An interactivity request: ``payload=<json>``, form-encoded and signed."""
    body = urlencode({"payload": json.dumps(payload)})
    return body, sign(signing_secret, body)
