"""Keter Labs' charges become ledger entries: the one path for the signed feed and the CSV import.

A charge is a fact, so it is never refused for want of credits (the team may end overdrawn) and never
dropped: one naming an open task (``KC-12``) is that task's and spends from its hold; one naming none is
*unplanned* spend, charged to the team and counted for its member's week. The charge id is the ledger
entry's idempotency key, so a redelivery, a re-import, or the feed and the file both sending it, write it
once. The same id with other figures is a conflict: that copy is skipped (the figures first recorded
stand), logged and kept in the audit trail for an admin, and reported to the sender; the rest of the
batch is recorded all the same, since one bad copy must not keep every other fact out.

A refund is not a charge but Keter Labs giving credits back, so it must name what it gives back: a
refund is recorded only when its ``refunds`` names a charge already recorded (or earlier in the same
batch, whose refunds come after its charges) of the same team, and the refunds of one charge add up to
at most its credits. Otherwise it is refused (nothing written), logged, kept in the audit trail
(``refund_refused``) and reported to the sender with the reason; sent again once its charge is in, it
is recorded then.

A task with charges is settled (its hold's rest released, its cost the sum of its charges) when its
member says ``done`` or after ``feed.settle_after_minutes`` without a new charge. A task its member
already reported with a cost keeps that capture; when its charges settle to another figure, the
difference is an adjustment ("Keter Labs charged 40, reported 32") and the member is told (both in
``bot.services.tasks.settling``; Keter Labs' own balance figures in ``bot.services.charges.reconciliation``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from bot.credits_file import CreditsConfig
from bot.domain import ledger as rules
from bot.domain.calendar import local_date
from bot.domain.errors import UserFacingError
from bot.domain.keter_charges import Charge, ChargeKind, occurred
from bot.domain.ledger import EntryKind
from bot.domain.lifecycle import ApprovalStatus, TaskStatus
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import lapse_carried
from bot.services.workspace.audit_trail import record_decision
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.store import keter_charges as charge_store
from bot.store import ledger_reads, ledger_writes
from bot.store import tasks as task_store
from bot.store.db import Database
from bot.store.tables.keter import KeterCharge
from bot.store.tables.ledger import TeamBalance
from bot.store.tables.tasks import Task

logger = logging.getLogger(__name__)

EmailLookup = Callable[[str], str | None]
"""An e-mail address to a Slack member id (``users.lookupByEmail`` at the edge), None when unknown."""


def no_lookup(_email: str) -> None:
    """For callers with no Slack client (a CSV import without a token): only the ``emails:`` maps."""
    return None


class UnknownTeamError(UserFacingError):
    """A charge names a Keter Labs team the credits file does not map; nothing of the batch is written."""

    def __init__(self, keter_team: str, known: Iterable[str]) -> None:
        self.keter_team = keter_team
        super().__init__(
            f"unknown team '{keter_team}' (known: {', '.join(sorted(known)) or 'none'}; "
            f"set teams.<team>.keter_team in the credits file)"
        )


@dataclass(frozen=True)
class ChargeConflict:
    """A charge id already recorded with other figures: a sender bug; this copy was skipped, not guessed at."""

    id: str
    team: str
    differs: str  # ``credits 40 then 41``: the recorded figure, then the copy's


@dataclass(frozen=True)
class RefusedRefund:
    """A refund not recorded: it named no recorded charge of its team, or more than that charge's credits."""

    id: str
    team: str
    reason: str  # ``charge ch_9 is not recorded``


@dataclass
class TeamCounts:
    """What one batch did for one team."""

    new: int = 0
    known: int = 0
    matched: int = 0
    unplanned: int = 0


