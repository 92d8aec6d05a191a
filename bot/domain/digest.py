"""The weekly digest's rules: when a team's slot falls, which days it covers, and what its figures say.

Pure functions over plain rows the store has already aggregated in SQL, so every figure is tested
directly. Slots live in the team's own timezone: "mon 09:00" in Berlin is 07:00 UTC in summer and
08:00 UTC in winter, and a week before a slot is the same wall-clock time seven days earlier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.credits_file import DigestSchedule, Pricing
from bot.domain import pricing as pricing_rules
from bot.domain.pricing import TaskSpec

DIGEST_DAYS = 7
CHART_DAYS = 28
TOP_MEMBERS = 5
LARGEST_TASKS = 3
BUDGET_THRESHOLDS = (50, 80, 100)
# Two scheduled digests of one team less than this apart mean its schedule moved mid-week.
MIN_DIGEST_GAP = timedelta(days=6)


def _at(day: date, schedule: DigestSchedule, zone: ZoneInfo) -> datetime:
    """The slot on a local day as a UTC instant (a time skipped by DST lands just after the gap)."""
    return datetime.combine(day, time(schedule.hour, schedule.minute), tzinfo=zone).astimezone(UTC)


def latest_slot(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> datetime:
    """The most recent slot at or before ``now``, in UTC."""
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    slot = _at(day, schedule, zone)
    return slot if slot <= now else _at(day - timedelta(days=7), schedule, zone)


def next_slot(schedule: DigestSchedule, zone: ZoneInfo, now: datetime) -> datetime:
    """The first slot after ``now``, in UTC."""
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=(schedule.weekday - local.weekday()) % 7)
    slot = _at(day, schedule, zone)
    return slot if slot > now else _at(day + timedelta(days=7), schedule, zone)


def slot_key(slot: datetime) -> str:
    """A slot's stable name in the claim table: its UTC start, ``2026-11-30T08:00Z``."""
    return slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class SlotAction(StrEnum):
    """What a scheduler run does with a team's latest slot that nobody has claimed yet."""

    POST = "post"
    SKIP_BEYOND_GRACE = "skipped_beyond_grace"
    SKIP_RECENT = "skipped_recent"
    SKIP_BEFORE_START = "skipped_before_start"


def slot_action(
    slot: datetime,
    now: datetime,
    grace: timedelta,
    last_posted: datetime | None,
    first_entry: datetime | None = None,
) -> SlotAction:
    """Post within the grace period, unless another slot of the team's is claimed or out less than six days
    before or after this one (a moved schedule; two processes whose configs disagree for a moment).

    A slot past its grace from before the team's first ledger entry was never missed: the bot did
    not know the team then (``first_entry`` None: not known, so the slot counts as missed).
    """
    if now - slot > grace:
        if first_entry is not None and slot < first_entry:
            return SlotAction.SKIP_BEFORE_START
        return SlotAction.SKIP_BEYOND_GRACE
    if last_posted is not None and timedelta(0) < abs(slot - last_posted) < MIN_DIGEST_GAP:
        return SlotAction.SKIP_RECENT
    return SlotAction.POST


@dataclass(frozen=True)
class DigestWindow:
    """The week a digest covers, the week before it, and the days its chart shows."""

    start: datetime
    end: datetime
    previous_start: datetime
    first_chart_day: date
    last_chart_day: date

    @property
    def chart_days(self) -> list[date]:
        """Every local day the chart shows, oldest first."""
        count = (self.last_chart_day - self.first_chart_day).days + 1
        return [self.first_chart_day + timedelta(days=n) for n in range(count)]


