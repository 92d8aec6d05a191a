"""Burn rate and the day a team runs out of credits at its current pace."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

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


def forecast_run_out(available: int, burn_per_day: float, today: date, renews_on: date) -> RunOutForecast:
    """The day credits run out: today when none are left, never when nothing is being spent."""
    if available <= 0:
        return RunOutForecast(burn_per_day, today, renews_on)
    if burn_per_day <= 0:
        return RunOutForecast(burn_per_day, None, renews_on)
    days_left = math.floor(round(available / burn_per_day, 6))  # 9 / (9/7) must be 7, not 6.999…
    return RunOutForecast(burn_per_day, today + timedelta(days=days_left), renews_on)
