"""Ledger arithmetic: each rule on its own, then random sequences checked against the invariants."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.domain.errors import UserFacingError
from bot.domain.ledger import (
    Balance,
    Delta,
    InsufficientCreditsError,
    OverdrawnError,
    add_extra,
    adjust,
    capture,
    carried_at_renewal,
    close_carried,
    earlier_cycle_share,
    grant_plan,
    place_hold,
    refund,
    release_hold,
    renew_cycle,
    total_of,
)

# --- Delta and Balance ---------------------------------------------------------------------------


def test_delta_addition_is_per_figure() -> None:
    assert Delta(1, 2, 3, 4) + Delta(10, -20, 30, -40) == Delta(11, -18, 33, -36)


def test_available_is_plan_plus_extra_minus_held() -> None:
    assert Balance(plan=100, extra=50, held=30, spent=999).available == 120


def test_apply_adds_each_figure() -> None:
    assert Balance(1, 2, 3, 4).apply(Delta(1, 1, 1, 1)) == Balance(2, 3, 4, 5)


def test_total_of_sums_the_entries() -> None:
    assert total_of([]) == Balance()
    assert total_of([Delta(plan=5), Delta(extra=3), Delta(held=2), Delta(plan=-1, spent=1)]) == Balance(4, 3, 2, 1)


# --- grant and renewal ---------------------------------------------------------------------------


def test_grant_adds_the_monthly_allowance_to_plan() -> None:
    assert grant_plan(5000) == Delta(plan=5000)


def test_renew_lapses_unreserved_plan_and_resets_spent() -> None:
    balance = Balance(plan=700, extra=500, held=0, spent=4300)
    delta = renew_cycle(balance)
    assert delta == Delta(plan=-700, spent=-4300)
    after = balance.apply(delta)
    assert after == Balance(plan=0, extra=500, held=0, spent=0)


def test_renew_keeps_plan_credits_backing_open_holds() -> None:
    balance = Balance(plan=700, extra=500, held=200, spent=100)
    after = balance.apply(renew_cycle(balance))
    assert after == Balance(plan=200, extra=500, held=200, spent=0)
    assert after.available == 500


def test_renew_keeps_all_plan_when_holds_exceed_it() -> None:
    # holds backed partly by extra credits: all remaining plan credits still back them
    balance = Balance(plan=100, extra=500, held=300, spent=0)
    after = balance.apply(renew_cycle(balance))
    assert after == Balance(plan=100, extra=500, held=300, spent=0)
    assert after.available == 300


def test_carried_at_renewal_is_the_plan_backing_holds() -> None:
    assert carried_at_renewal(Balance(plan=700, held=200)) == 200
    assert carried_at_renewal(Balance(plan=100, extra=500, held=300)) == 100
    assert carried_at_renewal(Balance(plan=700)) == 0


@pytest.mark.parametrize(
    ("carried", "plan_after", "closed", "spent", "expected"),
    [
        (1000, 6000, 1000, 0, (1000, 0)),  # released: every carried credit it used lapses
        (1000, 5600, 1000, 400, (600, 0)),  # captured below the hold: the spent part is kept
        (1000, 4500, 1000, 1500, (0, 0)),  # captured above it: nothing lapses
        (2000, 6000, 1000, 0, (1000, 1000)),  # one of two older holds: the other's backing stays
        (300, 5300, 1000, 0, (300, 0)),  # extra credits backed the rest: only the plan part lapses
        (1000, 400, 1000, 0, (400, 0)),  # new work spent the plan first: never below zero
        (0, 5000, 1000, 0, (0, 0)),  # nothing carried
    ],
)
def test_close_carried(carried: int, plan_after: int, closed: int, spent: int, expected: tuple[int, int]) -> None:
    assert close_carried(carried, plan_after, closed, spent) == expected


def test_renew_then_grant_gives_a_fresh_allowance() -> None:
    balance = Balance(plan=50, extra=0, held=20, spent=950)
    balance = balance.apply(renew_cycle(balance)).apply(grant_plan(1000))
    assert balance == Balance(plan=1020, extra=0, held=20, spent=0)
    assert balance.available == 1000


# --- extra credits -------------------------------------------------------------------------------


def test_add_extra_adds_to_extra() -> None:
    assert add_extra(250) == Delta(extra=250)


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_add_extra_refuses_non_positive(amount: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        add_extra(amount)


# --- holds ---------------------------------------------------------------------------------------


def test_place_hold_reserves_credits() -> None:
    balance = Balance(plan=100, extra=20, held=10)
    delta = place_hold(balance, 110)
    assert delta == Delta(held=110)
    assert balance.apply(delta).available == 0


def test_place_hold_refuses_beyond_available_with_shortfall() -> None:
    balance = Balance(plan=100, extra=20, held=10)  # 110 available
    with pytest.raises(InsufficientCreditsError) as caught:
        place_hold(balance, 150)
    error = caught.value
    assert error.needed == 150
    assert error.available == 110
    assert error.shortfall == 40
    assert "40 credits short" in error.message
    assert isinstance(error, UserFacingError)


@pytest.mark.parametrize("amount", [0, -5])
def test_place_hold_refuses_non_positive(amount: int) -> None:
    with pytest.raises(ValueError):
        place_hold(Balance(plan=100), amount)


def test_release_hold_gives_it_back() -> None:
    balance = Balance(plan=100, held=60)
    delta = release_hold(balance, 60)
    assert delta == Delta(held=-60)
    assert balance.apply(delta).available == 100


def test_release_hold_refuses_more_than_held() -> None:
    with pytest.raises(ValueError, match="only 10 held"):
        release_hold(Balance(plan=100, held=10), 11)


def test_release_hold_refuses_non_positive() -> None:
    with pytest.raises(ValueError):
        release_hold(Balance(plan=100, held=10), 0)


# --- capture -------------------------------------------------------------------------------------


def test_capture_spends_plan_first_and_closes_the_hold() -> None:
    balance = Balance(plan=100, extra=50, held=40, spent=0)
    delta = capture(balance, 40, 40)
    assert delta == Delta(plan=-40, extra=0, held=-40, spent=40)
    assert balance.apply(delta) == Balance(plan=60, extra=50, held=0, spent=40)


def test_capture_spends_extra_after_plan_runs_out() -> None:
    balance = Balance(plan=30, extra=50, held=60, spent=0)
    delta = capture(balance, 60, 60)
    assert delta == Delta(plan=-30, extra=-30, held=-60, spent=60)
    assert balance.apply(delta) == Balance(plan=0, extra=20, held=0, spent=60)


def test_capture_releases_the_rest_of_the_hold() -> None:
    balance = Balance(plan=100, extra=0, held=64, spent=0)
    after = balance.apply(capture(balance, 64, 32))
    assert after == Balance(plan=68, extra=0, held=0, spent=32)
    assert after.available == 68


def test_capture_may_cost_more_than_the_hold_when_credits_allow() -> None:
    balance = Balance(plan=100, extra=0, held=10, spent=0)
    after = balance.apply(capture(balance, 10, 50))
    assert after == Balance(plan=50, extra=0, held=0, spent=50)


def test_capture_of_more_than_the_team_has_overdraws_it_through_extra() -> None:
    """A charge is a fact: it is recorded whatever the team has; the deficit sits in extra credits."""
    balance = Balance(plan=10, extra=5, held=10, spent=0)
    after = balance.apply(capture(balance, 10, 20))
    assert after == Balance(plan=0, extra=-5, held=0, spent=20)
    assert after.overdrawn_by == 5 and after.available == -5


def test_capture_may_spend_credits_reserved_by_other_holds() -> None:
    balance = Balance(plan=100, extra=0, held=100, spent=0)  # two holds of 50
    after = balance.apply(capture(balance, 50, 51))
    assert after == Balance(plan=49, extra=0, held=50, spent=51)
    assert after.available == -1 and after.overdrawn_by == 0  # short of its holds, not yet overdrawn
    with pytest.raises(InsufficientCreditsError):
        place_hold(after, 1)


def test_an_overdrawn_team_can_hold_nothing_until_credits_are_added() -> None:
    overdrawn = Balance(plan=0, extra=-30)
    with pytest.raises(OverdrawnError) as caught:
        place_hold(overdrawn, 1)
    assert caught.value.overdrawn_by == 30
    topped_up = overdrawn.apply(add_extra(40))
    assert topped_up.overdrawn_by == 0
    assert topped_up.apply(place_hold(topped_up, 10)).available == 0


def test_the_next_plan_grant_pays_the_deficit_first() -> None:
    overdrawn = Balance(plan=0, extra=-30)
    lapsed = overdrawn.apply(renew_cycle(overdrawn))
    assert grant_plan(100, lapsed) == Delta(plan=70, extra=30)
    after = lapsed.apply(grant_plan(100, lapsed))
    assert after == Balance(plan=70, extra=0) and after.overdrawn_by == 0 and after.available == 70


def test_a_grant_smaller_than_the_deficit_repays_what_it_can() -> None:
    deep = Balance(plan=0, extra=-250)
    assert grant_plan(100, deep) == Delta(plan=0, extra=100)
    assert deep.apply(grant_plan(100, deep)).overdrawn_by == 150
    assert grant_plan(100) == grant_plan(100, Balance(extra=40)) == Delta(plan=100)  # nothing owed


def test_an_overdrawn_team_is_whole_again_after_one_renewal_over_three_cycles() -> None:
    # Issue 24: a 5,000 plan, 710 overdrawn in cycle 1; each later cycle spends all it has available.
    balance = Balance(plan=0, extra=-710, spent=5710)
    starts = []
    for _cycle in range(3):
        balance = balance.apply(renew_cycle(balance))
        balance = balance.apply(grant_plan(5000, balance))
        starts.append(balance.available)
        balance = balance.apply(capture(balance, 0, balance.available))  # spend everything available
    assert starts == [4290, 5000, 5000]  # repaid once, then whole: not 4,290 every cycle
    assert balance.extra == 0


@pytest.mark.parametrize(("hold", "cost"), [(-1, 0), (0, -1), (11, 5)])
def test_capture_refuses_bad_figures(hold: int, cost: int) -> None:
    with pytest.raises(ValueError, match="bad capture"):
        capture(Balance(plan=100, held=10), hold, cost)


def test_capture_of_nothing_just_releases() -> None:
    balance = Balance(plan=100, held=10)
    assert capture(balance, 10, 0) == Delta(held=-10)


# --- refund and adjustment -----------------------------------------------------------------------


def test_refund_returns_as_extra_credits() -> None:
    balance = Balance(plan=0, extra=0, held=0, spent=40)
    delta = refund(40)
    assert delta == Delta(extra=40, spent=-40)
    after = balance.apply(delta)
    assert after == Balance(plan=0, extra=40, held=0, spent=0)
    # and so it survives renewal
    assert after.apply(renew_cycle(after)).extra == 40


def test_a_refund_lowers_this_cycles_spent_by_at_most_what_it_spent() -> None:
    # Charged 40 on 30 Nov, renewed on 1 Dec (spent back to 0), refunded on 1 Dec: never -40 spent.
    renewed = Balance(plan=5000, extra=500, held=0, spent=0)
    after = renewed.apply(refund(40)).apply(earlier_cycle_share(renewed, 40))
    assert after == Balance(plan=5000, extra=540, held=0, spent=0)  # the credits still come back, as extra
    assert renewed.apply(refund(40)).spent == -40  # the refund entry alone: what the share corrects
    assert earlier_cycle_share(Balance(spent=30), 40) == Delta(spent=10)
    assert earlier_cycle_share(Balance(spent=100), 40) == Delta()
    assert earlier_cycle_share(Balance(spent=-5), 40) == Delta(spent=40)  # never lower than it already is
    with pytest.raises(ValueError):
        earlier_cycle_share(Balance(spent=40), 0)


def test_refund_refuses_non_positive() -> None:
    with pytest.raises(ValueError):
        refund(0)


def test_adjust_adds_to_extra_and_takes_from_plan_first() -> None:
    balance = Balance(plan=100, extra=10)
    assert adjust(balance, 25) == Delta(extra=25)  # nothing spent this cycle: nothing to give back
    assert adjust(balance, -50) == Delta(plan=-50, spent=50)
    assert adjust(balance, -130) == Delta(plan=-100, extra=-30, spent=130)
    assert balance.apply(adjust(balance, -130)).overdrawn_by == 20


def test_an_adjustment_is_a_correction_of_spend_and_refuses_zero() -> None:
    # Issue 24: `admin adjust -3300` (an invoice correction) changed the balance but not the spend.
    # It used to leave spent at 40 (the old test here said an adjustment never moves spent).
    balance = Balance(plan=5000, spent=40)
    assert balance.apply(adjust(balance, -3300)) == Balance(plan=1700, spent=3340)
    assert balance.apply(adjust(balance, 30)) == Balance(plan=5000, extra=30, spent=10)  # spend given back
    assert balance.apply(adjust(balance, 100)) == Balance(plan=5000, extra=100, spent=0)  # never below zero
    with pytest.raises(ValueError):
        adjust(balance, 0)


# --- random sequences ----------------------------------------------------------------------------

amounts = st.integers(min_value=-5, max_value=3000)


class LedgerMachine(RuleBasedStateMachine):
    """Applies random entries the way the service does, refusing what the rules refuse."""

    @initialize()
    def start(self) -> None:
        self.balance = Balance()
        self.deltas: list[Delta] = []
        self.holds: list[int] = []
        self.captured: list[int] = []

    def _apply(self, delta: Delta) -> None:
        self.deltas.append(delta)
        self.balance = self.balance.apply(delta)

    def _refused(self, before: Balance, error: Exception) -> None:
        assert self.balance == before
        assert total_of(self.deltas) == before
        assert isinstance(error, InsufficientCreditsError | ValueError | UserFacingError)

    @rule(amount=st.integers(min_value=0, max_value=5000))
    def apply_grant(self, amount: int) -> None:
        before = self.balance
        self._apply(grant_plan(amount, before))
        assert self.balance.plan + self.balance.extra == before.plan + before.extra + amount
        assert self.balance.extra == (min(0, before.extra + amount) if before.extra < 0 else before.extra)

    @rule(amount=amounts)
    def apply_extra(self, amount: int) -> None:
        before = self.balance
        try:
            delta = add_extra(amount)
        except ValueError as error:
            assert amount <= 0
            self._refused(before, error)
            return
        self._apply(delta)

    @rule(amount=amounts)
    def apply_hold(self, amount: int) -> None:
        before = self.balance
        try:
            delta = place_hold(before, amount)
        except OverdrawnError as error:
            assert amount > 0 and before.overdrawn_by > 0
            self._refused(before, error)
            return
        except InsufficientCreditsError as error:
            assert amount > before.available
            assert error.shortfall == amount - before.available > 0
            self._refused(before, error)
            return
        except ValueError as error:
            assert amount <= 0
            self._refused(before, error)
            return
        self._apply(delta)
        self.holds.append(amount)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def apply_release(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.holds) - 1))
        amount = self.holds.pop(index)
        self._apply(release_hold(self.balance, amount))

    @rule()
    def release_more_than_held(self) -> None:
        before = self.balance
        with pytest.raises(ValueError) as caught:
            release_hold(before, before.held + 1)
        self._refused(before, caught.value)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def apply_capture(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.holds) - 1))
        amount = self.holds[index]
        cost = data.draw(st.integers(-2, 2 * amount + 10))
        before = self.balance
        try:
            delta = capture(before, amount, cost)
        except ValueError as error:
            assert cost < 0
            self._refused(before, error)
            return
        self.holds.pop(index)
        self._apply(delta)
        assert delta.spent == cost
        assert delta.held == -amount
        if cost:
            self.captured.append(cost)

    @precondition(lambda self: self.captured)
    @rule(data=st.data())
    def apply_refund(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.captured) - 1))
        amount = self.captured.pop(index)
        before = self.balance
        self._apply(refund(amount))
        self._apply(earlier_cycle_share(before, amount))
        assert self.balance.extra == before.extra + amount
        assert self.balance.spent == max(0, before.spent - amount)

    @rule(amount=st.integers(-3000, 3000))
    def apply_adjust(self, amount: int) -> None:
        before = self.balance
        try:
            delta = adjust(before, amount)
        except ValueError as error:
            assert amount == 0
            self._refused(before, error)
            return
        self._apply(delta)
        assert self.balance.plan + self.balance.extra == before.plan + before.extra + amount
        assert self.balance.spent == (before.spent - amount if amount < 0 else max(0, before.spent - amount))

    @rule()
    def apply_renew(self) -> None:
        before = self.balance
        self._apply(renew_cycle(before))
        assert self.balance.spent == 0
        assert self.balance.held == before.held
        assert self.balance.extra == before.extra
        assert self.balance.plan <= before.plan

    @invariant()
    def running_balance_is_the_sum_of_entries(self) -> None:
        assert self.balance == total_of(self.deltas)

    @invariant()
    def only_extra_goes_negative(self) -> None:
        """Plan and held never go below zero; a deficit (overdrawn) sits in extra credits."""
        assert self.balance.plan >= 0
        assert self.balance.held >= 0
        assert self.balance.overdrawn_by == max(0, -(self.balance.plan + self.balance.extra))

    @invariant()
    def spent_this_cycle_is_never_negative(self) -> None:
        """A refund after a renewal gives an earlier cycle's spend back without taking this cycle's below 0."""
        assert self.balance.spent >= 0

    @invariant()
    def held_is_the_sum_of_open_holds(self) -> None:
        assert self.balance.held == sum(self.holds)


LedgerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
