"""The few wordings a service's own text shares with the messages: figures, plurals and a task's shape.

``bot.slack.blocks.format`` re-exports them, so a history line and a quote say ``1 variant`` the same way.
"""

from __future__ import annotations


def number(value: float) -> str:
    """A figure without float noise: 32, 1.5, 0.25."""
    rounded = round(value, 2)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.2f}".rstrip("0").rstrip(".")


def plural(count: float, word: str) -> str:
    """``1 variant``, ``4 variants``, ``1.5 minutes``."""
    return f"{number(count)} {word}" + ("" if count == 1 else "s")


def task_shape(tool: str, quality: str | None, variants: int | None, duration_seconds: int | None) -> str:
    """The one wording of a task's shape: ``image · high · 4 variants``, ``video · high · 10 s · 1 variant``."""
    parts = [tool, *([quality] if quality else [])]
    if duration_seconds is not None:
        parts.append(f"{duration_seconds:,} s")
    if variants is not None:
        parts.append(plural(variants, "variant"))
    return " · ".join(parts)