@dataclass
class ChargeReport:
    """What a batch of charges did, per bot team."""

    teams: dict[str, TeamCounts] = field(default_factory=dict)
    changed: dict[str, set[str]] = field(default_factory=dict)  # team -> members whose charges or tasks moved
    conflicts: list[ChargeConflict] = field(default_factory=list)  # copies skipped: the first figures stand
    refused: list[RefusedRefund] = field(default_factory=list)  # refunds of nothing recorded, or of too much
    # Tasks waiting for approval that this batch charged beyond their hold: their approvers must know.
    charged_pending: list[tuple[ApprovalRecord, TaskRecord]] = field(default_factory=list)

    def add(self, other: ChargeReport) -> None:
        """Fold another batch's counts into this one."""
        self.conflicts.extend(other.conflicts)
        self.refused.extend(other.refused)
        self.charged_pending.extend(other.charged_pending)
        for team, people in other.changed.items():
            self.changed.setdefault(team, set()).update(people)
        for team, counts in other.teams.items():
            mine = self.teams.setdefault(team, TeamCounts())
            mine.new += counts.new
            mine.known += counts.known
            mine.matched += counts.matched
            mine.unplanned += counts.unplanned


def bot_team(config: CreditsConfig, keter_team: str) -> str:
    """The bot's team for a Keter Labs team name; UnknownTeamError when the credits file has none."""
    team = config.team_by_keter_name.get(keter_team)
    if team is None:
        raise UnknownTeamError(keter_team, config.team_by_keter_name)
    return team


def resolve_members(config: CreditsConfig, charges: Sequence[Charge], lookup: EmailLookup) -> dict[str, str | None]:
    """Each e-mail's Slack member: the team's ``emails:`` map first, then ``lookup`` (asked once per address)."""
    found: dict[str, str | None] = {}
    for charge in charges:
        email = (charge.user_email or "").strip().lower()
        if not email or email in found:
            continue
        team = config.teams[bot_team(config, charge.team)]
        mapped = {k.lower(): v for k, v in team.emails.items()}.get(email)
        if mapped is None:
            try:
                mapped = lookup(email)
            except Exception:  # Slack unreachable: the charge is still a fact, recorded without a member
                logger.exception("looking up %s failed; the charge is recorded without a member", email)
        found[email] = mapped
    return found


def _same(stored: KeterCharge, charge: Charge, team: str) -> str | None:
    """What differs between a stored charge and a new copy of it (None: the same charge)."""
    pairs: dict[str, tuple[object, object]] = {
        "team": (stored.team, team),
        "credits": (stored.credits, charge.credits),
        "kind": (stored.kind, charge.kind),
        "tool": (stored.tool, charge.tool),
        "reference": (stored.reference, charge.reference),
        "refunds": (stored.refunds, charge.refunds),
        "user_email": (stored.user_email, charge.user_email),
        "project": (stored.project, charge.project),
        # as it was recorded: a time ahead of the recording's clock was kept as that moment
        "occurred_at": (stored.occurred_at.isoformat(), occurred(charge, stored.recorded_at).isoformat()),
    }
    differ = [f"{name} {old} then {new}" for name, (old, new) in pairs.items() if old != new]
    return "; ".join(differ) or None


def describe(charge: Charge) -> str:
    """``image · high · 4 variants`` (the history's *what*)."""
    parts = [charge.tool]
    if charge.quality:
        parts.append(charge.quality)
    if charge.variants:
        parts.append(f"{charge.variants} variant{'s' if charge.variants != 1 else ''}")
    if charge.duration_seconds:
        parts.append(f"{charge.duration_seconds} s")
    return " · ".join(parts)


_HOLDING = frozenset({TaskStatus.HELD, TaskStatus.PENDING})
"""Tasks whose hold a charge spends from (a pending task holds its credits from ``run`` on)."""
_CHARGEABLE = _HOLDING | {TaskStatus.DONE, TaskStatus.RELEASED}
"""Tasks a charge naming them belongs to; any other is unplanned spend. A released task (its hold given
back unreported) did run after all: its charges spend from what is available, and ``done`` or settling
then closes it by them, so a late ``done`` never charges it a second time."""


