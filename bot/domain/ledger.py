"""Ledger arithmetic: how each kind of entry moves a team's plan, extra, held and spent figures.

The ledger is append-only; a team's balance is the sum of its entries' deltas, kept as a running
figure beside it. Plan credits are spent first and lapse at renewal; extra credits are spent after
them and never lapse. A hold reserves credits without spending them. Plan credits that back a hold
still open at renewal are kept (not lapsed) until it is captured or released, so renewal can never
push the available figure below zero; what the hold then does not spend lapses (``close_carried``).

A charge is a fact, so a capture is never refused: when the real cost is more than the team has, the
deficit sits in the extra credits, which go negative (plan credits are used up first). The team is then
*overdrawn* by ``-(plan + extra)``; new holds are refused until a top-up (or the next plan grant, which
repays the deficit first: ``grant_plan`` moves that much of it into the extra credits) brings it back.
Admin adjustments follow the same rule: a negative one may overdraw the team, since it corrects the
figure to what Keter Labs charged.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from bot.domain.errors import UserFacingError

MAX_CREDITS = 1_000_000_000
"""The one bound on any credit figure a person or Keter Labs gives (a top-up, an adjustment, a reported
cost, a budget, a limit, a charge, a balance figure): far above any real amount, and far enough below
the 64-bit columns that no sum of them overflows."""


class EntryKind(StrEnum):
    """Every kind of ledger entry."""

    GRANT = "grant"  # plan allowance for a cycle
    LAPSE = "lapse"  # unused plan credits expiring at renewal (and the cycle's spent restarting: its reset
    # is corrected by a later lapse entry when a refund gives back an earlier cycle's spend)
    EXTRA = "extra"  # extra credits bought or given
    HOLD = "hold"  # credits reserved for a task
    RELEASE = "release"  # a hold given back
    CAPTURE = "capture"  # a task's real cost spent (and its hold closed)
    REFUND = "refund"  # spent credits given back (as extra credits, which do not lapse)
    ADJUSTMENT = (
        "adjustment"  # an admin correction of spend, or the difference Keter Labs' charges make to a reported cost
    )
    CHARGE = "charge"  # a charge from Keter Labs' feed or file (spent; a matched task's hold shrinks with it)


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

    @property
    def overdrawn_by(self) -> int:
        """How many credits more were charged than the team had (0 when it is not overdrawn)."""
        return max(0, -(self.plan + self.extra))

    def apply(self, delta: Delta) -> Balance:
        """The balance after one entry."""
        return Balance(
            self.plan + delta.plan, self.extra + delta.extra, self.held + delta.held, self.spent + delta.spent
        )


class OverdrawnError(UserFacingError):
    """The team is overdrawn: nothing new may be reserved until credits are added."""

    def __init__(self, overdrawn_by: int) -> None:
        self.overdrawn_by = overdrawn_by
        super().__init__(f"The team is overdrawn by {overdrawn_by:,} credits.")


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


def grant_plan(monthly_credits: int, balance: Balance | None = None) -> Delta:
    """A new cycle's plan allowance, which repays a deficit first.

    When the team is overdrawn (its extra credits negative), the grant pays the deficit back before it
    adds plan credits: ``repay`` of it goes to the extra credits, the rest to the plan. Left as plan
    credits, the debt would stay negative extra while the plan credits lapsed unspent at the next
    renewal, and the team would start every cycle that much short. ``balance`` is the team's after the
    renewal's lapse (None: a first grant, with nothing to repay).
    """
    owed = max(0, -(balance.extra if balance is not None else 0))
    repay = min(max(monthly_credits, 0), owed)
    return Delta(plan=monthly_credits - repay, extra=repay)


def renew_cycle(balance: Balance) -> Delta:
    """Start a new cycle: unreserved plan credits lapse and the cycle's spending restarts at zero."""
    backing_holds = min(balance.plan, balance.held)
    return Delta(plan=-(balance.plan - backing_holds), spent=-balance.spent)


def carried_at_renewal(balance: Balance) -> int:
    """The plan credits ``renew_cycle`` keeps only because they back holds still open (``balance`` before it)."""
    return max(0, min(balance.plan, balance.held))


