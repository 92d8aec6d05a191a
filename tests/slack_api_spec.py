"""Check Web API calls against Slack's published OpenAPI description (a test helper, not a test module).

The stand-in answers whatever it is asked; this catches what it would let through: a misspelt method,
a missing required argument, an argument the method does not take. The spec file dates from October 2020,
so the few later methods and parameters the bot uses are listed below from Slack's current method docs.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from tests.processes import SHARED

SPEC_PATH = SHARED / "slack-web-api-spec" / "slack_web_openapi_v2_without_examples.json"


@dataclass(frozen=True)
class MethodSpec:
    """What one Web API method requires and accepts (``token`` excluded: it is checked separately)."""

    required: frozenset[str]
    accepted: frozenset[str]
    token_required: bool


# Methods Slack added after the spec was published (docs.slack.dev/reference/methods/<name>).
NEWER_METHODS: dict[str, MethodSpec] = {
    "files.getUploadURLExternal": MethodSpec(
        required=frozenset({"filename", "length"}),
        accepted=frozenset({"filename", "length", "alt_txt", "snippet_type"}),
        token_required=True,
    ),
    "files.completeUploadExternal": MethodSpec(
        required=frozenset({"files"}),
        accepted=frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}),
        token_required=True,
    ),
    # docs.slack.dev/reference/methods/functions.completeSuccess and functions.completeError (2024)
    "functions.completeSuccess": MethodSpec(
        required=frozenset({"function_execution_id", "outputs"}),
        accepted=frozenset({"function_execution_id", "outputs"}),
        token_required=True,
    ),
    "functions.completeError": MethodSpec(
        required=frozenset({"function_execution_id", "error"}),
        accepted=frozenset({"function_execution_id", "error"}),
        token_required=True,
    ),
}

# Parameters Slack added to methods that are in the spec (message metadata arrived in 2022).
NEWER_PARAMS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"metadata", "markdown_text"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    "chat.update": frozenset({"metadata", "markdown_text", "file_ids", "reply_broadcast"}),
    "conversations.history": frozenset({"include_all_metadata"}),
    "conversations.replies": frozenset({"include_all_metadata"}),
}

# Bolt gives each request a WebClient with the workspace as a default ``team_id`` argument (Slack needs
# it from org-wide apps and ignores it otherwise), so every method may carry it.
SDK_DEFAULT_PARAMS = frozenset({"team_id"})


def spec_available() -> bool:
    """Whether the shared spec file is present (it lives outside the repository)."""
    return SPEC_PATH.is_file()


@functools.cache
def load_spec_index() -> dict[str, MethodSpec]:
    """Read the spec once and index each method's parameters by name."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    index: dict[str, MethodSpec] = {}
    for path, operations in spec["paths"].items():
        method = path.lstrip("/")
        required: set[str] = set()
        accepted: set[str] = set()
        token_required = False
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if name == "token":
                    token_required = token_required or bool(parameter.get("required"))
                    continue
                accepted.add(name)
                if parameter.get("required") and parameter.get("in") in ("formData", "query"):
                    required.add(name)
        accepted |= NEWER_PARAMS.get(method, frozenset())
        index[method] = MethodSpec(frozenset(required), frozenset(accepted), token_required)
    for method, method_spec in NEWER_METHODS.items():
        index.setdefault(method, method_spec)
    return index


def check_call_against_spec(
    method: str, args: dict[str, Any], has_token: bool, *, check_unknown_args: bool = True
) -> list[str]:
    """Problems with one call (empty when fine): unknown method, missing required or unknown arguments."""
    method_spec = load_spec_index().get(method)
    if method_spec is None:
        return [f"{method}: not a method in Slack's Web API description"]
    present = {name for name, value in args.items() if value is not None}
    problems = [f"{method}: required argument {name!r} is missing" for name in sorted(method_spec.required - present)]
    if method_spec.token_required and not (has_token or "token" in present):
        problems.append(f"{method}: requires a token and none was sent")
    if check_unknown_args:
        problems += [
            f"{method}: argument {name!r} is not one the method takes "
            "(if Slack added it after October 2020, list it in NEWER_PARAMS)"
            for name in sorted(present - method_spec.accepted - SDK_DEFAULT_PARAMS - {"token"})
        ]
    return problems
