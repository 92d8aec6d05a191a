"""Pricing rules checked directly against the shipped default Keter Labs prices."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.credits_file import Pricing, ToolPricing, load_config
from bot.domain.errors import UserFacingError
from bot.domain.pricing import (
    Quote,
    RetryBasis,
    RetryHistory,
    TaskSpec,
    actual_cost,
    expected_retries,
    price_task,
    resolve_task,
    units_of,
)

PRICING: Pricing = load_config(None).pricing


def quote(
    tool: str,
    quality: str | None = None,
    variants: int = 1,
    duration: int | None = None,
    retries: int | None = None,
    history: RetryHistory | None = None,
) -> Quote:
    spec = resolve_task(PRICING, tool, quality, variants, duration, retries)
    return price_task(PRICING, spec, history or RetryHistory())


# --- the spec's examples -------------------------------------------------------------------------


def test_high_image_with_four_variants_costs_32_for_the_first_attempt() -> None:
    q = quote("image", "high", variants=4, retries=0)
    assert q.unit == "variant"
    assert q.rate == 8
    assert q.units == 4
    assert q.attempt_cost == 32
    assert q.retries_cost == 0
    assert q.total == 32
    assert not q.minimum_applied


def test_high_image_with_four_variants_and_one_retry_costs_64() -> None:
    q = quote("image", "high", variants=4, retries=1)
    assert q.attempt_cost == 32
    assert q.retries == 1
    assert q.retry_basis is RetryBasis.GIVEN
    assert q.retries_cost == 32
    assert q.total == 64


def test_video_minimum_applies_to_a_one_second_draft() -> None:
    q = quote("video", "draft", duration=1, retries=0)
    assert q.unit == "second"
    assert q.units == 1
    assert q.rate * q.units == 2  # raw cost before the minimum
    assert q.minimum_applied
    assert q.attempt_cost == 12
    assert q.total == 12


def test_video_above_the_minimum_is_rate_times_seconds() -> None:
    q = quote("video", "standard", duration=10, retries=0)
    assert not q.minimum_applied
    assert q.attempt_cost == 60
    assert q.total == 60


def test_video_minimum_applies_per_attempt_including_retries() -> None:
    q = quote("video", "draft", duration=1, retries=2)
    assert q.attempt_cost == 12
    assert q.total == 36


def test_voice_is_priced_per_minute() -> None:
    q = quote("voice", "standard", duration=90, retries=0)
    assert q.unit == "minute"
    assert q.units == pytest.approx(1.5)
    assert q.attempt_cost == pytest.approx(15)
    assert q.total == 15


def test_time_based_units_multiply_variants_by_duration() -> None:
    spec = resolve_task(PRICING, "voice", "high", 3, 30, 0)
    assert units_of(PRICING.tools["voice"], spec) == pytest.approx(1.5)
    assert price_task(PRICING, spec).total == 30


def test_default_quality_is_used_when_none_given() -> None:
    spec = resolve_task(PRICING, "image", None, 1, None, None)
    assert spec.quality == "standard"
    assert spec.variants == 1
    assert spec.retries is None


# --- expected retries ----------------------------------------------------------------------------


def test_expected_retries_given_wins_over_history() -> None:
    spec = TaskSpec("image", "standard", retries=2)
    retries, basis = expected_retries(PRICING, spec, RetryHistory(tasks=100, retries=50))
    assert (retries, basis) == (2.0, RetryBasis.GIVEN)


def test_expected_retries_given_zero_is_still_given() -> None:
    spec = TaskSpec("image", "standard", retries=0)
    assert expected_retries(PRICING, spec, RetryHistory(tasks=100, retries=50)) == (0.0, RetryBasis.GIVEN)


def test_expected_retries_from_history_at_the_threshold() -> None:
    assert PRICING.history_min_tasks == 10
    spec = TaskSpec("image", "standard")
    retries, basis = expected_retries(PRICING, spec, RetryHistory(tasks=10, retries=5))
    assert basis is RetryBasis.HISTORY
    assert retries == pytest.approx(0.5)


def test_expected_retries_from_history_can_be_zero() -> None:
    spec = TaskSpec("image", "standard")
    assert expected_retries(PRICING, spec, RetryHistory(tasks=40, retries=0)) == (0.0, RetryBasis.HISTORY)


def test_expected_retries_configured_below_the_threshold() -> None:
    spec = TaskSpec("image", "standard")
    retries, basis = expected_retries(PRICING, spec, RetryHistory(tasks=9, retries=9))
    assert basis is RetryBasis.CONFIGURED
    assert retries == 0.25


def test_expected_retries_configured_with_no_history() -> None:
    spec = TaskSpec("image", "standard")
    assert expected_retries(PRICING, spec, RetryHistory()) == (0.25, RetryBasis.CONFIGURED)


def test_quote_reports_the_history_it_used() -> None:
    history = RetryHistory(tasks=20, retries=10)
    q = quote("image", "high", variants=1, history=history)
    assert q.history == history
    assert q.retry_basis is RetryBasis.HISTORY
    assert q.retries_cost == pytest.approx(4)
    assert q.total == 12


# --- rounding ------------------------------------------------------------------------------------


def test_configured_retry_rate_adds_a_quarter_attempt() -> None:
    q = quote("image", "standard", variants=1)
    assert q.retry_basis is RetryBasis.CONFIGURED
    assert q.attempt_cost == 4
    assert q.retries_cost == pytest.approx(1)
    assert q.total == 5


def test_fractional_sum_is_rounded_up_once() -> None:
    # draft image: 1 + 0.25 = 1.25 -> 2 (not 1 + ceil(0.25) twice, nor truncated)
    q = quote("image", "draft", variants=1)
    assert q.attempt_cost + q.retries_cost == pytest.approx(1.25)
    assert q.total == 2


def test_rounding_happens_once_not_per_part() -> None:
    # voice 3 s standard: attempt 0.5, retries 0.25 × 0.5 = 0.125. Once: ceil(0.625) = 1; per part would be 2.
    q = quote("voice", "standard", duration=3)
    assert q.attempt_cost == pytest.approx(0.5)
    assert q.retries_cost == pytest.approx(0.125)
    assert q.total == 1


def test_float_noise_never_adds_a_credit() -> None:
    # voice 13 s standard = 13/6 credits; history 5 retries in 13 tasks -> 13/6 × 18/13 = 3 exactly,
    # which floats compute as 3.0000000000000004.
    history = RetryHistory(tasks=13, retries=5)
    spec = resolve_task(PRICING, "voice", "standard", 1, 13, None)
    q = price_task(PRICING, spec, history)
    assert q.attempt_cost + q.retries_cost > 3  # the noise is really there
    assert q.total == 3


def test_float_noise_on_per_minute_units_never_adds_a_credit() -> None:
    # 7 s of voice, 60 variants = 7 minutes exactly, but 60 * 7 / 60 style arithmetic can be noisy.
    for seconds in range(1, 600):
        for variants in (1, 3, 7, 60):
            total_seconds = seconds * variants
            if total_seconds % 6:
                continue  # only durations whose standard price (10/min) is a whole number
            q = quote("voice", "standard", variants=variants, duration=seconds, retries=0)
            assert q.total == total_seconds // 6, (seconds, variants)


def test_actual_cost_uses_the_retries_really_taken() -> None:
    spec = resolve_task(PRICING, "image", "high", 4, None, None)
    assert actual_cost(PRICING, spec, 0) == 32
    assert actual_cost(PRICING, spec, 1) == 64
    assert actual_cost(PRICING, spec, 3) == 128


# --- resolve_task errors -------------------------------------------------------------------------


def test_unknown_tool_suggests_the_closest() -> None:
    with pytest.raises(UserFacingError) as caught:
        resolve_task(PRICING, "imgae", None, 1, None, None)
    assert "Unknown tool `imgae`" in caught.value.message
    assert "Did you mean `image`?" in caught.value.message
    assert "`video`" in caught.value.message  # lists the known tools


def test_unknown_tool_with_nothing_close_gives_no_suggestion() -> None:
    with pytest.raises(UserFacingError) as caught:
        resolve_task(PRICING, "zzzzzz", None, 1, None, None)
    assert "Did you mean" not in caught.value.message
    assert "Known: `image`, `upscale`, `video`, `voice`." in caught.value.message


def test_unknown_quality_names_the_tool_and_its_qualities() -> None:
    with pytest.raises(UserFacingError) as caught:
        resolve_task(PRICING, "upscale", "ultra", 1, None, None)
    message = caught.value.message
    assert "Unknown quality `ultra` for upscale. Known: `high`, `standard`." in message
    assert "`standard`" in message
    assert "`high`" in message


def test_misspelt_quality_is_suggested() -> None:
    with pytest.raises(UserFacingError, match="Did you mean `high`"):
        resolve_task(PRICING, "image", "hgih", 1, None, None)


def test_time_based_tool_without_duration_says_how_to_fix_it() -> None:
    with pytest.raises(UserFacingError) as caught:
        resolve_task(PRICING, "video", "draft", 1, None, None)
    message = caught.value.message
    assert "per second" in message
    assert "duration=" in message
    assert "/credits quote video duration=30" in message


def test_voice_without_duration_says_per_minute() -> None:
    with pytest.raises(UserFacingError, match="per minute"):
        resolve_task(PRICING, "voice", None, 1, None, None)


def test_duration_given_to_a_per_variant_tool_is_refused() -> None:
    with pytest.raises(UserFacingError) as caught:
        resolve_task(PRICING, "image", "high", 1, 30, None)
    assert "priced per variant" in caught.value.message
    assert "duration=" in caught.value.message


def test_tool_minimum_and_default_quality_can_be_configured() -> None:
    tool = ToolPricing(unit="variant", rates={"fast": 3}, minimum=10, default_quality="fast")
    pricing = Pricing(tools={"sketch": tool}, expected_retry_rate=0)
    q = price_task(pricing, resolve_task(pricing, "sketch", None, 2, None, None))
    assert q.minimum_applied
    assert q.attempt_cost == 10
    assert q.total == 10


# --- properties ----------------------------------------------------------------------------------

tool_specs = st.sampled_from(sorted(PRICING.tools)).flatmap(
    lambda tool: st.tuples(
        st.just(tool),
        st.sampled_from(sorted(PRICING.tools[tool].rates)),
        st.integers(1, 100),
        st.integers(1, 4 * 60 * 60) if PRICING.tools[tool].time_based else st.none(),
        st.integers(0, 50),
    )
)


@settings(deadline=None, max_examples=300)
@given(tool_specs)
def test_total_is_at_least_the_attempt(args: tuple[str, str, int, int | None, int]) -> None:
    tool, quality, variants, duration, retries = args
    q = quote(tool, quality, variants, duration, retries)
    assert q.total >= q.attempt_cost - 1e-9
    assert q.total >= 1


@settings(deadline=None, max_examples=300)
@given(tool_specs)
def test_total_is_the_rounded_up_formula(args: tuple[str, str, int, int | None, int]) -> None:
    tool, quality, variants, duration, retries = args
    q = quote(tool, quality, variants, duration, retries)
    exact = q.attempt_cost * (1 + retries * PRICING.retry_cost)
    # within float tolerance: exactly ceil(exact), or exact is a whole number hidden by float noise
    assert q.total == math.ceil(exact) or abs(q.total - exact) < 1e-6
    assert q.total - exact > -1e-6
    assert q.total - exact < 1


@settings(deadline=None, max_examples=300)
@given(tool_specs, st.integers(1, 99))
def test_total_is_monotonic_in_variants(args: tuple[str, str, int, int | None, int], more: int) -> None:
    tool, quality, variants, duration, retries = args
    fewer = quote(tool, quality, min(variants, 100 - more), duration, retries)
    bigger = quote(tool, quality, min(variants, 100 - more) + more, duration, retries)
    assert bigger.total >= fewer.total


@settings(deadline=None, max_examples=300)
@given(tool_specs, st.integers(1, 50))
def test_total_is_monotonic_in_retries(args: tuple[str, str, int, int | None, int], more: int) -> None:
    tool, quality, variants, duration, retries = args
    fewer = quote(tool, quality, variants, duration, retries)
    bigger = quote(tool, quality, variants, duration, retries + more)
    assert bigger.total >= fewer.total


@settings(deadline=None, max_examples=200)
@given(tool_specs, st.integers(0, 1000), st.integers(0, 1000))
def test_history_rate_is_retries_per_task(
    args: tuple[str, str, int, int | None, int], tasks: int, retried: int
) -> None:
    tool, quality, variants, duration, _ = args
    q = quote(tool, quality, variants, duration, None, RetryHistory(tasks=tasks, retries=retried))
    if tasks >= PRICING.history_min_tasks:
        assert q.retry_basis is RetryBasis.HISTORY
        assert q.retries == pytest.approx(retried / tasks)
    else:
        assert q.retry_basis is RetryBasis.CONFIGURED
        assert q.retries == PRICING.expected_retry_rate
    assert q.total >= q.attempt_cost - 1e-9
