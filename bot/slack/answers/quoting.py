"""``quote``, ``balance`` and ``help``."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot.domain.commands import BalanceCommand, HelpCommand, TaskRequest
from bot.services.balances.team_balances import balance_report
from bot.services.quoting.quotes import quote_task
from bot.services.workspace.members import bot_admins
from bot.slack.blocks.balance import balance_blocks, balance_text
from bot.slack.blocks.help import help_blocks
from bot.slack.blocks.history import reconciliation_line
from bot.slack.blocks.quote import quote_blocks, quote_text
from bot.slack.context import Reply, RequestContext
from bot.slack.ids import BlockId


def answer_quote(ctx: RequestContext, command: TaskRequest) -> Reply:
    """An itemised forecast."""
    member = ctx.member(command.team)
    report = quote_task(
        ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=member, command=command, now=ctx.now
    )
    pricing = ctx.config.pricing
    return Reply(
        quote_text(report, history_days=pricing.history_days, min_tasks=pricing.history_min_tasks),
        quote_blocks(
            report,
            history_days=pricing.history_days,
            min_tasks=pricing.history_min_tasks,
            extra_credit_admins=bot_admins(ctx.config),
        ),
    )


def answer_balance(ctx: RequestContext, command: BalanceCommand) -> Reply:
    """The team's figures and forecast."""
    member = ctx.member(command.team)
    report = balance_report(ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, team=member.team, now=ctx.now)
    blocks = balance_blocks(report, ctx.config.teams[member.team].zone)
    seen = report.reconciliation
    if seen is not None:  # Keter Labs' own figure, from the charge feed's balance.updated
        line = reconciliation_line(seen, ctx.config.teams[member.team].zone)
        blocks.insert(
            2, ContextBlock(block_id=BlockId.BALANCE_RECONCILIATION, elements=[MarkdownTextObject(text=line)])
        )
    return Reply(balance_text(report), blocks)


def answer_help(ctx: RequestContext, command: HelpCommand) -> Reply:
    """Usage, after what was not understood."""
    problem = None
    if command.unknown:
        hint = f" Did you mean `{command.suggestion}`?" if command.suggestion else ""
        problem = f":grey_question: I don't know `/credits {command.unknown}`.{hint}"
    return Reply("How to use /credits", help_blocks(sorted(ctx.config.pricing.tools), problem))
