"""Billing cycles and weeks in a team's own timezone.

A cycle starts on ``renews_on_day`` of each month; in a month too short for that day (31 in
February) it starts on the month's last day, which is what ``relativedelta(day=N)`` gives.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta


def local_date(now: datetime, zone: ZoneInfo) -> date:
    """Today's date where the team is."""
    return now.astimezone(zone).date()


def cycle_start(today: date, renews_on_day: int) -> date:
    """The first day of the billing cycle that contains ``today``."""
    this_month = today + relativedelta(day=renews_on_day)
    if this_month <= today:
        return this_month
    return today + relativedelta(months=-1, day=renews_on_day)


def next_renewal(today: date, renews_on_day: int) -> date:
    """The day the plan allowance next renews."""
    return cycle_start(today, renews_on_day) + relativedelta(months=1, day=renews_on_day)


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of the current week in the team's timezone, as an aware datetime."""
    today = local_date(now, zone)
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time(0, 0), tzinfo=zone)


def shows_year(value: date, today: date) -> bool:
    """A date people read carries its year when it is not this year's (``Fri 1 Jan 2027`` in December)."""
    return value.year != today.year