class _TeamBatch:
    """One team's charges in one transaction: deltas computed in order on a running balance, written at once."""

    def __init__(self, session: Session, config: CreditsConfig, row: TeamBalance, now: datetime, charges: list[Charge]):
        self.session, self.config, self.row, self.now = session, config, row, now
        self.balance = ledger_reads.as_balance(row)
        targets = [c.refunds for c in charges if c.refunds]
        self.stored = charge_store.charges_by_ids(
            session, workspace_id=row.workspace_id, charge_ids=[c.id for c in charges] + targets
        )
        self.refunded = charge_store.refunded(session, workspace_id=row.workspace_id, charge_ids=targets)
        self.refused: list[RefusedRefund] = []
        self.tasks: dict[int, Task | None] = {}
        self.reported: dict[int, bool] = {}
        self.entries: list[ledger_writes.NewEntry] = []
        self.raw: list[KeterCharge] = []
        self.conflicts: list[ChargeConflict] = []
        self.closing: dict[int, tuple[Task, int, int, str]] = {}  # task id -> task, held before, spent, first charge
        self.crossed: dict[int, Task] = {}  # pending tasks whose charges went beyond their hold in this batch

    def task(self, number: int | None) -> Task | None:
        """The task a reference names, if it can take charges, looked up once per batch.

                Held, done, or waiting for approval: it holds credits from ``run`` on, so a charge that comes
                before the approver decides is its cost too (``done`` or settling then closes it by its charges,
                never capturing it again; a pending task charged beyond its hold is reported, for its approvers to be
        told). Released unreported: the charge is its cost too, from what is available.
                Cancelled or refused: the charge is unplanned spend.
        """
        if number is None:
            return None
        if number not in self.tasks:
            task = task_store.task_by_number(
                self.session, workspace_id=self.row.workspace_id, team=self.row.team, number=number
            )
            if task is not None and task.status not in _CHARGEABLE:
                task = None
            self.tasks[number] = task
        return self.tasks[number]

    def is_reported(self, task: Task) -> bool:
        """Its member reported a cost with ``done`` (a capture), which the charges correct only when they settle."""
        assert task.id is not None
        if task.id not in self.reported:
            self.reported[task.id] = task.status == TaskStatus.DONE and _has_capture(
                self.session, self.row.workspace_id, task
            )
        return self.reported[task.id]

    def add(self, charge: Charge, member: str | None, counts: TeamCounts) -> None:
        """Count a known charge, or compute the new one's entry on the running balance."""
        stored = self.stored.get(charge.id)
        if stored is not None:
            differs = _same(stored, charge, self.row.team)
            if differs:
                self.conflict(charge, differs)
                return
            counts.known += 1
            return
        if charge.kind == "refund":
            why = self.refund_refused(charge)
            if why:
                self.refuse(charge, why)
                return
        at = occurred(charge, self.now)
        task = self.task(charge.task_number)
        signed = -charge.credits if charge.kind is ChargeKind.REFUND else charge.credits
        reported = task is not None and self.is_reported(task)
        if charge.kind is ChargeKind.REFUND:
            delta = rules.refund(charge.credits)
        else:
            from_hold = min(charge.credits, task.held) if task is not None and task.status in _HOLDING else 0
            delta = rules.capture(self.balance, from_hold, charge.credits)
        if reported:
            delta = rules.Delta()  # already in the cost its member reported; a difference is settled later
        before = self.balance
        self.balance = self.balance.apply(delta)
        local_day = local_date(at, self.config.teams[self.row.team].zone)
        self.entries.append(
            ledger_writes.NewEntry(
                kind=EntryKind.REFUND if charge.kind is ChargeKind.REFUND else EntryKind.CHARGE,
                delta=delta,
                idempotency_key=f"charge:{charge.id}",
                at=at,
                local_day=local_day,
                member=member or (task.requester if task is not None else None),
                tool=charge.tool,
                task_id=task.id if task is not None else None,
                note=describe(charge),
                project=charge.project or (task.project if task is not None else None),
                charge_kind=charge.kind.value,
            )
        )
        if delta.spent < 0:  # a refund: this cycle's spent goes down by at most what this cycle has spent
            share = rules.earlier_cycle_share(before, -delta.spent)
            if share.spent:
                self.balance = self.balance.apply(share)
                self.entries.append(
                    ledger_writes.NewEntry(
                        kind=EntryKind.LAPSE,
                        delta=share,
                        idempotency_key=f"charge:{charge.id}:earlier-cycle",
                        at=at,
                        local_day=local_day,
                        note=f"refund {charge.id}: {share.spent:,} credits an earlier cycle spent",
                    )
                )
        raw = KeterCharge(
            workspace_id=self.row.workspace_id,
            charge_id=charge.id,
            team=self.row.team,
            member=member,
            user_email=charge.user_email,
            tool=charge.tool,
            quality=charge.quality,
            variants=charge.variants,
            duration_seconds=charge.duration_seconds,
            credits=charge.credits,
            kind=charge.kind.value,
            version_kept=charge.version_kept,
            project=charge.project,
            reference=charge.reference,
            refunds=charge.refunds,
            task_id=task.id if task is not None else None,
            occurred_at=at,
            recorded_at=self.now,
        )
        self.raw.append(raw)
        self.stored[charge.id] = raw  # the same charge twice in one batch: the second is known
        if charge.refunds:
            self.refunded[charge.refunds] = self.refunded.get(charge.refunds, 0) + charge.credits
        counts.new += 1
        if task is None:
            counts.unplanned += 1
            return
        counts.matched += 1
        if delta.held:  # spent from its hold: carried plan credits it used are settled after the batch
            assert task.id is not None
            _, held_before, spent, first = self.closing.get(task.id, (task, task.held, 0, charge.id))
            self.closing[task.id] = (task, held_before, spent + delta.spent, first)
        task.held += delta.held
        was = task.charged
        task.charged += signed
        if task.status == TaskStatus.PENDING and was <= task.quoted_cost < task.charged:
            assert task.id is not None
            self.crossed[task.id] = task
        task.charge_count += 1
        task.last_charge_at = self.now
        if task.status == TaskStatus.DONE and not reported:
            task.actual_cost = (task.actual_cost or 0) + signed  # settled by its charges: they are its cost
        self.session.add(task)

    def conflict(self, charge: Charge, differs: str) -> None:
        """Skip a copy with other figures: the first stand; one log line and one audit entry for an admin."""
        logger.warning("charge %s skipped: already recorded with other figures (%s)", charge.id, differs)
        record_decision(
            self.session,
            workspace_id=self.row.workspace_id,
            team=self.row.team,
            action="charge_conflict",
            target=f"charge {charge.id}",
            now=self.now,
            differs=differs,
            kept="the figures first recorded",
        )
        self.conflicts.append(ChargeConflict(charge.id, self.row.team, differs))

    def refund_refused(self, refund: Charge) -> str | None:
        """Why a new refund cannot be recorded (None: it names a charge of this team with that much left)."""
        if not refund.refunds:
            return "a refund must name the charge it gives back (refunds: <charge id>)"
        target = self.stored.get(refund.refunds)
        if target is None:
            return f"charge {refund.refunds} is not recorded"
        if target.kind == "refund":
            return f"{refund.refunds} is a refund, not a charge"
        if target.team != self.row.team:
            return f"charge {refund.refunds} is another team's"
        before = self.refunded.get(refund.refunds, 0)
        if before + refund.credits > target.credits:
            left = max(target.credits - before, 0)
            return (
                f"{refund.credits:,} credits is more than charge {refund.refunds} has left to refund "
                f"({target.credits:,} charged, {before:,} refunded: at most {left:,})"
            )
        return None

    def refuse(self, refund: Charge, reason: str) -> None:
        """A refund not recorded: one log line and one audit entry; the sender is told why."""
        logger.warning("refund %s refused: %s", refund.id, reason)
        record_decision(
            self.session,
            workspace_id=self.row.workspace_id,
            team=self.row.team,
            action="refund_refused",
            target=f"refund {refund.id}",
            now=self.now,
            reason=reason,
            credits=refund.credits,
        )
        self.refused.append(RefusedRefund(refund.id, self.row.team, reason))

    def charged_pending(self) -> list[tuple[ApprovalRecord, TaskRecord]]:
        """Each pending task this batch charged beyond its hold, with its open request (for its approvers)."""
        found = []
        for task_id, task in self.crossed.items():
            request = task_store.task_request(self.session, task_id=task_id)
            if request is not None and request.status == ApprovalStatus.PENDING and task.charged > task.quoted_cost:
                found.append((ApprovalRecord.of(request), TaskRecord.of(task)))
        return found

    def write(self) -> None:
        """Every new entry and raw charge in two statements; the running figure moved once."""
        ledger_writes.append_entries(self.session, row=self.row, entries=self.entries, now=self.now)
        charge_store.add_charges(self.session, self.raw)
        for task, held_before, spent, first in self.closing.values():
            lapse_carried(
                self.session,
                self.config,
                self.row,
                task,
                held_before=held_before,
                spent=spent,
                closed_by=f"charges:{first}",
                now=self.now,
            )


