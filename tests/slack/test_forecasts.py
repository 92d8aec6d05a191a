"""The likely range and keep= planning in ``/credits quote``; the balance's outlook around a renewal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.domain.forecast import cycle_outlook
from bot.domain.ledger import Balance
from bot.slack.blocks.balance import outlook_lines
from bot.store.tables.tasks import Task
from tests.bot_harness import ALICE, CAROL, WORKSPACE, BotUnderTest
from tests.conftest import Clock


def add_finished(
    bot: BotUnderTest,
    clock: Clock,
    *,
    retries: list[int],
    quality: str = "high",
    variants: int = 1,
    kept: int | None = None,
) -> None:
    """Finished image tasks of the team, as ``done`` leaves them, two days ago."""
    rate = {"standard": 4, "high": 8}[quality]
    with bot.db.write() as session:
        for used in retries:
            session.add(
                Task(
                    workspace_id=WORKSPACE,
                    team="design",
                    requester=ALICE,
                    tool="image",
                    quality=quality,
                    variants=variants,
                    quoted_cost=rate * variants,
                    status="done",
                    retries_used=used,
                    actual_cost=rate * variants * (1 + used),
                    kept=kept,
                    created_at=clock.now - timedelta(days=3),
                    finished_at=clock.now - timedelta(days=2),
                )
            )


def test_quote_shows_the_likely_range_from_the_teams_own_tasks(bot: BotUnderTest, clock: Clock) -> None:
    add_finished(bot, clock, retries=[0] * 30 + [1] * 8 + [2] * 3)
    reply = bot.command("quote image quality=high variants=4")
    assert "Likely: 32–96 credits (9 in 10 of your team's 41 high image tasks in 30 days)" in reply.text
    assert reply.payload["text"].splitlines()[1].startswith("Likely: 32–96 credits")
    block_lines = [line for b in reply.payload["blocks"] for line in b.get("text", {}).get("text", "").splitlines()]
    assert any(line.startswith("Likely: 32–96 credits") for line in block_lines)
    assert "Total: 43 credits" in reply.text  # the expected figure stays the team's mean: 0.34 retries


def test_quote_with_retries_given_shows_that_figure_not_a_range_below_it(bot: BotUnderTest, clock: Clock) -> None:
    """Issue 24: ``retries=2`` priced 96 but its Likely range was the team's habits (32–64), below its own total."""
    add_finished(bot, clock, retries=[0] * 30 + [1] * 8 + [2] * 3)
    reply = bot.command("quote image quality=high variants=4 retries=2")
    assert "Total: 96 credits" in reply.text
    assert "Likely: 96 credits (the retries=2 you gave: no range around it)" in reply.text
    assert "32–" not in reply.text
    model = bot.command("quote image quality=standard variants=4 retries=0").text  # no history of its own
    assert "Total: 16 credits" in model and "Likely: 16 credits (the retries=0 you gave" in model


def test_quote_with_too_little_history_states_its_model(bot: BotUnderTest) -> None:
    text = bot.command("quote image quality=high variants=4").text
    assert (
        "Likely: 32–64 credits (model: attempts fail at random at the configured 0.25 retries a task, "
        "so 0–1 retry 9 times in 10; your team has 0 of the 20 image tasks a range from its history needs)"
    ) in text


def test_keep_plans_variants_from_the_teams_keep_rate(bot: BotUnderTest, clock: Clock) -> None:
    add_finished(bot, clock, retries=[0] * 12, variants=3, kept=1)  # keeps 1 in 3 high image versions
    add_finished(bot, clock, retries=[0] * 30 + [1] * 8 + [2] * 3)  # kept not recorded: retries only
    reply = bot.command("quote image quality=high keep=3")
    text = reply.text
    assert "Quote: image · high · 9 variants" in text
    plan = "Your team keeps 1 in 3 high image versions: plan 9 variants for 3 keepers — 92 credits, likely 72–216"
    assert plan in text
    assert "/credits run image quality=high variants=9" in text


def test_keep_without_keep_history_is_priced_as_variants(bot: BotUnderTest) -> None:
    text = bot.command("quote image quality=high keep=2").text
    assert "Your team has no kept image versions recorded yet" in text
    assert "priced as 2 variants for 2 keepers" in text
    assert "Rate: 8 credits × 2 variants" in text


def test_keep_is_for_quotes(bot: BotUnderTest) -> None:
    assert "keep= plans a quote" in bot.command("run image keep=2").text
    assert "Give either variants=" in bot.command("quote image keep=2 variants=3").text


def spend(bot: BotUnderTest, clock: Clock, at: datetime, cost: int) -> None:
    """An admin's task, run and reported at ``at`` through the real commands."""
    clock.now = at
    reply = bot.command("run image quality=high", user=CAROL)
    number = reply.text.split("#", 1)[1].split()[0].rstrip(":.")
    assert "charged" in bot.command(f"done {number} cost={cost}", user=CAROL).text


