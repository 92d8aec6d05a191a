"""``/credits pricing [tool]``."""

from __future__ import annotations

from bot.domain.command_line import PricingCommand
from bot.domain.errors import unknown_name
from bot.slack.blocks.pricing import pricing_blocks, pricing_text
from bot.slack.context import Reply, RequestContext


def answer_pricing(ctx: RequestContext, command: PricingCommand) -> Reply:
    """The price list in force (the credits file merged with admin changes), so no one needs the file."""
    pricing = ctx.config.pricing
    if command.tool is not None and command.tool not in pricing.tools:
        raise unknown_name("tool", command.tool, pricing.tools)
    return Reply(pricing_text(command.tool), pricing_blocks(pricing, dict(ctx.config.plans), command.tool))
