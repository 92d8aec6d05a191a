"""``/credits pricing [tool]``: the price list the quotes use, from the credits file with admin changes."""

from __future__ import annotations

from tests.bot_harness import CAROL, BotUnderTest


def test_pricing_lists_every_tool_its_rates_minimum_retries_and_the_plans(bot: BotUnderTest) -> None:
    text = bot.command("pricing").text
    for tool in ("image", "upscale", "video", "voice"):
        assert f"{tool}: credits per" in text
    assert "Rates: draft 1, standard 4 (default), high 8, ultra 16" in text
    assert "Minimum 12 credits per attempt" in text and "No minimum" in text
    assert "cost of retries: 100 % of the attempt it repeats" in text
    assert "Plans: starter 1,000 credits/month, pro 5,000 credits/month" in text
    assert "rounded up to a whole credit once" in text


def test_pricing_of_one_tool_and_an_unknown_one(bot: BotUnderTest) -> None:
    text = bot.command("pricing video").text
    assert "video: credits per second" in text and "image:" not in text
    assert "Unknown tool imgae. Did you mean image?" in bot.command("pricing imgae").text
    assert "Name one tool at most" in bot.command("pricing image video", user=CAROL).text
