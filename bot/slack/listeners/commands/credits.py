"""``/credits``: parse, ack at once, call a service, render an ephemeral answer through ``response_url``."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.domain.commands import BalanceCommand, HelpCommand, QuoteCommand, parse_command
from bot.services.balances import balance_report
from bot.services.members import Member, bot_admins, resolve_member
from bot.services.quotes import quote_task
from bot.slack.blocks.balance import balance_blocks, balance_text
from bot.slack.blocks.help import help_blocks
from bot.slack.blocks.quote import quote_blocks, quote_text
from bot.slack.deps import Deps
from bot.slack.ids import Command
from bot.slack.listeners.errors import error_boundary


def register(app: App, deps: Deps) -> None:
    """Register the ``/credits`` command."""

    @app.command(Command.CREDITS)
    @error_boundary
    def handle_credits_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        text, blocks = answer_credits_command(deps, command, client)
        respond(response_type="ephemeral", text=text, blocks=blocks)


def _member(deps: Deps, command: dict[str, Any], client: WebClient, team: str | None) -> Member:
    workspace_id = command.get("team_id", "")
    return resolve_member(
        deps.config,
        user_id=command["user_id"],
        channel_id=command.get("channel_id", ""),
        team=team,
        is_workspace_admin=lambda user: deps.workspace_admins.is_admin(client, workspace_id, user),
    )


def answer_credits_command(deps: Deps, command: dict[str, Any], client: WebClient) -> tuple[str, list[Block]]:
    """The reply to one ``/credits`` command; a UserFacingError goes to the error boundary."""
    parsed = parse_command(command.get("text", ""))
    workspace_id = command.get("team_id", "")
    now = deps.clock()
    if isinstance(parsed, QuoteCommand):
        member = _member(deps, command, client, parsed.team)
        report = quote_task(deps.db, deps.config, workspace_id=workspace_id, member=member, command=parsed, now=now)
        pricing = deps.config.pricing
        return quote_text(report), quote_blocks(
            report,
            history_days=pricing.history_days,
            min_tasks=pricing.history_min_tasks,
            extra_credit_admins=bot_admins(deps.config),
        )
    if isinstance(parsed, BalanceCommand):
        member = _member(deps, command, client, parsed.team)
        balance = balance_report(deps.db, deps.config, workspace_id=workspace_id, team=member.team, now=now)
        return balance_text(balance), balance_blocks(balance)
    assert isinstance(parsed, HelpCommand)
    problem = None
    if parsed.unknown:
        hint = f" Did you mean `{parsed.suggestion}`?" if parsed.suggestion else ""
        problem = f":grey_question: I don't know `/credits {parsed.unknown}`.{hint}"
    return "How to use /credits", help_blocks(sorted(deps.config.pricing.tools), problem)
