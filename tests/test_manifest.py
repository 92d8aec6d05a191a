"""manifest.yml is a valid Slack app manifest and asks for no more than the bot uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.processes import SHARED

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_PATH = REPO_ROOT / "manifest.yml"
SCHEMA_DIR = SHARED / "slack-manifest-schema"

# Every bot scope the bot has a use for; a new scope must be added here on purpose (and justified).
ALLOWED_BOT_SCOPES = {
    "commands",
    "chat:write",
    "users:read",
    "files:write",
    "channels:history",
    "groups:history",
    "users:read.email",
    "im:write",
}
EXPECTED_BOT_EVENTS = {"app_uninstalled", "tokens_revoked", "app_home_opened", "function_executed"}
EVENTS_URL = "https://YOUR-HOST/slack/events"

pytestmark = pytest.mark.skipif(
    not SCHEMA_DIR.is_dir(), reason=f"Slack's manifest schemas are not present at {SCHEMA_DIR}"
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_matches_slack_schema_for_its_major_version(manifest: dict[str, Any]) -> None:
    major = manifest["_metadata"]["major_version"]
    assert major == 1  # a classic Bolt app; major version 2 is for Slack-hosted functions and workflows
    schema = json.loads((SCHEMA_DIR / f"manifest.schema.{major}.0.0.json").read_text(encoding="utf-8"))

    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)

    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []


def test_display_information(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert info["name"] == "Keter Credits"
    assert len(info["long_description"]) >= 175
    # The schema states this pattern under the non-standard "regex" keyword, which validators ignore.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])


def test_credits_command_escapes_mentions(manifest: dict[str, Any]) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}

    assert set(commands) == {"/credits"}
    credits = commands["/credits"]
    assert credits["should_escape"] is True
    assert credits["url"] == EVENTS_URL
    assert credits["usage_hint"] == "quote image quality=high variants=4 · balance · run · help"
    assert manifest["features"]["bot_user"] == {"display_name": "credits", "always_online": True}


def test_scopes_are_allowed_and_justified(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    bot_scopes = scopes["bot"]

    assert set(scopes) == {"bot"}  # no user token scopes
    assert len(bot_scopes) == len(set(bot_scopes))
    assert set(bot_scopes) <= ALLOWED_BOT_SCOPES, set(bot_scopes) - ALLOWED_BOT_SCOPES
    assert {"commands", "chat:write"} <= set(bot_scopes)
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    unjustified = [s for s in bot_scopes if not re.search(rf"^\s*- {re.escape(s)}\s+#\s*\S", text, re.M)]
    assert unjustified == [], "each scope needs a comment saying why"


def test_settings_use_one_http_endpoint(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]

    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["event_subscriptions"]["request_url"] == EVENTS_URL
    assert set(settings["event_subscriptions"]["bot_events"]) == EXPECTED_BOT_EVENTS
    assert "user_events" not in settings["event_subscriptions"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is True  # Slack allows custom workflow steps only for org-ready apps
    assert settings["token_rotation_enabled"] is False


def test_manifest_declares_exactly_the_commands_the_app_registers(manifest: dict[str, Any]) -> None:
    from bot.slack.ids import SlashCommand

    declared = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert declared == {command.value for command in SlashCommand}


def test_every_scope_is_used_by_a_call_the_bot_makes(manifest: dict[str, Any]) -> None:
    """The minimum: each history/read scope is there because the code calls a method that needs it."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "bot").rglob("*.py"))
    needs = {
        "users:read": "users_info(",
        "files:write": "files_upload_v2(",
        "chat:write": "chat_postMessage(",
        "channels:history": "conversations_history(",
        "groups:history": "conversations_history(",
        "users:read.email": "users_lookupByEmail(",
        "im:write": "conversations_open(",
    }
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        if scope in needs:
            assert needs[scope] in source, f"{scope} is requested but nothing calls {needs[scope]}"


def test_home_tab_shortcut_and_workflow_steps_are_declared(manifest: dict[str, Any]) -> None:
    from bot.slack.ids import FunctionId, ShortcutId
    from bot.slack.listeners import LISTENERS

    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert set(shortcuts) == {s.value for s in ShortcutId}
    assert shortcuts[ShortcutId.QUOTE_TASK]["name"] == "Quote a Keter Labs task"
    assert set(manifest["functions"]) == {f.value for f in FunctionId}
    registered = {matcher for kind, matcher, _ in LISTENERS if kind == "function"}
    assert registered == set(manifest["functions"])
    assert set(manifest["functions"]["quote_task"]["output_parameters"]) == {
        "total",
        "likely_low",
        "likely_high",
        "needs_approval",
    }
    assert set(manifest["functions"]["request_credits"]["output_parameters"]) == {"task_reference", "status"}
    for step in ("quote_task", "request_credits"):  # issue 24: a step's task counts against a client project
        assert manifest["functions"][step]["input_parameters"]["project"]["type"] == "string"
    assert "KC-12" in manifest["functions"]["request_credits"]["output_parameters"]["task_reference"]["description"]