def _has_capture(session: Session, workspace_id: str, task: Task) -> bool:
    return ledger_reads.has_entry(session, workspace_id=workspace_id, idempotency_key=f"capture:task:{task.id}")


def record_charges(
    db: Database,
    config: CreditsConfig,
    *,
    workspace_id: str,
    charges: Sequence[Charge],
    now: datetime,
    lookup: EmailLookup = no_lookup,
) -> ChargeReport:
    """Write each charge once, team by team, each team in one transaction under its lock.

    Every charge's team is checked first (UnknownTeamError: nothing written); e-mails are resolved
    before any lock is taken (the Slack lookup is slow). A copy of a recorded charge with other figures
    is skipped and listed in ``report.conflicts``, a refund of no recorded charge of its team (or of
    more than it has left) in ``report.refused``; every other charge is recorded.
    """
    by_team: dict[str, list[Charge]] = {}
    for charge in charges:
        by_team.setdefault(bot_team(config, charge.team), []).append(charge)
    members = resolve_members(config, charges, lookup)
    report = ChargeReport()
    for team, batch in by_team.items():
        counts = report.teams.setdefault(team, TeamCounts())
        with db.write() as session:
            row = open_team_cycle(session, config, workspace_id=workspace_id, team=team, now=now)
            writer = _TeamBatch(session, config, row, now, batch)
            # Refunds after the charges: a refund of a charge in the same batch finds it, in any order.
            for charge in sorted(batch, key=lambda c: c.kind == "refund"):
                writer.add(charge, members.get((charge.user_email or "").strip().lower()), counts)
            writer.write()
            report.charged_pending.extend(writer.charged_pending())
        report.conflicts.extend(writer.conflicts)
        report.refused.extend(writer.refused)
        if writer.entries:  # only new charges change what anyone sees
            report.changed.setdefault(team, set()).update(e.member for e in writer.entries if e.member)
    return report


