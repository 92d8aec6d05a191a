"""Usage, shown for ``/credits help`` and for anything the bot does not recognise."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

USAGE = "\n".join(
    [
        "*`/credits quote <tool> [quality=…] [variants=…] [duration=…] [retries=…]`*: what a task will cost",
        "   e.g. `/credits quote image quality=high variants=4`, `/credits quote video duration=10 variants=2`",
        "*`/credits run <tool> [options] [note]`*: reserve the credits (or ask an approver when over your limits)",
        "*`/credits done <task> [retries=…] [variants=…] [kept=…]`* or *`[cost=…]`*: record what it really cost",
        "*`/credits cancel <task>`* · *`/credits tasks`*: drop a task · list your open tasks",
        "*`/credits balance [team]`*: plan and extra credits, holds, burn rate, run-out day",
        "*`/credits limits [@member]`*: role, limits and what is used this week",
        "*`/credits admin role|limit|topup|team …`*: for admins (`/credits admin` shows how)",
        "*`/credits help`*: this message",
    ]
)


def help_blocks(tools: list[str], problem: str | None = None) -> list[Block]:
    """Usage with the configured tools, after a line saying what was not understood (if anything)."""
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=problem)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=USAGE)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Tools: {', '.join(f'`{t}`' for t in tools)}. Without `retries=`, quotes add the expected "
                    "retries from your team's history. Add `team=<name>` if you are in several teams."
                )
            ]
        )
    )
    return blocks
