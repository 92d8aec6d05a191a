"""The ledger's promises under random use of the real services, on SQLite and PostgreSQL.

A hypothesis state machine drives run / approve / deny / expire / done (below, at and above the hold,
within and beyond limits) / cancel / admin adjust / renewal through the same services the Slack edge
calls, and after every step checks: the running balance equals the ledger's sum; every credit
reported with ``done`` is in ``spent``; no task is both captured and cancelled (each task's holds and
captures add up); held is never negative. Each example uses its own workspace, so one database serves
them all.

The stale-hold release is a rule too: it moves the clock past ``holds.release_after_days`` and runs
the release job, which may only release tasks the model holds open. Time moves in several rules and
any write may renew the plan first, so the model follows the cycle it sees in the balance row.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlmodel import select

from bot.credits_file import CreditsConfig
from bot.domain.admin_commands import AdminAdjustCommand
from bot.domain.commands import TaskRequest
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import CancelCommand, DoneCommand, RunCommand
from bot.services.admin import changes
from bot.services.approvals import decisions as approvals
from bot.services.balances.team_balances import current_balance
from bot.services.tasks import cancel as task_cancel
from bot.services.tasks import holds as task_ledger
from bot.services.tasks import run_and_done as tasks
from bot.services.tasks import stale_holds
from bot.services.workspace.members import Member
from bot.store import ledger_checks, ledger_reads, rollup_checks
from bot.store.db import Database
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MEMBERS = {
    "U0ALICE": Member("U0ALICE", "design", "creator", False),  # 50 a task, 300 a week
    "U0BOB": Member("U0BOB", "design", "lead", False),  # 500 a task, 2,000 a week
    "U0CAROL": Member("U0CAROL", "design", "admin", True),  # no limits
}


class LedgerServicesMachine(RuleBasedStateMachine):
    """The model: which tasks are open, pending or charged, and what members reported."""

    def __init__(self, db: Database, config: CreditsConfig) -> None:
        super().__init__()
        self.db, self.config = db, config
        self.workspace = f"T{uuid.uuid4().hex[:10].upper()}"
        self.now = START
        self.open: dict[int, str] = {}  # task number → requester, tasks free to finish
        self.pending: dict[int, tuple[int, str]] = {}  # task number → (approval id, requester)
        self.released: dict[int, str] = {}  # task number → requester, holds given back unreported
        self.charged: dict[int, int] = {}  # task number → the cost reported with done
        self.reported_this_cycle = 0
        self.cycle_seen: object = None  # the plan cycle the model last saw; any write may renew it first

    def _tick(self) -> None:
        self.now += timedelta(minutes=3)  # past the duplicate window, well within a request's expiry

    # --- run, approve, deny, expire ------------------------------------------------------------

    @rule(who=st.sampled_from(sorted(MEMBERS)), variants=st.integers(1, 120))
    def run(self, who: str, variants: int) -> None:
        self._tick()
        command = RunCommand(TaskRequest(tool="image", quality="draft", variants=variants, retries=0), note=None)
        try:
            result = tasks.start_task(
                self.db, self.config, workspace_id=self.workspace, member=MEMBERS[who], command=command, now=self.now
            )
        except (task_ledger.ShortfallError, task_ledger.OverdrawnTeamError) as refused:
            event(f"run refused: {type(refused).__name__}")
            return
        assert result.task is not None
        if result.approval is not None:
            self.pending[result.task.number] = (result.approval.id, who)
        else:
            self.open[result.task.number] = who

    def _decide(self, data: st.DataObject, *, approve: bool, late: bool) -> None:
        number = data.draw(st.sampled_from(sorted(self.pending)))
        approval_id, who = self.pending.pop(number)
        when = self.now + timedelta(hours=25) if late else self.now
        decision = approvals.decide(
            self.db,
            self.config,
            workspace_id=self.workspace,
            approval_id=approval_id,
            decider="U0CAROL",
            is_workspace_admin=False,
            approve=approve,
            note=None,
            now=when,
        )
        if decision.outcome == "decided" and approve:
            self.open[number] = who
        if late:
            self.now = when  # the late click happened: time moved on, and may have crossed a renewal

    def _cycle_start(self) -> object:
        with self.db.read() as session:
            row = ledger_reads.get_balance_row(session, workspace_id=self.workspace, team="design")
            return None if row is None else row.cycle_start

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        self._decide(data, approve=True, late=False)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def deny(self, data: st.DataObject) -> None:
        self._decide(data, approve=False, late=False)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        self._decide(data, approve=True, late=True)  # a click after the expiry time expires it

    # --- done and cancel -----------------------------------------------------------------------

    @precondition(lambda self: self.open or self.released)
    @rule(data=st.data(), how=st.sampled_from(["below", "at", "above"]), over=st.integers(1, 6000))
    def done(self, data: st.DataObject, how: str, over: int) -> None:
        """Report a cost; a task whose hold was released unreported is charged all the same (a fact)."""
        number = data.draw(st.sampled_from(sorted({*self.open, *self.released})))
        who = self.open.pop(number) if number in self.open else self.released.pop(number)
        with self.db.read() as session:
            task = session.exec(select(Task).where(Task.workspace_id == self.workspace, Task.number == number)).one()
            held = task.held
        cost = {"below": held // 2, "at": held, "above": held + over}[how]
        result = tasks.finish_task(
            self.db,
            self.config,
            workspace_id=self.workspace,
            member=MEMBERS[who],
            command=DoneCommand(number=number, cost=cost),
            now=self.now,
        )
        assert (result.kind, result.charged, result.task.status) == ("captured", cost, "done")
        assert result.released == max(0, held - cost)
        if result.flag is not None:
            assert cost > held and result.flag.cost == cost and result.flag.broken
            event("done: flagged")
        if result.overdrawn_by:
            event("done: left the team overdrawn")
        self.charged[number] = cost
        if self._cycle_start() != self.cycle_seen:  # done's own transaction renewed the plan before capturing
            self.cycle_seen, self.reported_this_cycle = self._cycle_start(), 0
        self.reported_this_cycle += cost

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        known = sorted({*self.open, *self.pending, *self.charged, *self.released})
        if not known:
            return
        number = data.draw(st.sampled_from(known))
        command = CancelCommand(number=number)
        try:
            task_cancel.cancel_task(
                self.db,
                self.config,
                workspace_id=self.workspace,
                member=MEMBERS["U0CAROL"],
                command=command,
                now=self.now,
            )
        except task_cancel.CaptureExistsError:
            assert number in self.charged
            event("cancel refused: charged")
            return
        except UserFacingError:
            assert number not in self.open and number not in self.pending  # settled before: nothing to cancel
            return
        assert number not in self.charged
        self.open.pop(number, None)
        self.pending.pop(number, None)

    # --- adjust and renewal --------------------------------------------------------------------

    @rule(amount=st.integers(-6000, 3000).filter(bool))
    def adjust(self, amount: int) -> None:
        changes.adjust_credits(
            self.db,
            self.config,
            workspace_id=self.workspace,
            admin=MEMBERS["U0CAROL"],
            command=AdminAdjustCommand(team="design", credits=amount, reason="machine"),
            request_key=uuid.uuid4().hex,
            now=self.now,
        )
        if self._cycle_start() != self.cycle_seen:  # the adjustment's transaction renewed the plan first
            self.cycle_seen, self.reported_this_cycle = self._cycle_start(), 0
        # a correction of credits is a correction of spend: -N spends N, +N gives back at most what was spent
        self.reported_this_cycle += -amount if amount < 0 else -min(amount, self.reported_this_cycle)

    @rule()
    def release_stale_holds(self) -> None:
        self.now += timedelta(days=self.config.holds.release_after_days, minutes=1)
        notices = stale_holds.release_stale(
            self.db, self.config, workspace_id=self.workspace, now=self.now, owner="machine"
        )
        for notice in notices:
            assert notice.task.number in self.open  # only a held (approved or unapproved) task is released
            self.released[notice.task.number] = self.open.pop(notice.task.number)
        event(f"released {len(notices)} stale holds")

    @rule()
    def renew(self) -> None:
        self.now += timedelta(days=31)
        current_balance(self.db, self.config, workspace_id=self.workspace, team="design", now=self.now)

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def the_ledger_keeps_its_promises(self) -> None:
        with self.db.read() as session:
            row = ledger_reads.get_balance_row(session, workspace_id=self.workspace, team="design")
            if row is None:
                return
            balance = ledger_reads.as_balance(row)
            if row.cycle_start != self.cycle_seen:  # a write crossed a renewal: spend starts again from 0
                self.cycle_seen, self.reported_this_cycle = row.cycle_start, 0
            assert balance == ledger_reads.ledger_sum(session, workspace_id=self.workspace, team="design")
            assert balance.held >= 0
            assert 0 <= row.carried <= balance.held  # carried plan credits only ever back older holds still open
            assert balance.spent == self.reported_this_cycle  # every credit reported with done (or adjusted) is spent
            captures = session.exec(
                select(LedgerEntry).where(LedgerEntry.workspace_id == self.workspace, LedgerEntry.kind == "capture")
            ).all()
            assert sum(e.spent_delta for e in captures) == sum(self.charged.values())
            mine = session.exec(select(Task).where(Task.workspace_id == self.workspace)).all()
            captured = {e.task_id for e in captures}
            for task in mine:
                assert task.held >= 0
                assert not (task.id in captured and task.status == "cancelled")
                if task.number in self.charged:
                    assert task.actual_cost == self.charged[task.number]
            assert ledger_checks.check_task_holds(session, workspace_id=self.workspace) == []
            assert rollup_checks.check_rollups(session) == []  # the quote's rollups equal their source rows


def test_the_ledger_keeps_its_promises_under_random_use(database: Database, config: CreditsConfig) -> None:
    run_state_machine_as_test(
        lambda: LedgerServicesMachine(database, config),
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
