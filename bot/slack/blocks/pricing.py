"""The ``/credits pricing`` answer: the price list the quotes use, from the credits file in force."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.credits_file import Plan, Pricing, ToolPricing
from bot.slack.blocks.format import credits, number


def _rates(tool: ToolPricing) -> str:
    return ", ".join(
        f"{quality} {number(rate)}" + (" (default)" if quality == tool.default_quality else "")
        for quality, rate in tool.rates.items()
    )


def tool_lines(name: str, tool: ToolPricing, retry_cost: float) -> str:
    """One tool: unit, rates per quality (default marked), minimum and the cost of a retry."""
    minimum = f"minimum {number(tool.minimum)} credits per attempt" if tool.minimum else "no minimum"
    retry = "free" if retry_cost == 0 else f"{number(retry_cost * 100)} % of the attempt it repeats"
    return (
        f"*{name}*: credits per {tool.unit}\nRates: {_rates(tool)}\n{minimum.capitalize()} · cost of retries: {retry}"
    )


def pricing_text(tool: str | None) -> str:
    """Notification fallback text."""
    return f"Price list: {tool}" if tool else "Price list"


def pricing_blocks(pricing: Pricing, plans: dict[str, Plan], tool: str | None) -> list[Block]:
    """Each tool (or the one asked for), then the plans with their monthly credits."""
    names = [tool] if tool else sorted(pricing.tools)
    blocks: list[Block] = [HeaderBlock(text=f"Price list: {tool}" if tool else "Price list")]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=tool_lines(name, pricing.tools[name], pricing.retry_cost)))
        for name in names
    ]
    plan_lines = ", ".join(f"{name} {credits(plan.monthly_credits)}/month" for name, plan in plans.items())
    expected = number(pricing.expected_retry_rate)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"*Plans*: {plan_lines}\nA quote adds the retries you give, or your team's own rate over "
                        f"{pricing.history_days} days, or {expected} per attempt until the team has "
                        f"{pricing.history_min_tasks} finished tasks of that tool; the total is rounded up "
                        "to a whole credit once."
                    )
                )
            ]
        )
    )
    return blocks
