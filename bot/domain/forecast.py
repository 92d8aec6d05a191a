"""Burn rate and the day a team runs out of credits at its current pace."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

BURN_WINDOW_DAYS = 7


@dataclass(frozen=True)
class RunOutForecast:
    """When the available credits run out at the recent burn rate, and whether that beats renewal."""

    burn_per_day: float
    run_out_on: date | None
    renews_on: date

    @property
    def runs_out_before_renewal(self) -> bool:
        """True when the team will be out of credits before the plan refills."""
        return self.run_out_on is not None and self.run_out_on < self.renews_on


def burn_rate(spent_last_window: int, window_days: int = BURN_WINDOW_DAYS) -> float:
    """Average credits spent per day over the window."""
    return spent_last_window / window_days


OUTLIER_SHARE = 2 / 3
"""One entry that is more than this share of the window's spend (twice the rest together) is *most of
the pace*, and said so: the pace stays the plain average (what was really spent), with it named beside."""


@dataclass(frozen=True)
class PaceOutlier:
    """One spend entry (a task's cost, a charge, a correction) that is most of the burn window's spend.

    A 6,200-credit task drives the pace, and with it a next-cycle forecast several times the plan, that
    the team's other work would never reach: the balance names it, and the pace without it.
    """

    amount: int
    day: date  # the team's local day it was spent
    task_number: int | None  # the task it was, when it was one
    share: float  # of the window's spend
    burn_without: float  # credits a day over the window without it
    next_cycle_without: int  # what the next cycle would take at that pace

    @property
    def percent(self) -> int:
        """Its share of the pace in whole percent."""
        return round_half_up(self.share * 100)


def pace_outlier(
    spent_window: int,
    largest: int,
    day: date,
    task_number: int | None,
    next_cycle_days: int,
    window_days: int = BURN_WINDOW_DAYS,
) -> PaceOutlier | None:
    """The window's largest single spend when it is most of the pace (over ``OUTLIER_SHARE``), else None."""
    if spent_window <= 0 or largest <= 0 or largest <= OUTLIER_SHARE * spent_window:
        return None
    without = burn_rate(max(0, spent_window - largest), window_days)
    next_without = math.ceil(round(without * next_cycle_days, 6))
    return PaceOutlier(largest, day, task_number, min(1.0, largest / spent_window), without, next_without)


def forecast_run_out(available: int, burn_per_day: float, today: date, renews_on: date) -> RunOutForecast:
    """The day credits run out: today when none are left, never when nothing is being spent."""
    if available <= 0:
        return RunOutForecast(burn_per_day, today, renews_on)
    if burn_per_day <= 0:
        return RunOutForecast(burn_per_day, None, renews_on)
    days_left = math.floor(round(available / burn_per_day, 6))  # 9 / (9/7) must be 7, not 6.999…
    return RunOutForecast(burn_per_day, today + timedelta(days=days_left), renews_on)


# --- the outlook within the cycle ----------------------------------------------------------------


class Outlook(StrEnum):
    """Where the team stands against the renewal at its recent pace."""

    NO_SPEND = "no_spend"  # nothing spent in the window: nothing to forecast
    LASTS = "lasts"  # the available credits last to the renewal (then unused plan credits lapse)
    RUNS_OUT = "runs_out"  # they run out on ``run_out_on``, before the renewal
    OUT_NOW = "out_now"  # none available now (overdrawn included)


@dataclass(frozen=True)
class CycleOutlook:
    """The run-out forecast within the cycle: never past the renewal, when plan credits lapse.

    ``needed`` is what the team would have to add to reach the renewal at this pace (0 when it lasts);
    ``next_cycle_need`` what the next cycle would take at this pace, to hold against the plan.
    """

    outlook: Outlook
    burn_per_day: float
    available: int
    today: date
    renews_on: date
    run_out_on: date | None
    needed: int
    next_cycle_need: int

    @property
    def days_to_renewal(self) -> int:
        """Whole days from today until the renewal day."""
        return (self.renews_on - self.today).days

    @property
    def burn_whole(self) -> int:
        """The burn rate as a person reads it: whole credits a day."""
        return round_half_up(self.burn_per_day)


def round_half_up(value: float) -> int:
    """Round to a whole number, halves up (112.5 → 113), without float noise."""
    return math.floor(round(value, 6) + 0.5)


def cycle_outlook(
    available: int, burn_per_day: float, today: date, renews_on: date, next_cycle_days: int
) -> CycleOutlook:
    """Whether the available credits last to the renewal at this pace, and if not what it takes.

    Today counts as a whole day of spending, so the figures err on the side of needing more.
    ``available`` may be negative (an overdrawn team): it then needs that much on top.
    """
    days = (renews_on - today).days
    burn = max(0.0, burn_per_day)
    to_renewal = math.ceil(round(burn * days, 6))
    needed = max(0, to_renewal - available)
    next_need = math.ceil(round(burn * next_cycle_days, 6))

    def outlook(kind: Outlook, run_out_on: date | None = None, need: int = 0) -> CycleOutlook:
        return CycleOutlook(kind, burn, available, today, renews_on, run_out_on, need, next_need)

    if available <= 0:
        return outlook(Outlook.OUT_NOW, today, needed)
    if burn <= 0:
        return outlook(Outlook.NO_SPEND)
    run_out = forecast_run_out(available, burn, today, renews_on)
    if run_out.runs_out_before_renewal:
        return outlook(Outlook.RUNS_OUT, run_out.run_out_on, needed)
    return outlook(Outlook.LASTS)


def percent_used(spent: int, allowance: int) -> int:
    """The share of the allowance spent, in whole percent; never 100 before it is all spent."""
    if allowance <= 0:
        return 0
    share = round_half_up(spent * 100 / allowance)
    return min(share, 99) if spent < allowance else share
