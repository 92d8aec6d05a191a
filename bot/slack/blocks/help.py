"""Usage, derived from the subcommand declarations: ``/credits help`` and ``/credits admin``."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.command_line import ADMIN, SUBCOMMANDS, Subcommand

SECTION_LIMIT = 3000  # Slack's limit on a section's text


def usage_line(sub: Subcommand) -> str:
    """``*`/credits quote <tool> …`*: what a task will cost``, then its example if it has one."""
    line = f"*`{sub.usage}`*: {sub.summary}"
    if sub.example and sub.example != sub.usage:
        line += f"\n   e.g. `{sub.example}`"
    return line


def _sections(lines: Iterable[str]) -> list[Block]:
    """The lines in as few sections as Slack's text limit allows."""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= SECTION_LIMIT:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return [SectionBlock(text=MarkdownTextObject(text=text)) for text in sections]


def help_blocks(tools: list[str], problem: str | None = None) -> list[Block]:
    """Usage with the configured tools, after a line saying what was not understood (if anything)."""
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=problem)))
    blocks += _sections(usage_line(sub) for sub in SUBCOMMANDS)
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


def admin_help_blocks() -> list[Block]:
    """Every admin subcommand with an example; the services refuse anyone who is not an admin."""
    blocks = _sections(usage_line(sub) for sub in ADMIN.children)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="For admins of the bot (the credits file's `admin` members) and Slack workspace admins. "
                    "Each change takes effect at once and is recorded in the audit trail."
                )
            ]
        )
    )
    return blocks