DeliveryState = Literal["new", "redelivered", "reused"]
"""A ``webhook-id`` never handled, handled with this very body (a redelivery), or handled with another body."""


def body_hash(body: bytes) -> str:
    """What a delivery is remembered by beside its id: the SHA-256 of its body, in hex."""
    return hashlib.sha256(body).hexdigest()


def delivery_state(db: Database, *, webhook_id: str, body: bytes) -> DeliveryState:
    """Whether this ``webhook-id`` was handled, and with this body (a delivery kept before bodies were: any)."""
    with db.read() as session:
        seen = charge_store.delivery_seen(session, webhook_id=webhook_id)
    if seen is None:
        return "new"
    return "redelivered" if seen.body_hash in (None, body_hash(body)) else "reused"


def record_reused_delivery(db: Database, *, workspace_id: str, team: str, webhook_id: str, now: datetime) -> None:
    """A ``webhook-id`` sent again with another body: nothing of it is recorded, one audit entry says so."""
    logger.warning("delivery %s refused: its id was already used for another body", webhook_id[:80])
    with db.write() as session:
        record_decision(
            session,
            workspace_id=workspace_id,
            team=team,
            action="delivery_id_reused",
            target=f"delivery {webhook_id}",
            now=now,
            kept="the delivery first handled under this id",
        )


def mark_delivery(db: Database, *, webhook_id: str, body: bytes, now: datetime) -> None:
    """Remember a delivery and its body's hash once its charges are written.

    Marked after, not before: a process that dies in between leaves the id unmarked, so the sender's
    retry is handled, and its charges, already written under their own ids, are counted as known.
    """
    with db.write() as session:
        charge_store.mark_delivery(session, webhook_id=webhook_id, body_hash=body_hash(body), now=now)