def close_carried(carried: int, plan_after: int, closed_hold: int, spent: int) -> tuple[int, int]:
    """What lapses when a hold reserved before the last renewal closes ``closed_hold`` credits, spending ``spent``.

    Returns ``(lapse, carried_after)``. Of the plan credits carried past renewal, those this hold used
    are no longer needed; what the spend did not consume lapses now (never more plan credits than are
    left, ``plan_after``: the entry that closed the hold may have spent them), as it would have at renewal.
    A capture spends, a release spends nothing.
    """
    used = min(max(carried, 0), max(closed_hold, 0))
    lapse = min(max(0, used - max(spent, 0)), max(plan_after, 0))
    return lapse, carried - used


def add_extra(amount: int) -> Delta:
    """Extra credits bought or given."""
    _positive(amount, "extra credits")
    return Delta(extra=amount)


def place_hold(balance: Balance, amount: int) -> Delta:
    """Reserve credits for a task; refuse when the team is overdrawn or cannot afford it."""
    _positive(amount, "a hold")
    if balance.overdrawn_by:
        raise OverdrawnError(balance.overdrawn_by)
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
    """Spend a task's real cost, plan credits first, and close its hold (releasing any rest).

    Never refused for want of credits: what plan credits do not cover comes out of the extra credits,
    which go negative when the team had too little (the team is then overdrawn).
    """
    if cost < 0 or hold_amount < 0 or hold_amount > balance.held:
        raise ValueError(f"bad capture: cost {cost}, hold {hold_amount}, held {balance.held}")
    from_plan = min(max(balance.plan, 0), cost)
    return Delta(plan=-from_plan, extra=-(cost - from_plan), held=-hold_amount, spent=cost)


def refund(amount: int) -> Delta:
    """Give spent credits back; they return as extra credits so a refund never lapses.

    The entry takes the whole amount off spend (the history, the day's and the member's week count it);
    ``earlier_cycle_share`` keeps it from taking this cycle's spent below zero.
    """
    _positive(amount, "a refund")
    return Delta(extra=amount, spent=-amount)


def earlier_cycle_share(balance: Balance, refunded: int) -> Delta:
    """What a refund gives back beyond this cycle's spending, put back on ``spent`` (an entry beside it).

    A refund lowers this cycle's spent by at most what this cycle has spent, never below zero: the rest
    was an earlier cycle's spend, already taken off ``spent`` by that cycle's renewal (``renew_cycle``),
    so this is a ``lapse`` entry, the renewal's reset corrected. ``balance`` is before the refund; the
    credits still come back in full, as extra credits. Zero (``Delta()``) when this cycle covers it.
    """
    _positive(refunded, "a refund")
    return Delta(spent=refunded - min(refunded, max(balance.spent, 0)))


def adjust(balance: Balance, amount: int) -> Delta:
    """An admin correction of the team's credits, which is a correction of its spend.

    ``admin adjust`` exists to bring the figure to what Keter Labs really charged (an invoice
    correction), so it counts toward this cycle's spent, and so toward the burn rate, as a charge or
    a refund would: credits taken (``-N``) are N credits spent, from the plan credits first, then from
    the extra credits, which may go negative (the team is then overdrawn); credits added (``+N``) go to
    the extra credits and give back spend, at most what this cycle has spent (the rest was an earlier
    cycle's, already reset by its renewal, as ``earlier_cycle_share`` says of refunds). Credits given
    without correcting spend are a top-up (``add_extra``).
    """
    if amount == 0:
        raise ValueError("an adjustment must move at least one credit")
    if amount > 0:
        return Delta(extra=amount, spent=-min(amount, max(balance.spent, 0)))
    from_plan = min(max(balance.plan, 0), -amount)
    return Delta(plan=-from_plan, extra=amount + from_plan, spent=-amount)


def total_of(deltas: list[Delta]) -> Balance:
    """The balance a list of entries sums to: the ledger's truth the running figure must equal."""
    balance = Balance()
    for delta in deltas:
        balance = balance.apply(delta)
    return balance
