"""A read answered in the ack (``/credits quote``, ``balance``…) is one read transaction that writes nothing."""

from __future__ import annotations

from bot.credits_file import CreditsConfig
from bot.domain.keter_charges import KeterBalanceData
from bot.services.charges import reconciliation as keter_balances
from bot.slack.answers.registry import parse_command_line
from bot.store.db import Database
from tests.bench.bench_statements import traced
from tests.bot_harness import WORKSPACE, BotUnderTest
from tests.conftest import Clock


def test_balance_and_its_keter_labs_line_come_from_one_read_transaction(
    bot: BotUnderTest, database: Database, config: CreditsConfig, clock: Clock
) -> None:
    bot.command("balance")  # the team's balance row, written once by its first write
    data = KeterBalanceData(team="design", plan_credits=4900, extra_credits=500, as_of=clock.now)
    keter_balances.record_keter_balance(database, config, workspace_id=WORKSPACE, data=data, now=clock.now)
    with traced(database) as trace:
        reply = bot.command("balance")
    assert "Keter Labs says 4,900 plan + 500 extra" in reply.text
    assert trace.transactions == 1
    assert all(s.upper().startswith(("SELECT", "BEGIN")) for s in trace.statements), trace.statements


def test_a_quote_is_one_read_transaction_config_check_included(bot: BotUnderTest, database: Database) -> None:
    bot.command("quote image quality=high variants=4")
    with traced(database) as trace:
        reply = bot.command("quote image quality=high variants=4")
    assert "Quote" in reply.text
    assert trace.transactions == 1
    assert any("audit_entry" in s for s in trace.statements)  # the config's version check shares it
    assert all(s.upper().startswith(("SELECT", "BEGIN")) for s in trace.statements), trace.statements


def test_only_reads_answered_in_the_ack_share_a_read_transaction() -> None:
    def shared(text: str) -> bool:
        line = parse_command_line({"command": "/credits", "text": text})
        return line is not None and line.answered_in_ack

    assert shared("quote image quality=high") and shared("balance") and shared("limits") and shared("")
    assert shared("admin") and shared("hepl") and shared("quote image quality=nonsense")  # help, or an error
    assert not shared("run image") and not shared("done 3 cost=4") and not shared("admin topup design 5")
    assert parse_command_line({"type": "block_actions"}) is None
