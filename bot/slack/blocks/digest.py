"""The weekly digest and the budget alert, as Block Kit: short lines that read on a phone.

Members appear by name (``bot.slack.outbound.names``), the posted digest and its preview alike, so a
digest posted in a channel does not ping everyone it lists; without names they appear as mentions.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.credits_file import DigestSchedule
from bot.domain.digest import DigestFigures, LargeTask, SpendSummary
from bot.domain.forecast import Outlook, round_half_up
from bot.services.digests.budget_alerts import BudgetAlert
from bot.services.digests.weekly_digest import DigestReport
from bot.slack.blocks.budgets import project_lines
from bot.slack.blocks.format import credits, day, number, on_day, plural, when

MAX_SECTION = 3000  # Slack's limit for a section's text


def digest_members(report: DigestReport) -> list[str]:
    """The members a digest names (top spenders, the largest tasks' requesters, unplanned spend's member)."""
    figures = report.figures
    users = [s.name for s in figures.spend.top_members] + [t.requester for t in figures.largest]
    return users + ([figures.feed.unplanned_member] if figures.feed.unplanned_member else [])


def _who(user: str, names: Mapping[str, str] | None) -> str:
    if names is None:
        return f"<@{user}>"
    return names.get(user) or user


def _section(text: str) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=text if len(text) <= MAX_SECTION else text[: MAX_SECTION - 1] + "…")
    )


def period(figures: DigestFigures, timezone: str) -> str:
    """``Mon 23 Nov – Mon 30 Nov``, in the team's timezone."""
    zone = ZoneInfo(timezone)
    start, end = figures.window.start.astimezone(zone), figures.window.end.astimezone(zone)
    return f"{day(start.date())} – {day(end.date())}"


def change_phrase(spend: SpendSummary) -> str:
    """How this week compares with the one before."""
    change = spend.change_percent
    before = credits(spend.previous_total)
    if change is None:
        return "nothing was spent the week before"
    if round(change) == 0:
        return f"about the same as the week before ({before})"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {number(abs(round(change)))}% from {before} the week before"


def spend_lines(spend: SpendSummary, names: Mapping[str, str] | None) -> str:
    """Spend by tool and by member (the top few; the rest summed)."""
    tools = " · ".join(f"{s.name} {number(s.amount)}" for s in spend.by_tool) or "none"
    members = [f"{_who(s.name, names)} {number(s.amount)}" for s in spend.top_members]
    if spend.other_members:
        members.append(f"{plural(spend.other_members, 'other')} {number(spend.other_members_amount)}")
    return f"*By tool*: {tools}\n*By member*: {' · '.join(members) or 'none'}"


def task_lines(figures: DigestFigures) -> str:
    """The cost of retries, and successful versions against generated."""
    retries = figures.retries
    share = f", {number(round(retries.share_percent))}% of the spend" if retries.share_percent is not None else ""
    lines = [f"*Cost of retries*: {credits(retries.cost)}{share}"]
    if retries.unpriced_tasks:
        lines[0] += f" ({plural(retries.unpriced_tasks, 'task')} with tools no longer priced left out)"
    kept = []
    unknown = 0
    for v in figures.versions:
        unknown += v.unknown_tasks
        if v.generated or v.kept:
            each = f", {number(v.cost_per_kept)} credits each" if v.cost_per_kept is not None else ""
            kept.append(f"{v.tool} {v.kept} of {v.generated}{each}")
    line = f"*Successful versions*: {' · '.join(kept) or 'none recorded'}"
    if unknown:
        line += f" (not recorded for {plural(unknown, 'task')})"
    lines.append(line)
    a = figures.approvals
    outcomes = [f"{a.approved} approved", f"{a.denied} denied", f"{a.expired} expired"]
    outcomes += [f"{a.withdrawn} withdrawn", f"{a.pending} pending"]
    lines.append(f"*Approvals asked this week*: {a.asked} ({' · '.join(outcomes)})")
    released = released_line(figures)
    if released:
        lines.append(released)
    return "\n".join(lines)


def feed_lines(figures: DigestFigures, names: Mapping[str, str] | None = None) -> list[str]:
    """Keter Labs' charges in the week: unplanned spend, adjustments, spend by project (each only when any)."""
    feed, lines = figures.feed, []
    if feed.unplanned_charges:
        who = _who(feed.unplanned_member, names) if feed.unplanned_member else "no member"
        mostly = f", mostly {who}, {feed.unplanned_tool}" if feed.unplanned_tool else ""
        lines.append(f"*Unplanned*: {credits(feed.unplanned)} in {plural(feed.unplanned_charges, 'charge')}{mostly}")
    if feed.adjustment_entries:
        sign = "+" if feed.adjustments >= 0 else "−"
        entries = "entry" if feed.adjustment_entries == 1 else "entries"
        amount = f"{sign}{credits(abs(feed.adjustments))}"
        lines.append(f"*Adjustments*: {amount} in {feed.adjustment_entries:,} {entries}")
    if feed.projects:
        shown = [f"{p.name} {credits(p.amount)}" for p in feed.projects]
        if feed.other_projects:
            shown.append(f"others {credits(feed.other_projects)}")
        lines.append("*By project*: " + " · ".join(shown))
    return lines


