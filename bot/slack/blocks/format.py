"""Small text helpers shared by the builders: credits, dates, numbers."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.calendar import shows_year
from bot.domain.wording import number, plural, task_shape

__all__ = [
    "clock_time",
    "credits",
    "credits_exact",
    "day",
    "day_seen_from",
    "number",
    "on_day",
    "plural",
    "task_shape",
    "when",
]


def credits(amount: int) -> str:
    """``1,234 credits`` (``1 credit``)."""
    return f"{amount:,} credit" + ("" if abs(amount) == 1 else "s")


def credits_exact(amount: float) -> str:
    """Credits that may be fractional before the total is rounded: ``32 credits``, ``12.5 credits``."""
    return f"{number(amount)} credit" + ("" if amount == 1 else "s")


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


def on_day(value: date, zone: ZoneInfo | None, today: date) -> str:
    """A day of the team's calendar (a renewal) as a date token; the token's instant is its start in ``zone``.

    The fallback carries the year when it is not ``today``'s (``Fri 1 Jan 2027``): the one rule of
    ``day_seen_from``, so the balance, the digest, the alerts and the admin's answers agree.
    With no ``zone`` (a notification's plain text, where Slack shows no token) it is the fallback alone.
    """
    fallback = day_seen_from(value, today)
    if zone is None:
        return fallback
    start = datetime.combine(value, time(0, 0), tzinfo=zone)
    return f"<!date^{int(start.timestamp())}^{{date_short_pretty}}|{fallback}>"


def day_seen_from(value: date, today: date) -> str:
    """``Tue 1 Dec``, with the year when it is not the current one: ``Fri 1 Jan 2027``."""
    return f"{day(value)} {value.year}" if shows_year(value, today) else day(value)
