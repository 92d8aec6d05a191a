"""Render Block Kit messages as readable text, for the console."""

from __future__ import annotations

import re
from typing import Any

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]+))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*(?:\^[^|>]*)?\|([^>]+)>")  # Slack's date token: its fallback
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_EMOJI = {
    ":warning:": "⚠️",
    ":white_check_mark:": "✅",
    ":no_entry:": "⛔",
    ":red_circle:": "🔴",
    ":large_green_circle:": "🟢",
    ":x:": "❌",
    ":grey_question:": "❔",
    ":hourglass:": "⏳",
    ":zzz:": "💤",
    ":bar_chart:": "📊",
    ":large_yellow_circle:": "🟡",
    ":large_orange_circle:": "🟠",
    ":heavy_multiplication_x:": "✖️",
    ":repeat:": "🔁",
}
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")


def mrkdwn_to_text(text: str) -> str:
    """Strip Slack's mrkdwn to plain readable text."""
    text = _DATE.sub(r"\1", text)
    text = _MENTION.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BOLD.sub(r"\1", text)
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    return text.replace("`", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: dict[str, Any] | None) -> str:
    return mrkdwn_to_text(obj.get("text", "")) if obj else ""


def render_blocks(blocks: list[dict[str, Any]], fallback: str = "") -> str:
    """One readable paragraph per block."""
    if not blocks:
        return mrkdwn_to_text(fallback)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text_of(block.get("text"))
            lines += [title, "-" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text_of(block["text"]))
            lines += [f"  {_text_of(field)}" for field in block.get("fields", [])]
        elif kind == "context":
            lines.append("  " + " ".join(_text_of(e) for e in block.get("elements", []) if "text" in e))
        elif kind == "divider":
            lines.append("")
        elif kind == "actions":
            labels = [f"[{_text_of(e.get('text'))}]" for e in block.get("elements", [])]
            lines.append("  " + " ".join(labels))
        elif kind == "image":
            lines.append(f"  (chart: {block.get('alt_text', 'image')})")
    return "\n".join(lines)
