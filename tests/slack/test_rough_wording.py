"""Issue 24's rough edges in wording, found by driving the bot: each reply as a member reads it."""

from __future__ import annotations

from typing import Any

from bot.credits_file import CreditsConfig
from bot.domain.keter_charges import Charge
from bot.services.charges import recording as charges
from tests.bot_harness import ALICE, CAROL, WORKSPACE, BotUnderTest
from tests.conftest import Clock
from tests.slack.test_slack_native import open_home, text_of


def test_a_history_line_says_a_task_s_shape_as_everywhere_with_its_duration(bot: BotUnderTest) -> None:
    assert "reserved" in bot.command("run image variants=1").text
    assert "reserved" in bot.command("run video quality=draft duration=10").text
    bot.command("done 1")
    bot.command("done 2")
    text = bot.command("history").text
    assert "task #1 image · standard · 1 variant ·" in text and "1 variants" not in text
    assert "task #2 video · draft · 10 s · 1 variant ·" in text
    one = bot.command("history tool=video")
    assert "1 line" in one.text and "1 lines" not in one.text
    assert "1 lines" not in one.payload["text"]


def test_the_same_run_again_at_once_is_just_now_not_0_seconds_ago(bot: BotUnderTest) -> None:
    bot.command("run image variants=2 cover")
    again = bot.command("run image variants=2 cover").text
    assert "just now" in again and "0 seconds" not in again


def test_limits_say_how_far_over_the_week_is(bot: BotUnderTest) -> None:
    bot.command("run image variants=1")
    bot.command("done 1 cost=476")
    text = bot.command("limits").text
    assert "476 credits used of 300 credits, 176 credits over" in text and "0 credits left" not in text


def test_the_home_tab_says_used_and_no_weekly_limit_in_words(bot: BotUnderTest) -> None:
    text = text_of(open_home(bot, CAROL))
    assert "0 credits used, no weekly limit" in text and "0 credits no weekly limit" not in text


def test_a_skipped_charge_in_the_audit_trail_says_charge_once(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    def feed(credits: int) -> None:
        charge = Charge.model_validate(
            {"id": "ch_1", "occurred_at": "2026-11-24T10:00:00+00:00", "team": "design", "tool": "image"}
            | {"quality": "high", "variants": 4, "kind": "attempt", "credits": credits}
        )
        charges.record_charges(
            bot.db, config, workspace_id=WORKSPACE, charges=[charge], now=clock(), lookup=lambda _: None
        )

    feed(32)
    feed(40)
    text = bot.command("admin audit", user=CAROL).text
    assert "charge ch_1 skipped: it differs from the one recorded" in text.replace("*", "")
    assert "charge ch_1 charge" not in text.replace("*", "")


def test_a_renewal_reads_with_its_year_alike_in_balance_digest_and_admin_budget(
    bot: BotUnderTest, clock: Clock
) -> None:
    clock.advance(days=10)  # Fri 4 Dec 2026: the renewal is Fri 1 Jan 2027
    bot.command("run image variants=1")
    bot.command("done 1")
    assert "Fri 1 Jan 2027" in bot.command("balance").text
    assert "renews Fri 1 Jan 2027" in bot.command("digest preview").text
    assert "until the renewal on Fri 1 Jan 2027" in bot.command("admin budget design acme 100", user=CAROL).text


def test_the_digest_preview_names_members_as_the_posted_digest_does(bot: BotUnderTest, clock: Clock) -> None:
    bot.command("run image variants=1")
    bot.command("done 1")
    clock.advance(hours=1)
    preview: Any = bot.command("digest preview")
    text = preview.text
    assert "By member: alice 4" in text.replace("*", "") and f"<@{ALICE}>" not in str(preview.payload)
