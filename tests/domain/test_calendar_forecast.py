"""Billing cycles, weeks in the team's timezone, burn rate and the run-out forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import cycle_start, local_date, next_renewal, week_start
from bot.domain.forecast import BURN_WINDOW_DAYS, burn_rate, forecast_run_out

BERLIN = ZoneInfo("Europe/Berlin")

# --- cycles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start", "renewal"),
    [
        (date(2026, 3, 1), date(2026, 3, 1), date(2026, 4, 1)),  # the renewal day itself
        (date(2026, 3, 2), date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 3, 31), date(2026, 3, 1), date(2026, 4, 1)),  # the day before renewal
        (date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),  # across the year end
        (date(2027, 1, 1), date(2027, 1, 1), date(2027, 2, 1)),
    ],
)
def test_cycle_renewing_on_the_first(today: date, start: date, renewal: date) -> None:
    assert cycle_start(today, 1) == start
    assert next_renewal(today, 1) == renewal


@pytest.mark.parametrize(
    ("today", "start", "renewal"),
    [
        (date(2026, 1, 31), date(2026, 1, 31), date(2026, 2, 28)),  # the renewal day itself
        (date(2026, 1, 30), date(2025, 12, 31), date(2026, 1, 31)),  # the day before
        (date(2026, 2, 27), date(2026, 1, 31), date(2026, 2, 28)),  # the day before a clamped renewal
        (date(2026, 2, 28), date(2026, 2, 28), date(2026, 3, 31)),  # February clamps to 28
        (date(2026, 3, 1), date(2026, 2, 28), date(2026, 3, 31)),  # the day after a clamped renewal
        (date(2026, 3, 30), date(2026, 2, 28), date(2026, 3, 31)),
        (date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 30)),  # April clamps to 30
        (date(2026, 4, 30), date(2026, 4, 30), date(2026, 5, 31)),
        (date(2028, 2, 28), date(2028, 1, 31), date(2028, 2, 29)),  # leap year: clamps to 29
        (date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 31)),
        (date(2028, 3, 1), date(2028, 2, 29), date(2028, 3, 31)),
    ],
)
def test_cycle_renewing_on_the_31st(today: date, start: date, renewal: date) -> None:
    assert cycle_start(today, 31) == start
    assert next_renewal(today, 31) == renewal


@settings(deadline=None, max_examples=300)
@given(today=st.dates(date(2000, 1, 1), date(2100, 12, 31)), day=st.integers(1, 31))
def test_cycle_contains_today(today: date, day: int) -> None:
    start = cycle_start(today, day)
    renewal = next_renewal(today, day)
    assert start <= today < renewal
    assert 28 <= (renewal - start).days <= 31
    assert start.day == day or (start + timedelta(days=1)).month != start.month  # clamped to month end
    assert cycle_start(renewal, day) == renewal  # the renewal day starts the next cycle
    assert cycle_start(renewal - timedelta(days=1), day) == start


# --- weeks ---------------------------------------------------------------------------------------


def test_local_date_uses_the_team_timezone() -> None:
    late_sunday_utc = datetime(2026, 11, 29, 23, 15, tzinfo=UTC)
    assert local_date(late_sunday_utc, UTC) == date(2026, 11, 29)
    assert local_date(late_sunday_utc, BERLIN) == date(2026, 11, 30)


def test_week_starts_on_monday_midnight_in_berlin() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    start = week_start(tuesday, BERLIN)
    assert start.tzinfo is not None
    assert start.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 11, 23, 0, 0)
    assert start.astimezone(UTC) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert start.weekday() == 0


def test_monday_just_after_local_midnight_is_a_new_week_though_utc_is_still_sunday() -> None:
    now = datetime(2026, 11, 29, 23, 15, tzinfo=UTC)  # Monday 00:15 in Berlin
    assert now.weekday() == 6
    start = week_start(now, BERLIN)
    assert start.astimezone(UTC) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert start.astimezone(BERLIN).date() == date(2026, 11, 30)
    assert start <= now


def test_sunday_just_before_local_midnight_is_still_last_week() -> None:
    now = datetime(2026, 11, 29, 22, 59, tzinfo=UTC)  # Sunday 23:59 in Berlin
    start = week_start(now, BERLIN)
    assert start.astimezone(BERLIN).date() == date(2026, 11, 23)


def test_week_across_the_october_dst_change() -> None:
    # Berlin leaves summer time on Sunday 25 Oct 2026 at 03:00 CEST -> 02:00 CET.
    sunday_night = datetime(2026, 10, 25, 22, 0, tzinfo=UTC)  # 23:00 CET, still Sunday
    this_week = week_start(sunday_night, BERLIN)
    assert this_week.astimezone(UTC) == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # Mon 00:00 CEST (+2)
    assert this_week.utcoffset() == timedelta(hours=2)

    monday = datetime(2026, 10, 25, 23, 30, tzinfo=UTC)  # Mon 00:30 CET
    next_week = week_start(monday, BERLIN)
    assert next_week.astimezone(UTC) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # Mon 00:00 CET (+1)
    assert next_week.utcoffset() == timedelta(hours=1)
    # the week containing the change is an hour longer than 7 days
    assert next_week.astimezone(UTC) - this_week.astimezone(UTC) == timedelta(days=7, hours=1)


def test_week_across_the_march_dst_change() -> None:
    # Berlin starts summer time on Sunday 29 Mar 2026; the following Monday is at +2.
    monday = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # Mon 00:30 CEST
    start = week_start(monday, BERLIN)
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


@settings(deadline=None, max_examples=300)
@given(now=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_week_start_is_the_latest_local_monday_midnight(now: datetime) -> None:
    start = week_start(now, BERLIN)
    local = start.astimezone(BERLIN)
    assert (local.weekday(), local.hour, local.minute, local.second) == (0, 0, 0, 0)
    assert start <= now
    assert now - start < timedelta(days=7, hours=1)


# --- burn rate and run-out -----------------------------------------------------------------------

TODAY = date(2026, 11, 24)
RENEWAL = date(2026, 12, 1)


def test_burn_rate_is_spend_per_day_over_the_window() -> None:
    assert BURN_WINDOW_DAYS == 7
    assert burn_rate(700) == 100
    assert burn_rate(0) == 0
    assert burn_rate(30, window_days=3) == 10


def test_no_spend_never_runs_out() -> None:
    forecast = forecast_run_out(500, 0.0, TODAY, RENEWAL)
    assert forecast.run_out_on is None
    assert not forecast.runs_out_before_renewal
    assert forecast.renews_on == RENEWAL


def test_zero_available_runs_out_today() -> None:
    forecast = forecast_run_out(0, 0.0, TODAY, RENEWAL)
    assert forecast.run_out_on == TODAY
    assert forecast.runs_out_before_renewal


def test_negative_available_runs_out_today() -> None:
    assert forecast_run_out(-5, 10.0, TODAY, RENEWAL).run_out_on == TODAY


def test_runs_out_before_renewal() -> None:
    forecast = forecast_run_out(250, 100.0, TODAY, RENEWAL)
    assert forecast.burn_per_day == 100
    assert forecast.run_out_on == date(2026, 11, 26)
    assert forecast.runs_out_before_renewal


def test_runs_out_after_renewal() -> None:
    forecast = forecast_run_out(1000, 100.0, TODAY, RENEWAL)
    assert forecast.run_out_on == date(2026, 12, 4)
    assert not forecast.runs_out_before_renewal


def test_running_out_on_the_renewal_day_is_not_before_it() -> None:
    forecast = forecast_run_out(700, 100.0, TODAY, RENEWAL)
    assert forecast.run_out_on == RENEWAL
    assert not forecast.runs_out_before_renewal


def test_forecast_from_a_weekly_burn_rate() -> None:
    forecast = forecast_run_out(300, burn_rate(700), TODAY, RENEWAL)
    assert forecast.run_out_on == TODAY + timedelta(days=3)


def test_run_out_day_has_no_float_noise() -> None:
    # 9 credits spent over the last 7 days, 9 available: exactly 7 more days at this pace.
    forecast = forecast_run_out(9, burn_rate(9), TODAY, RENEWAL)
    assert forecast.run_out_on == TODAY + timedelta(days=7)