def test_balance_outlook_before_at_and_after_the_renewal(bot: BotUnderTest, clock: Clock) -> None:
    spend(bot, clock, datetime(2026, 11, 10, 10, tzinfo=UTC), 2_332)
    spend(bot, clock, datetime(2026, 11, 20, 10, tzinfo=UTC), 1_568)  # 224 a day over the last 7 days

    clock.now = datetime(2026, 11, 21, 10, tzinfo=UTC)  # 10 days before the renewal, 1,600 available
    text = bot.command("balance", user=CAROL).text
    assert "Burn rate: 224 credits/day (last 7 days: 1,568 credits)" in text
    assert "Runs out around Sat 28 Nov, 3 days before the plan renews on Tue 1 Dec." in text
    assert "At this pace you need about 640 more credits before Tue 1 Dec." in text
    assert "Next cycle at this pace: about 6,944 credits for a 5,000 plan." in text

    spend(bot, clock, datetime(2026, 11, 28, 10, tzinfo=UTC), 700)
    clock.now = datetime(2026, 11, 30, 10, tzinfo=UTC)  # the day before: 900 left, 100 a day
    text = bot.command("balance", user=CAROL).text
    assert "Burn rate: 100 credits/day" in text
    assert "Lasts to the renewal on Tue 1 Dec at this pace; unused plan credits lapse then." in text
    assert "Runs out" not in text

    clock.now = datetime(2026, 12, 1, 10, tzinfo=UTC)  # the renewal day: a new cycle, renewing next year
    text = bot.command("balance", user=CAROL).text
    assert "Plan credits left (pro, 5,000/month): 5,000 credits, renews Fri 1 Jan 2027" in text
    assert "Spent this cycle (since Tue 1 Dec): 0 credits" in text
    assert "Lasts to the renewal on Fri 1 Jan 2027 at this pace" in text

    clock.now = datetime(2026, 12, 9, 10, tzinfo=UTC)  # after it: the last 7 days spent nothing
    assert "No spending in the last 7 days; the plan renews on Fri 1 Jan 2027." in bot.command("balance").text


def test_one_big_task_that_is_most_of_the_pace_is_named_on_the_balance(bot: BotUnderTest, clock: Clock) -> None:
    # Issue 24: one 6,200-credit task drove a next-cycle forecast of 5 plans, with no word that it was one task.
    spend(bot, clock, datetime(2026, 12, 2, 10, tzinfo=UTC), 300)
    spend(bot, clock, datetime(2026, 12, 2, 11, tzinfo=UTC), 400)
    text = bot.command("balance", user=CAROL).text
    assert "of this pace" not in text  # spread over tasks: nothing to single out
    spend(bot, clock, datetime(2026, 12, 3, 10, tzinfo=UTC), 6_200)
    clock.now = datetime(2026, 12, 5, 10, tzinfo=UTC)
    text = bot.command("balance", user=CAROL).text
    assert "Burn rate: 986 credits/day (last 7 days: 6,900 credits)" in text
    assert "Next cycle at this pace: about 30,558 credits for a 5,000 plan." in text  # six plans: that one task
    assert (
        "One task, #3, of 6,200 credits on Thu 3 Dec is 90% of this pace; without it, about 100 credits/day, "
        "and next cycle about 3,100 credits."
    ) in text


def test_the_outlook_names_an_overdraft_as_the_figures_do_when_a_hold_is_open() -> None:
    outlook = cycle_outlook(-1213, 100.0, date(2026, 11, 24), date(2026, 12, 1), 31)
    overdrawn = Balance(plan=0, extra=-1200, held=13)
    assert outlook_lines(outlook, 5_000, balance=overdrawn)[0] == (
        ":red_circle: *No credits available now* (overdrawn by 1,200 credits; 1,213 counting the 13 held for "
        "pending tasks); the plan renews on Tue 1 Dec."
    )
    short = cycle_outlook(-13, 100.0, date(2026, 11, 24), date(2026, 12, 1), 31)  # holds above the credits
    assert (
        "(13 credits short of what is held for pending tasks)"
        in outlook_lines(short, 5_000, balance=Balance(plan=0, extra=0, held=13))[0]
    )


def test_an_overdrawn_team_is_told_its_debt_and_what_it_needs() -> None:
    outlook = cycle_outlook(-120, 100.0, date(2026, 11, 24), date(2026, 12, 1), 31)
    assert outlook_lines(outlook, 5_000) == [
        ":red_circle: *No credits available now* (overdrawn by 120 credits); the plan renews on Tue 1 Dec.",
        "At this pace you need about 820 more credits before Tue 1 Dec.",
        "Next cycle at this pace: about 3,100 credits for a 5,000 plan.",
    ]
    december = cycle_outlook(-1, 0.0, date(2026, 12, 20), date(2027, 1, 1), 31)
    assert outlook_lines(december, 5_000) == [
        ":red_circle: *No credits available now* (overdrawn by 1 credit); the plan renews on Fri 1 Jan 2027.",
        "At this pace you need about 1 more credit before Fri 1 Jan 2027.",
    ]
