"""The likely range (order statistics of the team's own tasks, or the stated geometric model) and keep planning."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.credits_file import Pricing
from bot.domain.estimates import (
    RANGE_MIN_TASKS,
    FinishedShape,
    KeepBasis,
    KeepHistory,
    RangeBasis,
    cost_multiple,
    geometric_retry_bounds,
    likely_range,
    one_in,
    order_statistic_bounds,
    plan_keepers,
    weighted_order_statistic_bounds,
)
from bot.domain.pricing import TaskSpec, actual_cost

PRICING = Pricing.model_validate(
    {
        "tools": {
            "image": {"unit": "variant", "rates": {"standard": 4, "high": 8}},
            "video": {"unit": "second", "rates": {"standard": 6}, "minimum": 12},
        }
    }
)
HIGH_X4 = TaskSpec("image", "high", 4)


def shapes_with(retries: list[int], quality: str = "high", variants: int = 1) -> list[FinishedShape]:
    spec = TaskSpec("image", quality, variants)
    return [FinishedShape(quality, variants, None, r, actual_cost(PRICING, spec, r)) for r in retries]


def test_order_statistics_take_the_outward_ranks() -> None:
    values = list(range(1, 42))  # 41 tasks: ranks ⌊2.1⌋ = 2 and ⌈39.9⌉ = 40
    assert order_statistic_bounds(values) == (2, 40)
    assert order_statistic_bounds(list(range(1, 21))) == (1, 20)  # 20 tasks: smallest to largest
    assert order_statistic_bounds([5.0]) == (5.0, 5.0)
    with pytest.raises(ValueError):
        order_statistic_bounds([])


def test_geometric_model_bounds() -> None:
    assert geometric_retry_bounds(0.25) == (0, 1)  # each attempt fails 1 in 5: 2+ retries 4 % of the time
    assert geometric_retry_bounds(1.0) == (0, 4)  # fails 1 in 2: P(more than 4) = 1/32
    assert geometric_retry_bounds(0) == (0, 0)


@settings(deadline=None, max_examples=200)
@given(mean=st.floats(0.01, 5))
def test_geometric_bounds_hold_nine_in_ten(mean: float) -> None:
    p = mean / (1 + mean)
    low, high = geometric_retry_bounds(mean)
    assert 1 - p ** (high + 1) >= 0.95 - 1e-9  # P(retries ≤ high)
    assert high == 0 or 1 - p**high < 0.95  # and it is the smallest such
    assert low == 0


def test_range_from_the_teams_tasks_of_this_quality() -> None:
    history = shapes_with([0] * 30 + [1] * 8 + [2] * 3)  # 41 high image tasks
    likely = likely_range(PRICING, HIGH_X4, history, retry_rate=0.34)
    assert likely.basis is RangeBasis.QUALITY_HISTORY and likely.tasks == 41
    assert (likely.low, likely.high) == (32, 96)  # 40th of 41 sorted multiples is 3 attempts


def test_range_uses_the_whole_tool_when_the_quality_has_too_few() -> None:
    history = shapes_with([0, 1] * 5) + shapes_with([0] * 8 + [1] * 4, quality="standard", variants=3)
    likely = likely_range(PRICING, HIGH_X4, history, retry_rate=0.3)
    assert likely.basis is RangeBasis.TOOL_HISTORY and likely.tasks == 22
    assert (likely.low, likely.high) == (32, 64)


def test_too_little_history_uses_the_stated_model() -> None:
    likely = likely_range(PRICING, HIGH_X4, shapes_with([0, 1, 0]), retry_rate=0.25)
    assert likely.basis is RangeBasis.MODEL and likely.tasks == 3 < RANGE_MIN_TASKS
    assert (likely.low, likely.high, likely.max_retries) == (32, 64, 1)


def test_multiples_ignore_the_rounding_of_other_sizes_and_read_reported_costs() -> None:
    # a 10 s video at 6/s: 60 credits an attempt; one retry reported with retries= is exactly 2 attempts
    video = FinishedShape("standard", 1, 10, 1, 120)
    assert cost_multiple(PRICING, "video", video) == 2
    reported = FinishedShape("standard", 1, 10, 0, 90)  # cost=90 reported: 1.5 attempts
    assert cost_multiple(PRICING, "video", reported) == 1.5
    assert cost_multiple(PRICING, "image", FinishedShape("ultra", 1, None, 0, 16)) is None  # no longer priced


def test_range_covers_nine_in_ten_of_new_tasks_from_the_same_habits() -> None:
    rng = random.Random(12)
    inside = total = 0

    def draw(fail: float) -> int:
        retries = 0
        while rng.random() < fail:
            retries += 1
        return retries

    for _ in range(300):
        fail = rng.uniform(0.05, 0.6)
        likely = likely_range(PRICING, HIGH_X4, shapes_with([draw(fail) for _ in range(30)]), retry_rate=0.25)
        for _ in range(10):
            cost = actual_cost(PRICING, HIGH_X4, draw(fail))
            inside += likely.low <= cost <= likely.high
            total += 1
    assert inside / total >= 0.9


def test_keep_plan_from_this_qualitys_rate() -> None:
    high = KeepHistory(tasks=12, generated=60, kept=20)  # keeps 1 in 3
    plan = plan_keepers(3, high, KeepHistory(tasks=30, generated=100, kept=50), min_tasks=10)
    assert (plan.variants, plan.basis, plan.rate) == (9, KeepBasis.QUALITY, pytest.approx(1 / 3))
    assert one_in(plan.rate or 0) == "1 in 3"


def test_keep_plan_falls_back_to_the_tool_then_to_variants() -> None:
    few = KeepHistory(tasks=3, generated=12, kept=6)
    tool = KeepHistory(tasks=15, generated=40, kept=10)
    assert (plan_keepers(2, few, tool, 10).variants, plan_keepers(2, few, tool, 10).basis) == (8, KeepBasis.TOOL)
    none = plan_keepers(2, few, KeepHistory(tasks=3, generated=12, kept=6), 10)
    assert (none.variants, none.basis, none.rate) == (2, KeepBasis.NONE, None)
    kept_nothing = plan_keepers(2, KeepHistory(20, 80, 0), KeepHistory(20, 80, 0), 10)
    assert kept_nothing.basis is KeepBasis.NONE and kept_nothing.variants == 2


def test_keep_rates_as_people_say_them() -> None:
    assert one_in(0.25) == "1 in 4"
    assert one_in(0.7) == "7 in 10"
    assert one_in(1.0) == "all"


@given(st.lists(st.tuples(st.floats(0.5, 5.0), st.integers(1, 50)), min_size=1, max_size=12))
def test_weighted_bounds_equal_the_bounds_of_the_expanded_values(counted: list[tuple[float, int]]) -> None:
    expanded = [value for value, count in counted for _ in range(count)]
    assert weighted_order_statistic_bounds(counted) == order_statistic_bounds(expanded)


def test_with_the_retries_given_the_range_is_the_given_figure() -> None:
    """Issue 24: the team's habits never put the likely cost below what ``retries=2`` already costs."""
    history = shapes_with([0] * 30 + [1] * 8 + [2] * 3)
    spec = TaskSpec(HIGH_X4.tool, HIGH_X4.quality, HIGH_X4.variants, HIGH_X4.duration_seconds, 2)
    likely = likely_range(PRICING, spec, history, retry_rate=0.34)
    assert (likely.low, likely.high, likely.basis, likely.max_retries) == (96, 96, RangeBasis.GIVEN, 2)
