"""Project budgets over signed requests: set by an admin, shown in quotes, runs over one go for approval."""

from __future__ import annotations

from sqlmodel import select

from bot.store.tables.workspace import AuditEntry
from tests.bot_harness import ALICE, BOB, CAROL, BotUnderTest
from tests.slack.tasks_helpers import approvals, request_message, tasks

RUN_40 = "run image quality=high variants=4 project=acme"  # 32 + 8 expected retries = 40, within a lead's limits


def test_an_admin_sets_a_project_budget_and_it_is_audited(bot: BotUnderTest) -> None:
    text = bot.command("admin budget design acme 1,000", user=CAROL).text
    assert "Project acme of team design: budget 1,000 credits until the renewal on Tue 1 Dec" in text
    assert "(0 credits used this cycle, 1,000 credits left)" in text
    assert "recorded in the audit trail" in text
    text = bot.command("admin budget design acme 1500", user=CAROL).text
    assert "budget 1,500 credits" in text and "was 1,000 credits" in text
    with bot.db.read() as session:
        entries = list(session.exec(select(AuditEntry).where(AuditEntry.action == "budget")))
    assert [(e.target, e.team) for e in entries] == [("design/acme", "design")] * 2
    assert '"before": 1000, "after": 1500' in entries[1].details
    assert "no budget now" in bot.command("admin budget design acme none", user=CAROL).text


def test_only_admins_set_budgets_and_bad_input_says_what_would_work(bot: BotUnderTest) -> None:
    assert "Only admins can set project budgets" in bot.command("admin budget design acme 100", user=BOB).text
    assert "Unknown team desgin" in bot.command("admin budget desgin acme 100", user=CAROL).text
    assert (
        "Usage: /credits admin budget <team> <project> <credits/none>"
        in bot.command("admin budget design 100", user=CAROL).text
    )
    too_long = "x" * 81
    assert "A project name is 1 to 80 characters" in bot.command(f"admin budget design {too_long} 100", user=CAROL).text
    with bot.db.read() as session:
        assert list(session.exec(select(AuditEntry))) == []


def test_a_quote_for_a_project_shows_what_it_has_left_after_it(bot: BotUnderTest) -> None:
    bot.command("admin budget design acme 100", user=CAROL)
    text = bot.command("quote image quality=high variants=4 project=acme", user=BOB).text
    assert "Project acme after it: 60 credits left of its 100 budget (0 credits used this cycle)" in text
    assert "/credits run image quality=high variants=4 project=acme reserves it" in text
    text = bot.command("quote image project=zeta", user=BOB).text
    assert "Project zeta: no budget set this cycle" in text


def test_a_run_over_the_projects_budget_goes_for_approval_and_says_so(bot: BotUnderTest) -> None:
    bot.command("admin budget design acme 100", user=CAROL)
    first = bot.command(RUN_40, user=BOB).text
    assert "Task #1 reserved" in first and "Project acme has 60 credits left of its 100 budget" in first
    bot.command(RUN_40 + " second", user=BOB)
    third = bot.command(RUN_40 + " third", user=BOB).text
    assert "Task #3 needs approval" in third and "over project acme's budget of 100 by 20" in third
    message = request_message(bot)
    assert "over project acme's budget of 100 by 20" in str(message["blocks"])
    assert [t.project for t in tasks(bot)] == ["acme"] * 3
    bot.click("approval_approve", str(message["value"]), user=CAROL, message_ts=str(message["ts"]))
    bot.standin.wait_for_call("chat.update")
    assert [a.status for a in approvals(bot)] == ["approved"]
    quote = bot.command("quote image project=acme", user=BOB).text
    assert "Project acme after it: 25 credits over of its 100 budget (120 credits used this cycle)" in quote
    assert "over project acme's budget of 100" in quote


def test_an_admin_running_over_a_project_budget_needs_no_approval(bot: BotUnderTest) -> None:
    bot.command("admin budget design acme 10", user=CAROL)
    assert "reserved" in bot.command(RUN_40, user=CAROL).text


def test_the_balance_and_the_digest_list_projects_with_budget_spent_and_left(bot: BotUnderTest) -> None:
    bot.command("admin budget design acme 100", user=CAROL)
    bot.command("admin budget design zeta 2000", user=CAROL)
    bot.command(RUN_40, user=BOB)
    bot.command("done 1 retries=0", user=BOB)  # 32 charged
    bot.command("run image quality=high project=acme", user=BOB)  # 10 held
    balance = bot.command("balance", user=ALICE).text
    assert "Project budgets this cycle" in balance
    assert "zeta: budget 2,000 · spent 0 · left 2,000 credits" in balance
    assert "acme: budget 100 · spent 32 · held 10 · left 58 credits" in balance
    assert balance.index("zeta:") < balance.index("acme:")  # largest budget first
    digest = bot.command("digest preview", user=ALICE).text
    assert "acme: budget 100 · spent 32 · held 10 · left 58 credits" in digest


def test_project_option_is_checked(bot: BotUnderTest) -> None:
    text = bot.command("run image project=" + "x" * 81, user=BOB).text
    assert "A project name is 1 to 80 characters" in text and "project=acme" in text
    assert tasks(bot) == []


def test_a_project_name_with_a_space_is_refused_as_the_docs_say(bot: BotUnderTest) -> None:
    """The bug: docs say lowercase letters, digits, ``-``, ``_``, ``.``, yet ``"Nike spring"`` was accepted."""
    text = bot.command('run image project="Nike spring"').text
    assert "is not a project name" in text and "project=nike-spring" in text
    assert tasks(bot) == []


def test_a_typo_of_a_known_project_is_refused_with_did_you_mean(bot: BotUnderTest) -> None:
    """The bug: ``project=acne`` silently made a second project beside ``acme``."""
    assert "reserved" in bot.command("run image project=acme").text
    for typo in ("run image project=acne", "quote image project=acme2"):
        text = bot.command(typo).text
        assert "Did you mean acme?" in text and "project=new:" in text, typo
    assert len(tasks(bot)) == 1
    assert "reserved" in bot.command("run image project=new:acme2").text
    assert "reserved" in bot.command("run image variants=2 project=acme2").text  # known now: no question
    assert [t.project for t in tasks(bot)] == ["acme", "acme2", "acme2"]
