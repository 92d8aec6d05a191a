"""The ``/credits quote`` answer: an itemised forecast and what it means for the team and the member."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.estimates import RANGE_MIN_TASKS, KeepBasis, KeepPlan, LikelyRange, RangeBasis, one_in
from bot.domain.pricing import Quote, RetryBasis
from bot.services.quoting.quotes import QuoteReport
from bot.slack.blocks.asks import ask_buttons
from bot.slack.blocks.format import credits, credits_exact, day, number, plural, task_shape
from bot.slack.ids import BlockId


def describe_task(quote: Quote) -> str:
    """``image · high · 4 variants`` or ``video · high · 10 s · 2 variants``."""
    spec = quote.spec
    return task_shape(spec.tool, spec.quality, spec.variants, spec.duration_seconds)


def rate_line(quote: Quote) -> str:
    """How the first attempt is priced, e.g. ``8 credits × 4 variants``."""
    if quote.unit == "variant":
        line = f"{credits_exact(quote.rate)} × {plural(quote.spec.variants, 'variant')}"
    else:
        line = f"{number(quote.rate)} credits/{quote.unit} × {plural(quote.units, quote.unit)}"
        if quote.spec.variants > 1:
            line += f" ({quote.spec.variants} × {quote.spec.duration_seconds:,} s)"
    if quote.minimum_applied:
        line += f" (minimum {number(quote.attempt_cost)} applies)"
    return line


def retries_line(quote: Quote, history_days: int, min_tasks: int) -> str:
    """The retries priced in, and where that number came from."""
    cost = credits_exact(quote.retries_cost)
    if quote.retry_basis is RetryBasis.GIVEN:
        return f"{plural(quote.retries, 'retry').replace('retrys', 'retries')} (as given) → {cost}"
    if quote.retry_basis is RetryBasis.HISTORY:
        return (
            f"{number(quote.retries)} expected (your team's rate: {quote.history.retries} retries in "
            f"{quote.history.tasks} {quote.spec.tool} tasks, {history_days} days) → {cost}"
        )
    return (
        f"{number(quote.retries)} expected (configured rate; the team has {quote.history.tasks} of the "
        f"{min_tasks} finished {quote.spec.tool} tasks its own rate needs) → {cost}"
    )


def credit_span(low: int, high: int) -> str:
    """``32–64 credits``, or ``32 credits`` when both ends agree."""
    return credits(low) if low == high else f"{low:,}–{credits(high)}"


def likely_line(quote: Quote, likely: LikelyRange, history_days: int, min_tasks: int) -> str:
    """``Likely: 32–64 credits (9 in 10 of your team's 41 image tasks in 30 days)``, or the model's."""
    span = credit_span(likely.low, likely.high)
    tool = quote.spec.tool
    if likely.basis is RangeBasis.GIVEN:
        return f"Likely: {span} (the `retries={likely.max_retries}` you gave: no range around it)"
    if likely.basis is RangeBasis.QUALITY_HISTORY:
        which = f"{quote.spec.quality} {tool}"
        return f"Likely: {span} (9 in 10 of your team's {likely.tasks:,} {which} tasks in {history_days} days)"
    if likely.basis is RangeBasis.TOOL_HISTORY:
        return f"Likely: {span} (9 in 10 of your team's {likely.tasks:,} {tool} tasks in {history_days} days)"
    whose = "your team's" if quote.history.tasks >= min_tasks else "the configured"
    most = likely.max_retries
    retries = "no retries" if most == 0 else f"0–{most} {'retry' if most == 1 else 'retries'}"
    return (
        f"Likely: {span} (model: attempts fail at random at {whose} {number(likely.retry_rate)} retries a task, "
        f"so {retries} 9 times in 10; your team has {likely.tasks} of the {RANGE_MIN_TASKS} {tool} tasks a range "
        "from its history needs)"
    )


def keep_line(quote: Quote, plan: KeepPlan, likely: LikelyRange | None, min_tasks: int) -> str:
    """How many variants ``keep=`` asks for, from the team's keep rate, or why it could not use one."""
    spec = quote.spec
    keepers = plural(plan.keep, "keeper")
    if plan.rate is None:
        recorded = (
            f"recorded kept {spec.tool} versions for {plural(plan.history.tasks, 'task')}, not the {min_tasks} a "
            "keep rate needs"
            if plan.history.tasks
            else f"no kept {spec.tool} versions recorded yet (`/credits done <task> kept=<n>` records them)"
        )
        return f"Your team has {recorded}: priced as {plural(plan.variants, 'variant')} for {keepers}."
    which = f"{spec.quality} {spec.tool}" if plan.basis is KeepBasis.QUALITY else spec.tool
    likely_part = ""
    if likely is not None:
        likely_part = f", likely {likely.low:,}" + (f"–{likely.high:,}" if likely.high != likely.low else "")
    return (
        f"Your team keeps {one_in(plan.rate)} {which} versions: plan {plural(plan.variants, 'variant')} for "
        f"{keepers} — {credits(quote.total)}{likely_part}"
    )


def rounded_note(quote: Quote) -> str:
    """`` (33.5 rounded up)`` when the whole-credit total is more than attempt plus retries; else nothing."""
    exact = quote.attempt_cost + quote.retries_cost
    return f" ({number(exact)} rounded up)" if abs(exact - quote.total) > 1e-9 else ""


def _project_name(report: QuoteReport) -> str | None:
    return report.project.project if report.project is not None else None


def project_line(report: QuoteReport) -> str | None:
    """``Project acme after it: 340 credits left of its 1,000 budget (660 used this cycle)``."""
    use = report.project
    if use is None:
        return None
    if use.budget is None:
        return f"*Project {use.project}*: no budget set this cycle ({credits(use.used)} used so far)"
    after = report.project_after or 0
    left = f"{credits(after)} left" if after >= 0 else f"{credits(-after)} over"
    return (
        f"*Project {use.project} after it*: {left} of its {number(use.budget)} budget "
        f"({credits(use.used)} used this cycle)"
    )


def verdict_line(report: QuoteReport, extra_credit_admins: list[str]) -> str:
    """Whether the task can go ahead, needs an approver, or cannot be afforded at all."""
    overdrawn = report.balance.overdrawn_by
    if overdrawn:
        who = ", ".join(f"<@{u}>" for u in extra_credit_admins) or "an admin"
        return (
            f":no_entry: *Team overdrawn* by {credits(overdrawn)}: no new task can start until credits are "
            f"added. {who} can add them."
        )
    if not report.affordable:
        who = ", ".join(f"<@{u}>" for u in extra_credit_admins) or "an admin"
        return (
            f":no_entry: *Cannot be afforded*: the team is {credits(report.quote.total - report.balance.available)}"
            f" short. {who} can add extra credits."
        )
    if report.needs_approval:
        phrases = [
            f"{credits(b.over_by)} over your {b.kind.value} of {number(b.limit)}" for b in report.limits.breaches
        ]
        if report.project_over_by and report.project is not None:
            phrases.append(
                f"{credits(report.project_over_by)} over project {report.project.project}'s budget of "
                f"{number(report.project.budget or 0)}"
            )
        reasons = "; ".join(phrases)
        run = run_command(report.quote, _project_name(report))
        return f":warning: *Needs approval*: {reasons}. `{run}` holds it and asks an approver."
    run = run_command(report.quote, _project_name(report))
    return f":white_check_mark: *Within your limits* and the team can afford it: `{run}` reserves it."


def run_command(quote: Quote, project: str | None = None) -> str:
    """The ``/credits run`` that starts exactly the task quoted."""
    spec = quote.spec
    words = ["/credits run", spec.tool, f"quality={spec.quality}"]
    if spec.variants != 1:
        words.append(f"variants={spec.variants}")
    if spec.duration_seconds is not None:
        words.append(f"duration={spec.duration_seconds}")
    if spec.retries is not None:
        words.append(f"retries={spec.retries}")
    if project is not None:
        words.append(f"project={project}")
    return " ".join(words)


def quote_blocks(
    report: QuoteReport, *, history_days: int, min_tasks: int, extra_credit_admins: list[str]
) -> list[Block]:
    """The whole quote message."""
    quote, limits = report.quote, report.limits
    weekly = (
        "no limit"
        if limits.weekly_limit is None
        else f"{credits(limits.weekly_left or 0)} of {number(limits.weekly_limit)}"
    )
    items = [
        f"*Rate*: {rate_line(quote)}",
        f"*First attempt*: {credits_exact(quote.attempt_cost)}",
        f"*Cost of retries*: {retries_line(quote, history_days, min_tasks)}",
        f"*Total*: *{credits(quote.total)}*{rounded_note(quote)}",
    ]
    if report.likely is not None:
        items.append(likely_line(quote, report.likely, history_days, min_tasks))
    if report.keep_plan is not None:
        items.insert(0, keep_line(quote, report.keep_plan, report.likely, min_tasks))
    after = (
        f"*Team {report.member.team} after it*: {credits(report.available_after)} available "
        f"(now {credits(report.balance.available)})"
    )
    limit = f"*Your weekly limit left* ({limits.role}): {weekly}"
    if report.raised_until is not None:
        limit += f" (raised until {day(report.raised_until)})"
    project = project_line(report)
    if project is not None:
        after += f"\n{project}"
    short = bool(report.balance.overdrawn_by) or not report.affordable
    buttons = ask_buttons(
        run_command(quote, _project_name(report)),
        limit_raise=bool(limits.breaches) and not short,
        extra_credits=short,
    )
    return [
        HeaderBlock(text=f"Quote: {describe_task(quote)}"),
        SectionBlock(block_id=BlockId.QUOTE_ITEMS, text=MarkdownTextObject(text="\n".join(items))),
        SectionBlock(text=MarkdownTextObject(text=f"{after}\n{limit}")),
        ContextBlock(
            block_id=BlockId.QUOTE_VERDICT,
            elements=[MarkdownTextObject(text=verdict_line(report, extra_credit_admins))],
        ),
        *buttons,
    ]


def quote_text(report: QuoteReport, *, history_days: int = 30, min_tasks: int = 10) -> str:
    """Notification fallback text; the likely range on its own line, as in the blocks."""
    text = f"Quote: {credits(report.quote.total)} for {describe_task(report.quote)}"
    if report.likely is not None:
        text += "\n" + likely_line(report.quote, report.likely, history_days, min_tasks)
    project = project_line(report)
    if project is not None:
        text += "\n" + project.replace("*", "")
    return text
