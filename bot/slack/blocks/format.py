"""Small text helpers shared by the builders: credits, dates, numbers."""

from __future__ import annotations

from datetime import date

from bot.domain.calendar import shows_year


def credits(amount: int) -> str:
    """``1,234 credits`` (``1 credit``)."""
    return f"{amount:,} credit" + ("" if abs(amount) == 1 else "s")


def credits_exact(amount: float) -> str:
    """Credits that may be fractional before the total is rounded: ``32 credits``, ``12.5 credits``."""
    return f"{number(amount)} credit" + ("" if amount == 1 else "s")


def number(value: float) -> str:
    """A figure without float noise: 32, 1.5, 0.25."""
    rounded = round(value, 2)
    return f"{int(rounded):,}" if rounded == int(rounded) else f"{rounded:,.2f}".rstrip("0").rstrip(".")


def day(value: date) -> str:
    """``Tue 1 Dec``, readable on a phone."""
    return f"{value:%a} {value.day} {value:%b}"


def plural(count: float, word: str) -> str:
    """``1 variant``, ``4 variants``, ``1.5 minutes``."""
    return f"{number(count)} {word}" + ("" if count == 1 else "s")


def day_seen_from(value: date, today: date) -> str:
    """``Tue 1 Dec``, with the year when it is not the current one: ``Fri 1 Jan 2027``."""
    return f"{day(value)} {value.year}" if shows_year(value, today) else day(value)