def digest_window(end: datetime, zone: ZoneInfo) -> DigestWindow:
    """Seven days of wall-clock time up to ``end``; the chart shows 28 local days ending on ``end``'s day.

    The slot's own day is in the week's totals (a Friday 16:00 digest counts Friday), so the chart
    shows it too, unless ``end`` is local midnight, when nothing of that day is in the week.
    """
    local_end = end.astimezone(zone)
    # Arithmetic on an aware datetime in the same zone keeps the wall-clock time across DST.
    start = (local_end - timedelta(days=DIGEST_DAYS)).astimezone(UTC)
    previous = (local_end - timedelta(days=2 * DIGEST_DAYS)).astimezone(UTC)
    at_midnight = local_end.time() == time(0, 0)
    last_day = local_end.date() - timedelta(days=1) if at_midnight else local_end.date()
    return DigestWindow(start, end.astimezone(UTC), previous, last_day - timedelta(days=CHART_DAYS - 1), last_day)


@dataclass(frozen=True)
class SpendRow:
    """Credits spent by one member with one tool, this week and the week before."""

    tool: str | None
    member: str | None
    current: int
    previous: int


@dataclass(frozen=True)
class Share:
    """A name (tool, member, or "N others") and the credits it spent."""

    name: str
    amount: int


@dataclass(frozen=True)
class SpendSummary:
    """Total spend with its week-over-week change, by tool and by top members."""

    total: int
    previous_total: int
    by_tool: tuple[Share, ...]
    top_members: tuple[Share, ...]
    other_members: int
    other_members_amount: int

    @property
    def change_percent(self) -> float | None:
        """Change against the week before, None when nothing was spent then."""
        return percent_change(self.total, self.previous_total)


def percent_change(current: int, previous: int) -> float | None:
    """``(current - previous) / previous`` in percent; None when there is nothing to compare with."""
    if previous == 0:
        return None
    return (current - previous) * 100 / previous


def _ranked(totals: dict[str, int]) -> list[Share]:
    return [Share(name, amount) for name, amount in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if amount]


def summarise_spend(rows: Iterable[SpendRow], top: int = TOP_MEMBERS) -> SpendSummary:
    """Totals by tool and member; members beyond the top few are summed."""
    tools: dict[str, int] = defaultdict(int)
    members: dict[str, int] = defaultdict(int)
    total = previous = 0
    for row in rows:
        total += row.current
        previous += row.previous
        tools[row.tool or "other"] += row.current
        members[row.member or "unknown"] += row.current
    ranked = _ranked(members)
    rest = ranked[top:]
    return SpendSummary(
        total, previous, tuple(_ranked(tools)), tuple(ranked[:top]), len(rest), sum(s.amount for s in rest)
    )


@dataclass(frozen=True)
class TaskGroup:
    """Finished tasks alike in everything the price depends on, their cost and versions kept.

    ``kept`` is the sum over the group, or None when the group's tasks did not record it.
    """

    tool: str
    quality: str
    variants: int
    duration_seconds: int | None
    retries_used: int | None
    actual_cost: int
    tasks: int
    kept: int | None


@dataclass(frozen=True)
class ToolVersions:
    """Versions generated and kept with one tool, and what each kept version cost."""

    tool: str
    tasks: int
    generated: int
    kept: int
    unknown_tasks: int
    cost_of_known: int

    @property
    def cost_per_kept(self) -> float | None:
        """Credits per kept version, over the tasks that recorded what they kept."""
        return self.cost_of_known / self.kept if self.kept else None


@dataclass(frozen=True)
class RetrySummary:
    """What retries cost (the actual cost over the price of a first attempt) and their share of the spend."""

    cost: int
    share_percent: float | None
    unpriced_tasks: int


def first_attempt_price(pricing: Pricing, group: TaskGroup) -> int | None:
    """The task's price with no retries, or None when its tool or quality is no longer priced."""
    return pricing_rules.first_attempt_price(
        pricing, TaskSpec(group.tool, group.quality, group.variants, group.duration_seconds)
    )


def summarise_retries(pricing: Pricing, groups: Iterable[TaskGroup], spent: int) -> RetrySummary:
    """Retries' cost per task is ``actual - first attempt`` (never below 0), summed over the week."""
    cost = unpriced = 0
    for group in groups:
        base = first_attempt_price(pricing, group)
        if base is None:
            unpriced += group.tasks
            continue
        cost += max(0, group.actual_cost - base) * group.tasks
    share = cost * 100 / spent if spent > 0 else None
    return RetrySummary(cost, share, unpriced)


