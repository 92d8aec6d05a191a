"""Small text helpers shared by the builders: credits, dates, numbers."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

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
    """``Tue 1 Dec``, readable on a phone: the one date format every message uses."""
    return f"{value:%a} {value.day} {value:%b}"


def clock_time(moment: datetime, zone: ZoneInfo) -> str:
    """``Tue 1 Dec 14:05`` in ``zone``: the fallback of a date token, and text where no token can go."""
    local = moment.astimezone(zone)
    return f"{day(local.date())} {local:%H:%M}"


def when(moment: datetime, zone: ZoneInfo) -> str:
    """A moment each reader sees in their own timezone (Slack's date token); the fallback is the team's.

    ``<!date^…^{date_short_pretty} {time}|Tue 1 Dec 14:05>``: Slack renders ``date_short_pretty`` as
    "today", "yesterday" or "Dec 1" for the reader; clients that cannot show it print the fallback.
    """
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{clock_time(moment, zone)}>"


def on_day(value: date, zone: ZoneInfo | None, today: date | None = None) -> str:
    """A day of the team's calendar (a renewal) as a date token; the token's instant is its start in ``zone``.

    Given ``today``, the fallback carries the year when it is not the current one (``Fri 1 Jan 2027``).
    With no ``zone`` (a notification's plain text, where Slack shows no token) it is the fallback alone.
    """
    if zone is None:
        return day_seen_from(value, today) if today is not None else day(value)
    start = datetime.combine(value, time(0, 0), tzinfo=zone)
    fallback = day_seen_from(value, today) if today is not None else day(value)
    return f"<!date^{int(start.timestamp())}^{{date_short_pretty}}|{fallback}>"


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


def day_seen_from(value: date, today: date) -> str:
    """``Tue 1 Dec``, with the year when it is not the current one: ``Fri 1 Jan 2027``."""
    return f"{day(value)} {value.year}" if shows_year(value, today) else day(value)
