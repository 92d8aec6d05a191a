"""``/credits``: parse, ack at once, call a service, answer ephemerally through ``response_url``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.admin_commands import (
    AdminDigestCommand,
    AdminLimitCommand,
    AdminRoleCommand,
    AdminTeamCommand,
    AdminTopupCommand,
)
from bot.domain.command_line import Command as ParsedCommand
from bot.domain.command_line import DigestPreviewCommand, parse_command
from bot.domain.commands import BalanceCommand, HelpCommand, QuoteCommand
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import CancelCommand, DoneCommand, LimitsCommand, RunCommand, TasksCommand
from bot.slack.deps import Deps
from bot.slack.ids import Command
from bot.slack.listeners.commands.admin import answer_admin, answer_digest_preview
from bot.slack.listeners.commands.context import CommandContext, Reply
from bot.slack.listeners.commands.quoting import answer_balance, answer_help, answer_quote
from bot.slack.listeners.commands.tasks import answer_cancel, answer_done, answer_limits, answer_run, answer_tasks
from bot.slack.listeners.errors import error_boundary

Handler = Callable[[CommandContext, Any], Reply]
HANDLERS: dict[type, Handler] = {
    QuoteCommand: answer_quote,
    BalanceCommand: answer_balance,
    HelpCommand: answer_help,
    RunCommand: answer_run,
    DoneCommand: answer_done,
    CancelCommand: answer_cancel,
    TasksCommand: answer_tasks,
    LimitsCommand: answer_limits,
    AdminRoleCommand: answer_admin,
    AdminLimitCommand: answer_admin,
    AdminTopupCommand: answer_admin,
    AdminTeamCommand: answer_admin,
    AdminDigestCommand: answer_admin,
    DigestPreviewCommand: answer_digest_preview,
}


def command_context(
    deps: Deps, body: dict[str, Any], client: WebClient, context: BoltContext, text: str
) -> CommandContext:
    """Who typed what where, with the workspace's effective config."""
    workspace_id = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return CommandContext(
        deps=deps,
        client=client,
        config=deps.effective_config(workspace_id),
        workspace_id=workspace_id,
        user_id=user,
        channel_id=channel,
        text=text,
        request_key=str(context.get("request_key") or ""),
        now=deps.clock(),
    )


def answer(ctx: CommandContext, parsed: ParsedCommand) -> Reply:
    """Route a parsed command to its handler."""
    handler = HANDLERS.get(type(parsed))
    if handler is None:
        raise UserFacingError("That command is not available yet.")
    return handler(ctx, parsed)


def register(app: App, deps: Deps) -> None:
    """Register the ``/credits`` command."""

    @app.command(Command.CREDITS)
    @error_boundary
    def handle_credits_command(
        ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        parsed = parse_command(command.get("text", ""))
        reply = answer(command_context(deps, command, client, context, command.get("text", "")), parsed)
        respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
