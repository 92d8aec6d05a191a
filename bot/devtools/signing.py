"""Build slash-command requests signed the way Slack signs them (console, tests and benchmarks)."""

from __future__ import annotations

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
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}",
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