def released_line(figures: DigestFigures) -> str:
    """``3 tasks released unreported: 140 credits`` (empty when none were)."""
    count, amount = figures.released_unreported
    if not count:
        return ""
    return f"*{plural(count, 'task')} released unreported*: {credits(amount)}"


LATE_AFTER = timedelta(minutes=10)
"""A digest posted this long after its slot names the moment of its balance beside the week it covers."""


def balance_lines(report: DigestReport) -> str:
    """Where the team stands now, and when it runs out at this week's pace."""
    b, forecast = report.balance, report.forecast
    lines = []
    end = report.figures.window.end
    if report.as_of is not None and report.as_of - end > LATE_AFTER:  # posted late: two moments, each named
        zone = ZoneInfo(report.timezone)
        lines.append(
            f"*Balance as of {when(report.as_of, zone)}* (the week's figures above stop at {when(end, zone)}):"
        )
    lines += [
        f"*Plan credits left*: {credits(b.plan)} of {number(report.monthly_credits)}, "
        f"renews {on_day(report.renews_on, ZoneInfo(report.timezone), report.today)}",
        f"*Extra*: {number(b.extra)} · *Held*: {number(b.held)} · *Available*: *{credits(b.available)}*",
    ]
    burn = f"*Burn rate*: {credits(round_half_up(forecast.burn_per_day))}/day"
    if forecast.run_out_on is None:
        lines.append(f"{burn} · :large_green_circle: nothing spent, nothing runs out")
    elif forecast.runs_out_before_renewal:
        early = (report.renews_on - forecast.run_out_on).days
        runs_out = on_day(forecast.run_out_on, ZoneInfo(report.timezone), report.today)
        lines.append(f"{burn} · :red_circle: *runs out around {runs_out}*, {plural(early, 'day')} before the renewal")
    else:
        lines.append(f"{burn} · :large_green_circle: lasts to the renewal")  # plan credits lapse then
    return "\n".join(lines)


def describe_large_task(task: LargeTask, names: Mapping[str, str] | None) -> str:
    """``#42 video · high · 60 s · 2 variants: 480 credits, ana · approval thread``."""
    parts = [task.tool, task.quality]
    if task.duration_seconds is not None:
        parts.append(f"{task.duration_seconds:,} s")
    if task.variants != 1:
        parts.append(plural(task.variants, "variant"))
    number_part = f"#{task.number} " if task.number is not None else ""
    line = f"{number_part}{' · '.join(parts)}: *{credits(task.cost)}*, {_who(task.requester, names)}"
    if task.approval_link:
        line += f" · <{task.approval_link}|approval thread>"
    return line


def digest_blocks(
    report: DigestReport,
    *,
    names: Mapping[str, str] | None = None,
    schedule: str | None = None,
    chart_in_thread: bool = False,
    preview: bool = True,
) -> list[Block]:
    """The whole digest, or a short "quiet week" one when nothing was spent.

    ``preview`` False: posted in the channel on request (``digest --team … --now``), never called a preview.
    """
    figures = report.figures
    when = period(figures, report.timezone)
    header = HeaderBlock(text=f"Weekly spend: {report.team}")
    unscheduled = "Preview of the last 7 days" if preview else "The last 7 days, posted on request"
    footer = [f"Every {schedule} ({report.timezone})" if schedule else unscheduled]
    if figures.quiet:
        footer.append("`/credits balance` shows today's figures")
        before = figures.spend.previous_total
        note = f" (the week before: {credits(before)})" if before else ""
        released = "\n".join(filter(None, [released_line(figures), *feed_lines(figures, names)]))
        return [
            header,
            _section(f":zzz: *Quiet week*: no credits spent {when}{note}." + (f"\n{released}" if released else "")),
            _section(balance_lines(report)),
            *_projects(report),
            ContextBlock(elements=[MarkdownTextObject(text=" · ".join(footer))]),
        ]
    if chart_in_thread:
        footer.insert(0, ":bar_chart: Daily spend over 4 weeks in the thread")
    blocks: list[Block] = [
        header,
        _section(f"*{when}*: *{credits(figures.spend.total)}* spent, {change_phrase(figures.spend)}"),
        _section(spend_lines(figures.spend, names)),
        _section(task_lines(figures)),
        *([_section("\n".join(feed))] if (feed := feed_lines(figures, names)) else []),
        DividerBlock(),
        _section(balance_lines(report)),
        *_projects(report),
    ]
    if figures.largest:
        items = [f"{n}. {describe_large_task(t, names)}" for n, t in enumerate(figures.largest, start=1)]
        blocks.append(_section("*Largest tasks*\n" + "\n".join(items)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(footer))]))
    return blocks


