"""What a Keter Labs task costs: one attempt, its retries, and the total in whole credits.

Cost of one attempt = ``max(minimum, rate[quality] × units)``; units are variants for per-variant
tools and variants × duration (in the tool's unit) for time-based ones. Each retry costs
``retry_cost × attempt``. Credits are whole numbers, so the total is rounded up once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from bot.credits_file import Pricing, ToolPricing
from bot.domain.errors import UserFacingError, unknown_name

SECONDS_PER_UNIT = {"second": 1, "minute": 60}


@dataclass(frozen=True)
class TaskSpec:
    """A task as the member described it; ``retries`` is None when they let history decide."""

    tool: str
    quality: str
    variants: int = 1
    duration_seconds: int | None = None
    retries: int | None = None


@dataclass(frozen=True)
class RetryHistory:
    """The team's finished tasks of one tool over the history window, and the retries they took."""

    tasks: int = 0
    retries: int = 0


class RetryBasis(StrEnum):
    """Where the retry forecast came from, so the quote can say which it used."""

    GIVEN = "given"
    HISTORY = "history"
    CONFIGURED = "configured"


@dataclass(frozen=True)
class Quote:
    """An itemised price: rate and units, the first attempt, the retries and the rounded-up total."""

    spec: TaskSpec
    unit: str
    rate: float
    units: float
    minimum_applied: bool
    attempt_cost: float
    retries: float
    retry_basis: RetryBasis
    history: RetryHistory
    retries_cost: float
    total: int


def resolve_task(
    pricing: Pricing,
    tool: str,
    quality: str | None,
    variants: int,
    duration_seconds: int | None,
    retries: int | None,
) -> TaskSpec:
    """Check a task's tool, quality and duration against the pricing; suggest close matches."""
    if tool not in pricing.tools:
        raise unknown_name("tool", tool, pricing.tools)
    tool_pricing = pricing.tools[tool]
    chosen_quality = quality or tool_pricing.default_quality
    if chosen_quality not in tool_pricing.rates:
        raise unknown_name("quality", chosen_quality, tool_pricing.rates, what=f"for {tool}")
    if tool_pricing.time_based and duration_seconds is None:
        raise UserFacingError(
            f"`{tool}` is priced per {tool_pricing.unit}, so it needs a length: add `duration=<seconds>`, "
            f"e.g. `/credits quote {tool} duration=30`."
        )
    if not tool_pricing.time_based and duration_seconds is not None:
        raise UserFacingError(f"`{tool}` is priced per variant and takes no `duration=`; remove it.")
    return TaskSpec(tool, chosen_quality, variants, duration_seconds, retries)


def units_of(tool: ToolPricing, spec: TaskSpec) -> float:
    """Billable units: variants, or variants × duration in the tool's unit."""
    if not tool.time_based:
        return float(spec.variants)
    seconds = spec.duration_seconds or 0
    return spec.variants * seconds / SECONDS_PER_UNIT[tool.unit]


def expected_retries(pricing: Pricing, spec: TaskSpec, history: RetryHistory) -> tuple[float, RetryBasis]:
    """Retries to price in: the number given, the team's own rate, or the configured rate."""
    if spec.retries is not None:
        return float(spec.retries), RetryBasis.GIVEN
    if history.tasks >= pricing.history_min_tasks:
        return history.retries / history.tasks, RetryBasis.HISTORY
    return pricing.expected_retry_rate, RetryBasis.CONFIGURED


def price_task(pricing: Pricing, spec: TaskSpec, history: RetryHistory = RetryHistory()) -> Quote:
    """Price a resolved task, including the expected cost of its retries."""
    tool = pricing.tools[spec.tool]
    rate = tool.rates[spec.quality]
    units = units_of(tool, spec)
    raw = rate * units
    attempt = max(tool.minimum, raw)
    retries, basis = expected_retries(pricing, spec, history)
    retries_cost = retries * pricing.retry_cost * attempt
    # Round only once, and guard against float noise (32.000000001 must stay 32).
    total = math.ceil(round(attempt + retries_cost, 6))
    return Quote(
        spec,
        tool.unit,
        rate,
        units,
        tool.minimum > raw,
        attempt,
        retries,
        basis,
        history,
        retries_cost,
        total,
    )


def first_attempt_price(pricing: Pricing, spec: TaskSpec) -> int | None:
    """The task's price with no retries, or None when its tool or quality is no longer priced."""
    tool = pricing.tools.get(spec.tool)
    if tool is None or spec.quality not in tool.rates:
        return None
    return price_task(pricing, TaskSpec(spec.tool, spec.quality, spec.variants, spec.duration_seconds, 0)).total


def cost_of_retries(pricing: Pricing, spec: TaskSpec, cost: int) -> int:
    """What of a finished task's ``cost`` went on retries: all it cost over a first attempt (never below 0).

    The digest's rule too, so the charge history and the digest agree. Unpriced: 0, nothing to compare with.
    """
    first = first_attempt_price(pricing, spec)
    return 0 if first is None else min(cost, max(0, cost - first))


def actual_cost(pricing: Pricing, spec: TaskSpec, retries_used: int) -> int:
    """What a finished task really cost: its attempt plus the retries it actually took."""
    return price_task(
        pricing, TaskSpec(spec.tool, spec.quality, spec.variants, spec.duration_seconds, retries_used)
    ).total