def summarise_versions(groups: Iterable[TaskGroup]) -> tuple[ToolVersions, ...]:
    """Per tool: versions generated (variants × attempts) and kept; tasks that did not say are counted apart."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for group in groups:
        t = tally[group.tool]
        t[0] += group.tasks
        if group.kept is None:
            t[3] += group.tasks
            continue
        t[1] += group.variants * (1 + (group.retries_used or 0)) * group.tasks
        t[2] += group.kept
        t[4] += group.actual_cost * group.tasks
    return tuple(ToolVersions(tool, *t) for tool, t in sorted(tally.items()))


@dataclass(frozen=True)
class ApprovalCounts:
    """Approval requests asked in the week and what became of them: the outcomes add up to ``asked``."""

    asked: int = 0
    approved: int = 0
    denied: int = 0
    expired: int = 0
    withdrawn: int = 0
    pending: int = 0


@dataclass(frozen=True)
class LargeTask:
    """One of the week's most expensive finished tasks, with a link to its approval thread if it had one."""

    number: int | None
    requester: str
    tool: str
    quality: str
    variants: int
    duration_seconds: int | None
    cost: int
    approval_link: str | None = None


@dataclass(frozen=True)
class DailySeries:
    """Spend per local day, one series per tool, for the chart."""

    days: tuple[date, ...]
    by_tool: dict[str, tuple[int, ...]]

    @property
    def total(self) -> int:
        """Everything the chart shows."""
        return sum(sum(values) for values in self.by_tool.values())


def daily_series(days: list[date], rows: Iterable[tuple[date, str, int]]) -> DailySeries:
    """Fill a (day, tool, spent) list into one value per day for each tool, zeros where nothing was spent."""
    index = {day: n for n, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    for day, tool, spent in rows:
        if day in index:
            series.setdefault(tool, [0] * len(days))[index[day]] += spent
    ordered = sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return DailySeries(tuple(days), {tool: tuple(values) for tool, values in ordered})


@dataclass(frozen=True)
class FeedFigures:
    """What Keter Labs' charges add to the week: unplanned spend, corrections, spend by project."""

    unplanned: int = 0  # credits charged with no task
    unplanned_charges: int = 0
    unplanned_member: str | None = None  # who spent most of it
    unplanned_tool: str | None = None
    adjustments: int = 0  # credits added (+) or taken (−) by adjustment entries
    adjustment_entries: int = 0
    projects: tuple[Share, ...] = ()  # the top projects by spend
    other_projects: int = 0  # the rest, summed


def summarise_projects(totals: dict[str, int], top: int = 5) -> tuple[tuple[Share, ...], int]:
    """The ``top`` projects by spend and the rest summed."""
    ranked = _ranked({name: spent for name, spent in totals.items() if spent})
    return tuple(ranked[:top]), sum(share.amount for share in ranked[top:])


@dataclass(frozen=True)
class DigestFigures:
    """Everything the digest says about the week's spending."""

    window: DigestWindow
    spend: SpendSummary
    retries: RetrySummary
    versions: tuple[ToolVersions, ...]
    approvals: ApprovalCounts
    largest: tuple[LargeTask, ...]
    series: DailySeries
    released_unreported: tuple[int, int] = (0, 0)  # stale holds released in the week: tasks, credits
    feed: FeedFigures = FeedFigures()

    @property
    def quiet(self) -> bool:
        """Nothing spent this week: the digest says so briefly."""
        return self.spend.total == 0 and not self.largest


def crossed_thresholds(spent: int, monthly_credits: int, thresholds: tuple[int, ...] = BUDGET_THRESHOLDS) -> list[int]:
    """The budget thresholds (percent of the plan's credits) this cycle's spend has reached."""
    if monthly_credits <= 0:
        return []
    return [t for t in thresholds if spent * 100 >= t * monthly_credits]