def _projects(report: DigestReport) -> list[Block]:
    """The projects with a budget this cycle: budget, spent and left (nothing when there are none)."""
    listed = project_lines(report.projects)
    return [_section(listed)] if listed else []


def digest_text(report: DigestReport) -> str:
    """Notification fallback text."""
    spend = report.figures.spend
    if report.figures.quiet:
        return f"Weekly spend for {report.team}: a quiet week, nothing spent"
    change = spend.change_percent
    trend = f" ({'+' if change >= 0 else ''}{number(round(change))}%)" if change is not None else ""
    return f"Weekly spend for {report.team}: {credits(spend.total)}{trend}"


def chart_title(report: DigestReport) -> str:
    """The chart's title, which also names its file in Slack."""
    last = report.figures.window.last_chart_day
    return f"{report.team}: credits spent per day, 4 weeks to {day(last)}"


def alert_pace(alert: BudgetAlert, zone: ZoneInfo | None = None) -> str:
    """What happens next at the last 7 days' pace, within the cycle (``zone``: days as date tokens)."""
    outlook = alert.outlook
    if outlook.outlook is Outlook.RUNS_OUT and outlook.run_out_on is not None:
        return f"at this pace it runs out on {on_day(outlook.run_out_on, zone, outlook.today)}"
    if outlook.outlook is Outlook.LASTS:
        return "at this pace it lasts to the renewal"
    if outlook.outlook is Outlook.OUT_NOW:
        return "it has no credits available now"
    return "nothing was spent in the last 7 days"


def alert_headline(alert: BudgetAlert, zone: ZoneInfo | None = None) -> str:
    """``Team design has used 55 % of its plan credits (2,746 of 5,000) with 10 days to the renewal; …``."""
    used = "all its plan credits" if alert.spent >= alert.monthly_credits else f"{alert.percent} % of its plan credits"
    days = plural(alert.outlook.days_to_renewal, "day")
    return (
        f"Team {alert.team} has used {used} ({alert.spent:,} of {alert.monthly_credits:,}) with {days} to the "
        f"renewal; {alert_pace(alert, zone)}."
    )


def alert_blocks(alert: BudgetAlert, zone: ZoneInfo | None = None) -> list[Block]:
    """A short budget alert: the real percentage and the forecast, then what is left.

    ``zone`` (the team's) makes its days date tokens, each reader's own; the notification text stays plain.
    """
    icon = {50: ":large_yellow_circle:", 80: ":large_orange_circle:"}.get(alert.threshold, ":red_circle:")
    b, outlook = alert.balance, alert.outlook
    renews = on_day(alert.renews_on, zone, outlook.today)
    lines = [f"{icon} *{alert_headline(alert, zone)}*"]
    if outlook.outlook in (Outlook.RUNS_OUT, Outlook.OUT_NOW) and outlook.needed:
        more = f"{outlook.needed:,} more credit" + ("" if outlook.needed == 1 else "s")
        lines.append(f"At this pace it needs about {more} before {renews}.")
    lines.append(f"Plan credits left: {number(b.plan)} · extra: {number(b.extra)} · renews {renews}")
    if b.overdrawn_by:
        lines.append(
            f"*Overdrawn by {credits(b.overdrawn_by)}*: no new task can start until an admin adds credits "
            "with `/credits admin topup`."
        )
    elif alert.threshold >= 100:
        lines.append("New tasks now spend extra credits; an admin can add more with `/credits admin topup`.")
    return [_section("\n".join(lines))]


def alert_text(alert: BudgetAlert) -> str:
    """Notification fallback text: the same headline."""
    return alert_headline(alert)


def format_slot(slot: datetime, timezone: str) -> str:
    """A date token for the reader; its fallback ``Mon 30 Nov 09:00`` in the team's timezone."""
    return when(slot, ZoneInfo(timezone))


def describe_schedule(schedule: DigestSchedule) -> str:
    """``Monday 09:00``."""
    return f"{calendar.day_name[schedule.weekday]} {schedule.hour:02d}:{schedule.minute:02d}"


def schedule_moved_text(team: str, schedule: DigestSchedule, upcoming: datetime, timezone: str) -> str:
    """The answer to ``/credits admin digest <team> <day> <hh:mm>``."""
    return (
        f"Team {team}'s digest now goes out every {describe_schedule(schedule)} ({timezone}); "
        f"the next one on {format_slot(upcoming, timezone)}."
    )
