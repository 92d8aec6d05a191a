"""The digest's pure rules: slots in the team's timezone (DST included), windows, and every figure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.credits_file import CreditsConfig, DigestSchedule
from bot.domain.digest import (
    SlotAction,
    SpendRow,
    TaskGroup,
    crossed_thresholds,
    daily_series,
    digest_window,
    latest_slot,
    next_slot,
    percent_change,
    slot_action,
    slot_key,
    summarise_retries,
    summarise_spend,
    summarise_versions,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = DigestSchedule.parse("mon 09:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_slot_is_nine_in_berlin_in_summer_and_in_winter() -> None:
    # DST ends on Sunday 25 Oct 2026: 09:00 in Berlin is 07:00 UTC before, 08:00 UTC after.
    assert latest_slot(MONDAY_9, BERLIN, utc(2026, 10, 19, 7, 0)) == utc(2026, 10, 19, 7, 0)
    assert latest_slot(MONDAY_9, BERLIN, utc(2026, 10, 26, 7, 59)) == utc(2026, 10, 19, 7, 0)
    assert latest_slot(MONDAY_9, BERLIN, utc(2026, 10, 26, 8, 0)) == utc(2026, 10, 26, 8, 0)
    assert next_slot(MONDAY_9, BERLIN, utc(2026, 10, 19, 7, 0)) == utc(2026, 10, 26, 8, 0)
    # and back again on Sunday 29 March 2026
    assert latest_slot(MONDAY_9, BERLIN, utc(2026, 3, 30, 7, 0)) == utc(2026, 3, 30, 7, 0)
    assert latest_slot(MONDAY_9, BERLIN, utc(2026, 3, 23, 8, 0)) == utc(2026, 3, 23, 8, 0)


def test_a_slot_in_the_hour_dst_skips_still_happens_once() -> None:
    sunday_2_30 = DigestSchedule.parse("sun 02:30")  # 02:30 does not exist in Berlin on 29 March 2026
    slot = latest_slot(sunday_2_30, BERLIN, utc(2026, 3, 29, 12, 0))
    assert slot == utc(2026, 3, 29, 1, 30)  # just after the gap, 03:30 local
    assert latest_slot(sunday_2_30, BERLIN, utc(2026, 4, 5, 0, 29)) == slot


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
    st.integers(0, 6),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 59]),
)
def test_latest_and_next_slot_bracket_now(now: datetime, zone_name: str, weekday: int, hour: int, minute: int) -> None:
    zone = ZoneInfo(zone_name)
    schedule = DigestSchedule(weekday=weekday, hour=hour, minute=minute)
    latest, upcoming = latest_slot(schedule, zone, now), next_slot(schedule, zone, now)
    assert latest <= now < upcoming
    assert timedelta(days=6, hours=22) <= upcoming - latest <= timedelta(days=7, hours=2)
    assert latest.astimezone(zone).weekday() == weekday
    assert next_slot(schedule, zone, latest) == upcoming


def test_slot_keys_name_the_utc_start() -> None:
    assert slot_key(datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)) == "2026-11-30T08:00Z"


def test_slot_action_grace_and_moved_schedules() -> None:
    slot, grace = utc(2026, 11, 30, 8), timedelta(hours=6)
    assert slot_action(slot, slot, grace, None) is SlotAction.POST
    assert slot_action(slot, slot + timedelta(hours=5, minutes=59), grace, None) is SlotAction.POST
    assert slot_action(slot, slot + timedelta(hours=6, minutes=1), grace, None) is SlotAction.SKIP_BEYOND_GRACE
    late = slot + timedelta(hours=7)
    assert slot_action(slot, late, grace, None, slot + timedelta(hours=1)) is SlotAction.SKIP_BEFORE_START
    assert slot_action(slot, late, grace, None, slot - timedelta(days=1)) is SlotAction.SKIP_BEYOND_GRACE
    assert slot_action(slot, slot, grace, slot - timedelta(days=7)) is SlotAction.POST
    assert slot_action(slot, slot, grace, slot - timedelta(days=7, hours=-1)) is SlotAction.POST  # DST week
    assert slot_action(slot, slot, grace, slot - timedelta(hours=2)) is SlotAction.SKIP_RECENT


def test_the_window_is_seven_wall_clock_days_even_across_dst() -> None:
    window = digest_window(utc(2026, 10, 26, 8), BERLIN)  # Mon 09:00 CET
    assert window.start == utc(2026, 10, 19, 7)  # Mon 09:00 CEST: 7 days and 1 hour earlier
    assert window.previous_start == utc(2026, 10, 12, 7)
    assert window.last_chart_day == date(2026, 10, 26)  # the slot's day, which the week's totals include
    assert window.first_chart_day == date(2026, 9, 29)
    assert len(window.chart_days) == 28


def test_spend_summary_totals_change_tools_and_top_members() -> None:
    rows = [
        SpendRow("image", "U1", 300, 100),
        SpendRow("video", "U1", 200, 0),
        SpendRow("image", "U2", 150, 100),
        SpendRow("voice", "U3", 40, 0),
        SpendRow("image", "U4", 10, 0),
        SpendRow(None, None, 0, 50),
    ]
    spend = summarise_spend(rows, top=2)
    assert (spend.total, spend.previous_total) == (700, 250)
    assert spend.change_percent == 180
    assert [(s.name, s.amount) for s in spend.by_tool] == [("image", 460), ("video", 200), ("voice", 40)]
    assert [(s.name, s.amount) for s in spend.top_members] == [("U1", 500), ("U2", 150)]
    assert (spend.other_members, spend.other_members_amount) == (2, 50)


def test_percent_change_needs_a_previous_week() -> None:
    assert percent_change(100, 0) is None
    assert percent_change(50, 100) == -50


def test_retries_cost_is_actual_less_the_first_attempt_never_negative(config: CreditsConfig) -> None:
    groups = [
        # image high x4: first attempt 32; with one retry 64 -> 32 each for 2 tasks
        TaskGroup("image", "high", 4, None, 1, 64, 2, 3),
        # a task that came in under its price (a discount) counts 0, not -12
        TaskGroup("image", "high", 4, None, 0, 20, 1, 4),
        TaskGroup("video", "high", 1, 10, 2, 360, 1, None),  # 120 + 2 x 120: 240 of it retries
        TaskGroup("sculpt", "standard", 1, None, 1, 50, 1, 1),  # no longer priced
    ]
    retries = summarise_retries(config.pricing, groups, spent=1000)
    assert retries.cost == 2 * 32 + 240
    assert retries.share_percent == 30.4
    assert retries.unpriced_tasks == 1
    assert summarise_retries(config.pricing, [], spent=0).share_percent is None


def test_versions_generated_kept_and_cost_per_kept() -> None:
    groups = [
        TaskGroup("image", "high", 4, None, 1, 64, 2, 3),  # 2 tasks x 4 variants x 2 attempts = 16 generated
        TaskGroup("image", "standard", 2, None, 0, 8, 1, 2),  # 2 generated
        TaskGroup("image", "high", 4, None, 0, 32, 1, None),  # kept unknown
    ]
    [image] = summarise_versions(groups)
    assert (image.tasks, image.generated, image.kept, image.unknown_tasks) == (4, 18, 5, 1)
    assert image.cost_of_known == 136
    assert image.cost_per_kept == 136 / 5


def test_daily_series_fills_missing_days_with_zero() -> None:
    days = [date(2026, 11, d) for d in range(1, 5)]
    series = daily_series(days, [(days[0], "image", 5), (days[2], "image", 7), (days[2], "video", 30)])
    assert series.by_tool == {"video": (0, 0, 30, 0), "image": (5, 0, 7, 0)}
    assert series.total == 42


def test_budget_thresholds() -> None:
    assert crossed_thresholds(2499, 5000) == []
    assert crossed_thresholds(2500, 5000) == [50]
    assert crossed_thresholds(4000, 5000) == [50, 80]
    assert crossed_thresholds(5000, 5000) == [50, 80, 100]
    assert crossed_thresholds(10, 0) == []
