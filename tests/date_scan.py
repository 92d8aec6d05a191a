"""Scan what the bot sends for a plain date where a Slack date token should be.

A time a member reads goes through ``bot.slack.blocks.format.when``/``on_day`` (``<!date^…|fallback>``),
so each reader sees it in their own timezone. Only the team's own calendar stays plain: a digest's
period (``Mon 23 Nov – Sun 29 Nov``) and the cycle a figure covers (``since Sun 1 Nov``).
"""

from __future__ import annotations

import json
import re
from typing import Any

DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|>]*\|[^>]+>")
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: \d{4})?"
PLAIN_DATE = re.compile(rf"\b{_DAY}\b")
TEAM_CALENDAR = re.compile(rf"{_DAY} – {_DAY}|since {_DAY}")  # periods: the team's calendar on purpose


def texts_of(blocks: Any) -> list[str]:
    """Every text a block payload shows (section, context, header… at any depth)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(json.dumps(blocks)))
    return found


def plain_dates(blocks: Any) -> list[str]:
    """Dates shown as plain text rather than as a date token (periods of the team's calendar aside)."""
    found = []
    for text in texts_of(blocks):
        bare = TEAM_CALENDAR.sub("", DATE_TOKEN.sub("", text))
        found += PLAIN_DATE.findall(bare)
    return found


def tokens(blocks: Any) -> list[str]:
    """The date tokens a block payload carries."""
    return [t for text in texts_of(blocks) for t in DATE_TOKEN.findall(text)]
