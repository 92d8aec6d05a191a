"""What a task will likely cost, and how many variants to ask for to keep enough versions.

The likely range is a prediction interval: the span that 9 in 10 of the team's own finished tasks of
the tool fell in, each as a multiple of its first attempt, applied to this task's first attempt. It is
read off the sorted multiples with outward order statistics (the ``⌊0.05·(n+1)⌋``-th smallest to the
``⌈0.95·(n+1)⌉``-th), which holds at least 9 in 10 of the next task's costs whatever the shape of the
team's habits, provided there are at least ``RANGE_MIN_TASKS`` of them (with ``n`` tasks the widest
span, smallest to largest, holds ``(n-1)/(n+1)`` of the next ones: 9 in 10 needs ``n ≥ 19``).

With fewer tasks the range comes from a stated model instead: every attempt fails independently with
the same chance and a failed one is retried until it works, so retries follow a geometric law whose
mean is the retry rate the quote uses (the team's own, or the configured one). Its 5th and 95th
percentiles, in whole retries, give the range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.credits_file import Pricing
from bot.domain.pricing import TaskSpec, price_task

COVERAGE = 0.9
RANGE_MIN_TASKS = 20


class RangeBasis(StrEnum):
    """Which evidence the likely range rests on, so the quote can say it."""

    QUALITY_HISTORY = "quality_history"  # the team's finished tasks of this tool and quality
    TOOL_HISTORY = "tool_history"  # the team's finished tasks of this tool, any quality
    MODEL = "model"  # too little history: the geometric retry model at ``retry_rate``
    GIVEN = "given"  # the member gave ``retries=``: the cost is that figure, no range around it


@dataclass(frozen=True)
class FinishedShape:
    """Finished tasks alike in everything their price depends on, with what they really cost."""

    quality: str
    variants: int
    duration_seconds: int | None
    retries_used: int | None
    actual_cost: int
    tasks: int = 1


@dataclass(frozen=True)
class LikelyRange:
    """Whole credits this task will likely cost (9 in 10), and what that claim rests on."""

    low: int
    high: int
    basis: RangeBasis
    tasks: int  # finished tasks behind it (those of the tool and quality for QUALITY_HISTORY)
    retry_rate: float  # the mean the model used (MODEL only; 0 otherwise)
    max_retries: int  # the model's 95th-percentile retries (MODEL only; the given retries for GIVEN)


def order_statistic_bounds(values: Iterable[float], coverage: float = COVERAGE) -> tuple[float, float]:
    """The outward order statistics that hold ``coverage`` of the next draw from the same habits."""
    return weighted_order_statistic_bounds(((value, 1) for value in values), coverage)


def weighted_order_statistic_bounds(
    counted: Iterable[tuple[float, int]], coverage: float = COVERAGE
) -> tuple[float, float]:
    """``order_statistic_bounds`` of values given with how many times each occurs.

    The same bounds as on the expanded list, in time proportional to the distinct values: a team's
    thousands of finished tasks come as a few dozen shapes.
    """
    ordered = sorted((value, count) for value, count in counted if count > 0)
    if not ordered:
        raise ValueError("no values to take bounds from")
    n = sum(count for _, count in ordered)
    tail = (1 - coverage) / 2
    low_rank = max(1, math.floor(round(tail * (n + 1), 9)))
    high_rank = min(n, math.ceil(round((1 - tail) * (n + 1), 9)))
    return _value_at_rank(ordered, low_rank), _value_at_rank(ordered, high_rank)


def _value_at_rank(ordered: list[tuple[float, int]], rank: int) -> float:
    """The ``rank``-th (from 1) value of the sorted expansion of ``ordered``."""
    seen = 0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    raise ValueError(f"rank {rank} beyond {seen} values")


def geometric_retry_bounds(mean_retries: float, coverage: float = COVERAGE) -> tuple[int, int]:
    """5th and 95th percentile retries when each attempt fails with the chance that gives this mean.

    With failure chance ``p`` retries are ``k`` with probability ``(1-p)·pᵏ`` and their mean is
    ``p/(1-p)``, so ``p = mean/(1+mean)`` and ``P(retries > k) = pᵏ⁺¹``.
    """
    if mean_retries <= 0:
        return 0, 0
    p = mean_retries / (1 + mean_retries)
    tail = (1 - coverage) / 2

    def percentile(share: float) -> int:
        # the smallest k with P(retries ≤ k) = 1 - p^(k+1) ≥ share
        k = math.ceil(round(math.log(1 - share) / math.log(p), 9)) - 1
        return max(0, k)

    return percentile(tail), percentile(1 - tail)


def cost_multiple(pricing: Pricing, tool: str, shape: FinishedShape) -> float | None:
    """A finished task's cost as a multiple of its first attempt; None when it is no longer priced.

    A task reported with ``retries=`` cost exactly ``1 + retries × retry_cost`` attempts (the rounding
    of its own total is not carried over to other sizes); one reported with ``cost=`` is its cost over
    its first attempt.
    """
    tool_pricing = pricing.tools.get(tool)
    if tool_pricing is None or shape.quality not in tool_pricing.rates:
        return None
    if tool_pricing.time_based and shape.duration_seconds is None:
        return None
    spec = TaskSpec(tool, shape.quality, shape.variants, shape.duration_seconds, shape.retries_used or 0)
    priced = price_task(pricing, spec)
    if priced.attempt_cost <= 0:
        return None
    if shape.actual_cost == priced.total:
        return 1 + (shape.retries_used or 0) * pricing.retry_cost
    return shape.actual_cost / priced.attempt_cost


def _whole(value: float) -> int:
    """Credits are whole: round up, without float noise (32.000000001 stays 32)."""
    return math.ceil(round(value, 6))


def likely_range(
    pricing: Pricing,
    spec: TaskSpec,
    shapes: Iterable[FinishedShape],
    retry_rate: float,
    min_tasks: int = RANGE_MIN_TASKS,
) -> LikelyRange:
    """The likely cost of ``spec``: from the team's finished tasks of the tool, or the stated model.

    ``shapes`` are the tool's finished tasks in the history window; those of the same quality are used
    alone when there are ``min_tasks`` of them. ``retry_rate`` is the mean the model assumes.
    With the retries given (``retries=``) the cost is that figure: the range is the quote's total alone,
    never a range of habits that could fall below it.
    """
    if spec.retries is not None:
        total = price_task(pricing, spec).total
        return LikelyRange(total, total, RangeBasis.GIVEN, 0, 0.0, spec.retries)
    attempt = price_task(pricing, TaskSpec(spec.tool, spec.quality, spec.variants, spec.duration_seconds, 0))
    same_quality: list[tuple[float, int]] = []  # (cost multiple, tasks with it): one pair per shape
    any_quality: list[tuple[float, int]] = []
    for shape in shapes:
        multiple = cost_multiple(pricing, spec.tool, shape)
        if multiple is None:
            continue
        any_quality.append((multiple, shape.tasks))
        if shape.quality == spec.quality:
            same_quality.append((multiple, shape.tasks))
    for multiples, basis in ((same_quality, RangeBasis.QUALITY_HISTORY), (any_quality, RangeBasis.TOOL_HISTORY)):
        tasks = sum(count for _, count in multiples)
        if tasks >= min_tasks:
            low, high = weighted_order_statistic_bounds(multiples)
            return LikelyRange(
                _whole(attempt.attempt_cost * low),
                _whole(attempt.attempt_cost * high),
                basis,
                tasks,
                0.0,
                0,
            )
    fewest, most = geometric_retry_bounds(retry_rate)
    return LikelyRange(
        _whole(attempt.attempt_cost * (1 + fewest * pricing.retry_cost)),
        _whole(attempt.attempt_cost * (1 + most * pricing.retry_cost)),
        RangeBasis.MODEL,
        sum(count for _, count in any_quality),
        retry_rate,
        most,
    )


# --- planning by kept versions -------------------------------------------------------------------


class KeepBasis(StrEnum):
    """Whose keep rate planned the variants."""

    QUALITY = "quality"  # the team's tasks of this tool and quality that recorded ``kept=``
    TOOL = "tool"  # of this tool, any quality
    NONE = "none"  # too little keep history: ``keep`` is priced as that many variants


@dataclass(frozen=True)
class KeepHistory:
    """Finished tasks that recorded what they kept, the versions they generated and kept."""

    tasks: int = 0
    generated: int = 0  # variants × attempts
    kept: int = 0


@dataclass(frozen=True)
class KeepPlan:
    """How many variants to ask for to end up with ``keep`` versions worth keeping."""

    keep: int
    variants: int
    basis: KeepBasis
    history: KeepHistory

    @property
    def rate(self) -> float | None:
        """Kept versions per generated one, or None without a usable history."""
        if self.basis is KeepBasis.NONE or not self.history.generated:
            return None
        return self.history.kept / self.history.generated


def plan_keepers(keep: int, by_quality: KeepHistory, by_tool: KeepHistory, min_tasks: int) -> KeepPlan:
    """Variants for ``keep`` keepers at the team's keep rate (this quality's when it has enough tasks).

    Each generated version is kept with the team's rate, so ``keep / rate`` variants give ``keep``
    keepers on average; versions from retries come on top, which leaves a margin. With too little
    history, or none kept, ``keep`` is priced as that many variants.
    """
    for history, basis in ((by_quality, KeepBasis.QUALITY), (by_tool, KeepBasis.TOOL)):
        if history.tasks >= min_tasks and history.kept > 0 and history.generated > 0:
            variants = math.ceil(round(keep * history.generated / history.kept, 6))
            return KeepPlan(keep, max(keep, variants), basis, history)
    return KeepPlan(keep, keep, KeepBasis.NONE, by_quality if by_quality.tasks else by_tool)


def one_in(rate: float) -> str:
    """A keep rate as people say it: ``1 in 3``, ``7 in 10``, ``all``."""
    if rate <= 0.5:
        return f"1 in {round(1 / rate):,}"
    tenths = round(rate * 10)
    return "all" if tenths >= 10 else f"{tenths} in 10"
