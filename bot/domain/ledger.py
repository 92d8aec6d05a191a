"""Ledger arithmetic: how each kind of entry moves a team's plan, extra, held and spent figures.

The ledger is append-only; a team's balance is the sum of its entries' deltas, kept as a running
figure beside it. Plan credits are spent first and lapse at renewal; extra credits are spent after
them and never lapse. A hold reserves credits without spending them. Plan credits that back a hold
still open at renewal are kept (not lapsed) until it is captured or released, so renewal can never
push the available figure below zero.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from bot.domain.errors import UserFacingError


class EntryKind(StrEnum):
    """Every kind of ledger entry."""

    GRANT = "grant"  # plan allowance for a cycle
    LAPSE = "lapse"  # unused plan credits expiring at renewal
    EXTRA = "extra"  # extra credits bought or given
    HOLD = "hold"  # credits reserved for a task
    RELEASE = "release"  # a hold given back
    CAPTURE = "capture"  # a task's real cost spent (and its hold closed)
    REFUND = "refund"  # spent credits given back (as extra credits, which do not lapse)
    ADJUSTMENT = "adjustment"  # an admin correction


@dataclass(frozen=True)
class Delta:
    """How one entry changes each figure."""

    plan: int = 0
    extra: int = 0
    held: int = 0
    spent: int = 0

    def __add__(self, other: Delta) -> Delta:
        return Delta(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class Balance:
    """A team's figures in the current cycle; ``spent`` is this cycle's spending."""

    plan: int = 0
    extra: int = 0
    held: int = 0
    spent: int = 0

    @property
    def available(self) -> int:
        """Credits that can still be reserved or spent."""
        return self.plan + self.extra - self.held

    def apply(self, delta: Delta) -> Balance:
        """The balance after one entry."""
        return Balance(
            self.plan + delta.plan, self.extra + delta.extra, self.held + delta.held, self.spent + delta.spent
        )


class InsufficientCreditsError(UserFacingError):
    """The team cannot afford this, even with its extra credits."""

    def __init__(self, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        self.shortfall = needed - available
        super().__init__(f"The team is {self.shortfall} credits short: this needs {needed}, {available} are available.")


def _positive(amount: int, what: str) -> None:
    if amount <= 0:
        raise ValueError(f"{what} must be a positive number of credits, not {amount}")


def grant_plan(monthly_credits: int) -> Delta:
    """A new cycle's plan allowance."""
    return Delta(plan=monthly_credits)


def renew_cycle(balance: Balance) -> Delta:
    """Start a new cycle: unreserved plan credits lapse and the cycle's spending restarts at zero."""
    backing_holds = min(balance.plan, balance.held)
    return Delta(plan=-(balance.plan - backing_holds), spent=-balance.spent)


def add_extra(amount: int) -> Delta:
    """Extra credits bought or given."""
    _positive(amount, "extra credits")
    return Delta(extra=amount)


def place_hold(balance: Balance, amount: int) -> Delta:
    """Reserve credits for a task; refuse when the team cannot afford it."""
    _positive(amount, "a hold")
    if amount > balance.available:
        raise InsufficientCreditsError(amount, balance.available)
    return Delta(held=amount)


def release_hold(balance: Balance, hold_amount: int) -> Delta:
    """Give a hold back in full."""
    _positive(hold_amount, "a release")
    if hold_amount > balance.held:
        raise ValueError(f"cannot release {hold_amount}: only {balance.held} held")
    return Delta(held=-hold_amount)


def capture(balance: Balance, hold_amount: int, cost: int) -> Delta:
    """Spend a task's real cost, plan credits first, and close its hold (releasing any rest)."""
    if cost < 0 or hold_amount < 0 or hold_amount > balance.held:
        raise ValueError(f"bad capture: cost {cost}, hold {hold_amount}, held {balance.held}")
    after_release = balance.apply(Delta(held=-hold_amount))
    if cost > after_release.available:
        raise InsufficientCreditsError(cost, after_release.available)
    from_plan = min(balance.plan, cost)
    return Delta(plan=-from_plan, extra=-(cost - from_plan), held=-hold_amount, spent=cost)


def refund(amount: int) -> Delta:
    """Give spent credits back; they return as extra credits so a refund never lapses."""
    _positive(amount, "a refund")
    return Delta(extra=amount, spent=-amount)


def adjust(balance: Balance, plan: int = 0, extra: int = 0) -> Delta:
    """An admin correction; it may not take a figure or the available credits below zero."""
    delta = Delta(plan=plan, extra=extra)
    after = balance.apply(delta)
    if after.plan < 0 or after.extra < 0 or after.available < 0:
        raise UserFacingError(
            f"That correction would leave plan {after.plan}, extra {after.extra}, "
            f"available {after.available}; figures cannot go below zero."
        )
    return delta


def total_of(deltas: list[Delta]) -> Balance:
    """The balance a list of entries sums to: the ledger's truth the running figure must equal."""
    balance = Balance()
    for delta in deltas:
        balance = balance.apply(delta)
    return balance
