"""The run-out forecast within the cycle, around a renewal, for a team with no spend and one overdrawn."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.calendar import next_renewal, shows_year
from bot.domain.forecast import CycleOutlook, Outlook, cycle_outlook, pace_outlier, percent_used, round_half_up

RENEWAL = date(2026, 12, 1)


def outlook_on(today: date, available: int, burn: float) -> CycleOutlook:
    renews_on = next_renewal(today, 1)
    return cycle_outlook(available, burn, today, renews_on, (next_renewal(renews_on, 1) - renews_on).days)


def test_runs_out_before_renewal_says_what_it_needs_and_the_next_cycle() -> None:
    o = outlook_on(date(2026, 11, 21), available=1_600, burn=224)  # 10 days left, 7 days' worth
    assert o.outlook is Outlook.RUNS_OUT
    assert o.run_out_on == date(2026, 11, 28)
    assert o.days_to_renewal == 10
    assert o.needed == 2_240 - 1_600
    assert o.next_cycle_need == 224 * 31  # December has 31 days


def test_lasting_past_the_renewal_is_never_forecast_beyond_it() -> None:
    o = outlook_on(date(2026, 11, 24), available=5_500, burn=112.57)  # would be 48 days: past 1 Dec
    assert o.outlook is Outlook.LASTS
    assert o.run_out_on is None and o.needed == 0
    assert o.burn_whole == 113


def test_the_day_before_the_renewal() -> None:
    o = outlook_on(date(2026, 11, 30), available=100, burn=150)
    assert o.outlook is Outlook.RUNS_OUT and o.run_out_on == date(2026, 11, 30)
    assert o.renews_on == RENEWAL and o.needed == 50
    assert outlook_on(date(2026, 11, 30), available=150, burn=150).outlook is Outlook.LASTS


def test_on_the_renewal_day_the_new_cycle_is_forecast() -> None:
    o = outlook_on(RENEWAL, available=5_000, burn=200)  # a fresh grant, 31 days to 1 Jan
    assert o.renews_on == date(2027, 1, 1) and o.days_to_renewal == 31
    assert o.outlook is Outlook.RUNS_OUT and o.run_out_on == date(2026, 12, 26)
    assert o.needed == 6_200 - 5_000


def test_after_the_renewal() -> None:
    o = outlook_on(date(2026, 12, 2), available=4_900, burn=100)
    assert o.outlook is Outlook.LASTS and o.renews_on == date(2027, 1, 1)


def test_a_team_with_no_spend() -> None:
    o = outlook_on(date(2026, 11, 24), available=5_500, burn=0)
    assert o.outlook is Outlook.NO_SPEND and o.needed == 0 and o.next_cycle_need == 0


def test_an_overdrawn_team_needs_its_debt_and_the_rest_of_the_cycle() -> None:
    o = outlook_on(date(2026, 11, 24), available=-120, burn=100)  # 7 days left
    assert o.outlook is Outlook.OUT_NOW and o.run_out_on == date(2026, 11, 24)
    assert o.needed == 700 + 120
    idle = outlook_on(date(2026, 11, 24), available=-120, burn=0)
    assert idle.outlook is Outlook.OUT_NOW and idle.needed == 120


@pytest.mark.parametrize(
    ("spent", "plan", "percent"),
    [(2_746, 5_000, 55), (2_500, 5_000, 50), (4_990, 5_000, 99), (5_000, 5_000, 100), (5_120, 5_000, 102), (1, 0, 0)],
)
def test_percent_used_is_the_real_share(spent: int, plan: int, percent: int) -> None:
    assert percent_used(spent, plan) == percent


def test_whole_numbers_round_halves_up() -> None:
    assert [round_half_up(v) for v in (112.57, 112.5, 0.49, 3.0000000001)] == [113, 113, 0, 3]


def test_dates_carry_the_year_only_when_it_is_not_this_one() -> None:
    assert not shows_year(date(2026, 12, 1), date(2026, 11, 24))
    assert shows_year(date(2027, 1, 1), date(2026, 12, 20))


def test_one_spend_that_is_most_of_the_pace_is_an_outlier_with_the_pace_without_it() -> None:
    one = pace_outlier(6_900, 6_200, date(2026, 12, 3), 3, 31)
    assert one is not None
    assert (one.amount, one.day, one.task_number, one.percent) == (6_200, date(2026, 12, 3), 3, 90)
    assert one.burn_without == 100.0 and one.next_cycle_without == 3_100
    alone = pace_outlier(6_200, 6_200, date(2026, 12, 3), None, 31)  # the only spend: all of the pace
    assert alone is not None and alone.percent == 100 and alone.burn_without == 0 and alone.next_cycle_without == 0


@pytest.mark.parametrize(("window", "largest"), [(1_000, 500), (700, 400), (3_000, 2_000), (0, 0), (-40, 10)])
def test_a_pace_no_single_spend_dominates_has_no_outlier(window: int, largest: int) -> None:
    assert pace_outlier(window, largest, date(2026, 12, 3), 1, 31) is None  # two thirds, or less, is not most
