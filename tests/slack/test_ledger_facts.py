"""Issue 8 over signed requests: a charge is a fact (recorded, flagged, never held, cancelled or repriced)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.credits_file import CreditsConfig, default_config_text, parse_config
from bot.devtools.slack_standin import SlackStandIn
from bot.domain.ledger import Balance
from bot.store.ledger_checks import check_running_balances, check_task_holds
from bot.store.rollup_checks import check_rollups
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.workspace import AuditEntry
from tests.bot_harness import BOB, CAROL, DESIGN_CHANNEL, BotUnderTest, in_process_bot
from tests.conftest import Clock
from tests.slack.tasks_helpers import approvals, balance, request_message, tasks, thread_replies


def holds_add_up(bot: BotUnderTest) -> None:
    with bot.db.read() as session:
        assert check_running_balances(session) == []
        assert check_task_holds(session) == []
        assert check_rollups(session) == []


def test_the_issues_overrun_ends_with_192_spent_a_flag_in_the_thread_and_no_buttons(bot: BotUnderTest) -> None:
    reply = bot.command("run image variants=12 hero set")  # 48 + 12 expected retries = 60, over the 50 limit
    assert "Task #1 needs approval" in reply.text
    message = request_message(bot)
    bot.click("approval_approve", message["value"], user=BOB, message_ts=message["ts"])
    bot.standin.wait_for_call("chat.update")
    done = bot.command("done 1 retries=3 kept=2")  # 48 × 4 attempts = 192
    assert "Task #1 done: 192 credits charged" in done.text
    assert "132 credits above what was reserved" in done.text
    assert balance(bot) == Balance(plan=4808, extra=500, held=0, spent=192)
    flag = next(r for r in thread_replies(bot) if "against a quote" in r["text"])
    assert flag["thread_ts"] == message["ts"] and flag["channel"] == DESIGN_CHANNEL
    assert "<@U0ALICE>'s task #1 cost 192 credits against a quote of 60 credits" in flag["text"]
    assert "over the per-task limit of 50 by 142" in flag["text"]
    assert "132 above the 60 credits approved" in flag["text"]
    posted = [c.args for c in bot.standin.calls_to("chat.postMessage")]
    assert sum("approval_approve" in str(p.get("blocks")) for p in posted) == 1  # only the original request
    assert [a.kind for a in approvals(bot)] == ["task"]
    refused = bot.command("cancel 1")
    assert "was charged 192 credits" in refused.text and "/credits admin adjust design" in refused.text
    assert balance(bot).spent == 192 and "192 credits used of 300" in bot.command("limits").text
    trail = str(bot.command("admin audit", user=CAROL).payload)
    assert "overrun flagged" in trail and "task #1" in trail  # beside the approval it went over
    holds_add_up(bot)


def test_an_overdrawn_team_refuses_run_and_says_who_can_top_up(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=4", user=CAROL)
    done = bot.command("done 1 cost=6000", user=CAROL)  # 5,500 available: the charge is recorded anyway
    assert "Task #1 done: 6,000 credits charged" in done.text
    assert "Team design is now overdrawn by 500 credits" in done.text
    assert balance(bot) == Balance(plan=0, extra=-500, held=0, spent=6000)
    refused = bot.command("run image quality=draft")
    assert "Team design is overdrawn by 500 credits" in refused.text and "Nothing was reserved" in refused.text
    assert "<@U0CAROL> can add them" in str(refused.payload)
    assert len(tasks(bot)) == 1
    assert "Overdrawn by 500 credits" in bot.command("balance").text
    assert "Team overdrawn by 500 credits" in bot.command("quote image").text
    bot.command("admin topup design 600", user=CAROL)
    assert "Task #2 reserved" in bot.command("run image quality=draft").text
    holds_add_up(bot)


def test_a_price_change_between_run_and_done_charges_the_reserved_rate(
    bot: BotUnderTest, standin: SlackStandIn, config: CreditsConfig, clock: Clock
) -> None:
    bot.command("run image quality=high variants=4 retries=0")  # 8 a variant: 32
    dearer = parse_config(default_config_text().replace("high: 8,", "high: 12,"), "the new pricing file")
    clock.advance(days=1)
    later = in_process_bot(standin, bot.db, dearer, clock)
    try:
        reply = later.command("done 1 retries=0")
        assert "Task #1 done: 32 credits charged" in reply.text
        assert "Charged at the rates of Tue 24 Nov, when it was reserved (8/variant); today's rate is 12/variant" in (
            reply.text
        )
        assert "48 credits" in later.command("quote image quality=high variants=4 retries=0").text
    finally:
        later.finish_work()
    assert balance(bot).spent == 32
    holds_add_up(bot)


def test_cancel_after_done_is_refused_and_points_to_adjust(bot: BotUnderTest) -> None:
    bot.command("run image quality=high variants=2")
    bot.command("done 1 retries=0")
    reply = bot.command("cancel 1")
    assert "Task #1 was charged 16 credits" in reply.text and "can't be cancelled" in reply.text
    assert "/credits admin adjust design <+N/-N> <reason>" in reply.text
    assert balance(bot).spent == 16 and tasks(bot)[0].status == "done"


def test_an_overdraft_with_a_hold_open_is_one_figure_named_with_and_without_the_hold(bot: BotUnderTest) -> None:
    # Issue 24: "Overdrawn by 1,200" and "overdrawn by 1,213" on one screen, the second counting a hold.
    assert "reserved" in bot.command("run image quality=draft variants=13 retries=0 held open", user=CAROL).text
    bot.command("run image quality=draft variants=10 retries=0 the big one", user=CAROL)
    bot.command("done 2 cost=6700", user=CAROL)  # 5,500 had, 6,700 charged: 1,200 over, 13 still held
    assert balance(bot) == Balance(plan=0, extra=-1200, held=13, spent=6700)
    shown = bot.command("balance").text
    named = "Overdrawn by 1,200 credits (1,213 counting the 13 held for pending tasks)"
    assert named in shown
    assert "No credits available now (overdrawn by 1,200 credits; 1,213 counting the 13 held for pending" in shown
    assert "overdrawn by 1,213" not in shown.lower()  # never the bare second figure
    holds_add_up(bot)


def test_admin_adjust_writes_an_adjustment_and_an_audit_entry(bot: BotUnderTest) -> None:
    reply = bot.command("admin adjust design -40 Keter invoice KL-1182", user=CAROL)
    assert "Adjusted team design by -40 credits (Keter invoice KL-1182): 5,460 credits available" in reply.text
    assert "(recorded in the audit trail)" in reply.text
    with bot.db.read() as session:
        entry = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).one()
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "adjust")).one()
    # a correction of credits is a correction of spend (issue 24; this said spent_delta 0 before)
    assert (entry.plan_delta, entry.extra_delta, entry.spent_delta, entry.note) == (-40, 0, 40, "Keter invoice KL-1182")
    assert audit.actor == CAROL and audit.target == "design" and '"reason": "Keter invoice KL-1182"' in audit.details
    assert "Say why" in bot.command("admin adjust design +40", user=CAROL).text
    assert "signed number" in bot.command("admin adjust design 40 oops", user=CAROL).text
    assert "Only admins can adjust" in bot.command("admin adjust design +40 gift", user=BOB).text
    assert balance(bot) == Balance(plan=4960, extra=500, held=0, spent=40)


def test_an_invoice_correction_counts_in_spent_this_cycle_and_the_burn_rate(bot: BotUnderTest) -> None:
    # Issue 24: `admin adjust -3300` changed the balance but not "Spent this cycle" nor the burn rate.
    bot.command("admin adjust design -3300 invoice correction KL-2203", user=CAROL)
    shown = bot.command("balance").text
    assert "2,200 credits" in shown  # available: 5,000 + 500 - 3,300
    assert "): 3,300 credits" in shown.split("Spent this cycle")[1].splitlines()[0]
    assert "Burn rate: 471 credits/day (last 7 days: 3,300 credits)" in shown
    bot.command("admin adjust design +300 invoice KL-2203 credited back", user=CAROL)
    shown = bot.command("balance").text
    assert "): 3,000 credits" in shown.split("Spent this cycle")[1].splitlines()[0]
    assert "(last 7 days: 3,000 credits)" in shown
    assert balance(bot) == Balance(plan=1700, extra=800, held=0, spent=3000)
    with bot.db.read() as session:
        usage = session.exec(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).all()
    assert [e.week_usage for e in usage] == [0, 0]  # the team's spend, not the admin's own week
    holds_add_up(bot)


@pytest.mark.parametrize("statement", ["UPDATE ledger_entry SET extra_delta = 1", "DELETE FROM ledger_entry"])
def test_the_database_refuses_update_and_delete_of_ledger_entries(bot: BotUnderTest, statement: str) -> None:
    bot.command("run image quality=high variants=2")
    with pytest.raises(DBAPIError, match="append-only"), bot.db.engine.begin() as connection:
        connection.execute(text(statement))
    with bot.db.read() as session:
        assert len(session.exec(select(LedgerEntry)).all()) >= 2  # the opening grant, extra and the hold
