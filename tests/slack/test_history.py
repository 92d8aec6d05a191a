"""``/credits history``, ``run … project=`` and the balance's reconciliation line, through the real app."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.credits_file import CreditsConfig
from bot.domain.keter_charges import Charge, KeterBalanceData
from bot.services.charges import reconciliation as keter_balances
from bot.services.charges import recording as charges
from bot.services.charges.history import HistoryLine
from bot.slack.blocks.history import history_csv
from tests.bot_harness import BOB, WORKSPACE, BotUnderTest
from tests.conftest import Clock

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the harness clock


def feed(bot: BotUnderTest, config: CreditsConfig, *items: dict[str, Any]) -> None:
    parsed = [
        Charge.model_validate(
            {
                "occurred_at": NOW.isoformat(),
                "team": "design",
                "tool": "image",
                "quality": "high",
                "variants": 4,
                "kind": "attempt",
            }
            | item
        )
        for item in items
    ]
    emails = {"alice@studio.example": "U0ALICE", "bob@studio.example": "U0BOB"}
    charges.record_charges(bot.db, config, workspace_id=WORKSPACE, charges=parsed, now=NOW, lookup=emails.get)


def more_value(payload: dict[str, Any]) -> str | None:
    for block in payload.get("blocks") or []:
        for element in block.get("elements", []):
            if element.get("action_id") == "history_more":
                return str(element["value"])
    return None


DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]+)>")


def lines(payload: dict[str, Any]) -> list[str]:
    """The history's lines, each date token read as its fallback (the team's timezone)."""
    found = [b["text"]["text"] for b in payload["blocks"] if b.get("block_id") == "history_lines"]
    return DATE_TOKEN.sub(r"\1", found[0]).split("\n") if found else []


def test_run_with_a_project_gives_the_reference_and_its_charges_inherit_the_project(
    bot: BotUnderTest, config: CreditsConfig
) -> None:
    reply = bot.command("run image quality=high variants=4 project=Nike-spring")
    assert "Reference KC-1 (project nike-spring): put it in the task's project or tag field in Keter Labs" in reply.text
    feed(bot, config, {"id": "ch_1", "credits": 32, "reference": "KC-1", "user_email": "alice@studio.example"})
    history = bot.command("history project=nike-spring")
    assert history.payload["response_type"] == "ephemeral"
    [line] = lines(history.payload)
    assert "<@U0ALICE> · task #1 image · high · 4 variants · nike-spring · *32 credits*" in line
    assert "Spent in this slice: 32 credits · cost of retries 0 credits" in history.text


def test_the_cost_of_retries_counts_retries_reported_with_done(bot: BotUnderTest) -> None:
    """``done 1 retries=1`` on a 32-credit task costs 64: 32 of them are the cost of retries, as in the digest."""
    bot.command("run image quality=high variants=4")
    done = bot.command("done 1 retries=1")
    assert "64 credits charged" in done.text
    history = bot.command("history")
    assert "Spent in this slice: 64 credits · cost of retries 32 credits (50 %)" in history.text


def test_history_pages_of_fifteen_with_more_and_filters(bot: BotUnderTest, config: CreditsConfig) -> None:
    feed(
        bot,
        config,
        *[
            {
                "id": f"ch_{i:02d}",
                "credits": 10 + i,
                "occurred_at": (NOW - timedelta(hours=i)).isoformat(),
                "kind": "retry" if i % 5 == 0 else "attempt",
                "user_email": "bob@studio.example" if i % 2 else "alice@studio.example",
                "tool": "video" if i == 3 else "image",
            }
            for i in range(1, 21)
        ],
    )
    first = bot.command("history").payload
    shown = lines(first)
    assert len(shown) == 15
    assert "extra credits · *+500 credits*" in shown[0] and "plan grant · *+5,000 credits*" in shown[1]
    assert shown[2] == "*Tue 24 Nov 10:00* · <@U0BOB> · unplanned image · high · 4 variants · *11 credits*"  # Berlin
    cursor = more_value(first)
    assert cursor is not None
    _, response_url = bot.click("history_more", cursor, user=BOB)
    second = bot.standin.wait_for_response(response_url)[0].payload
    assert second["replace_original"] is True
    assert len(lines(second)) == 7 and more_value(second) is None
    assert "*30 credits*" in lines(second)[-1]  # the oldest charge

    bobs = bot.command("history <@U0BOB> tool=image days=7")
    assert all("<@U0BOB>" in line for line in lines(bobs.payload)) and len(lines(bobs.payload)) == 9
    retries = 15 + 25  # i = 5 and 15 are bob's retries
    assert f"cost of retries {retries} credits" in bobs.text

    wrong = bot.command("history tool=imgae")
    assert "Unknown tool" in wrong.text and "image" in wrong.text


def test_history_csv_is_uploaded_privately_into_the_members_dm(bot: BotUnderTest, config: CreditsConfig) -> None:
    feed(bot, config, *[{"id": f"ch_{i}", "credits": i, "user_email": "bob@studio.example"} for i in range(1, 31)])
    reply = bot.command("history csv")
    assert "Sent 32 rows of team design's charge history to your direct messages" in reply.text
    assert bot.standin.calls_to("conversations.open")
    [upload] = bot.standin.uploads.values()
    rows = list(csv.reader(io.StringIO(upload.decode())))
    assert rows[0] == [
        "local_time (Europe/Berlin)",
        *("member_id", "member", "what", "tool", "quality", "task", "retries", "charge_kind", "project"),
        *("credits", "kind"),
    ]
    assert len(rows) == 33 and sum(int(r[10]) for r in rows[1:] if r[11] == "spend") == sum(range(1, 31))
    [complete] = bot.standin.calls_to("files.completeUploadExternal")
    assert str(complete.args.get("channel_id", "")).startswith("D")


def test_history_csv_writes_no_formula(bot: BotUnderTest, config: CreditsConfig) -> None:
    """The bug: a project named ``=HYPERLINK(…)`` became a live formula in the spreadsheet (CSV injection)."""
    assert "reserved" in bot.command("run image quality=high variants=2 project=acme").text
    assert "done" in bot.command("done 1 retries=0 kept=2").text
    refund = {"id": "ch_refund", "credits": 40, "kind": "refund", "refunds": "ch_40", "project": "@sum(a1)"}
    feed(bot, config, {"id": "ch_40", "credits": 40}, refund)
    feed(bot, config, {"id": "ch_evil", "credits": 5, "project": '=hyperlink("http://evil.example")'})
    bot.command("history csv")
    [upload] = bot.standin.uploads.values()
    rows = list(csv.reader(io.StringIO(upload.decode())))[1:]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert "'@sum(a1)" in cells
    assert any(row[9].startswith("'=hyperlink(") for row in rows)
    assert "-40" in [row[10] for row in rows]  # a number stays a number, even a negative one


def test_the_csv_names_members_its_timezone_and_has_a_column_per_filter(bot: BotUnderTest) -> None:
    """The bug: members only as ids, ``local_time`` in an unnamed zone, tool and retries inside one text cell."""
    bot.command("run video quality=high duration=2 variants=1")
    bot.command("done 1 retries=1")
    bot.command("history csv")
    [upload] = bot.standin.uploads.values()
    header, *rows = list(csv.reader(io.StringIO(upload.decode())))
    assert header[0] == "local_time (Europe/Berlin)"
    [task] = [dict(zip(header, row, strict=True)) for row in rows if row[6] == "1"]
    assert (task["member_id"], task["member"]) == ("U0ALICE", "alice")
    assert (task["tool"], task["quality"], task["retries"], task["charge_kind"]) == ("video", "high", "1", "capture")
    assert task["what"] == "task #1 video · high · 2 s · 1 variant"


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted() -> None:
    lines = [
        HistoryLine(1, NOW, "U0BOB", "-2+3", "+cmd", -40, True),
        HistoryLine(2, NOW, None, "\tx", "\rx", 7, False),
        HistoryLine(3, NOW, "U0BOB", "image · high", "acme", 12, True),
    ]
    text, count = history_csv(lines, ZoneInfo("UTC"))
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert count == 3
    assert [rows[0][3], *rows[0][9:11]] == ["'-2+3", "'+cmd", "-40"]
    assert [rows[1][3], rows[1][9]] == ["'\tx", "'\rx"]
    assert [rows[2][1], rows[2][3], *rows[2][9:11]] == ["U0BOB", "image · high", "acme", "12"]


def test_balance_shows_whether_the_bot_agrees_with_keter_labs(bot: BotUnderTest, config: CreditsConfig) -> None:
    bot.command("balance")
    data = KeterBalanceData(team="design", plan_credits=5000, extra_credits=500, as_of=NOW)
    keter_balances.record_keter_balance(bot.db, config, workspace_id=WORKSPACE, data=data, now=NOW)
    assert "Keter Labs says 5,000 plan + 500 extra at Tue 24 Nov 11:00 · the bot agrees" in bot.command("balance").text
    data = KeterBalanceData(team="design", plan_credits=4984, extra_credits=500, as_of=NOW + timedelta(minutes=5))
    keter_balances.record_keter_balance(bot.db, config, workspace_id=WORKSPACE, data=data, now=NOW)
    assert "· 16 credits apart" in bot.command("balance").text


def test_the_digest_counts_unplanned_spend_adjustments_and_projects(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    feed(
        bot,
        config,
        {"id": "ch_1", "credits": 70, "user_email": "bob@studio.example", "project": "Launch"},
        {"id": "ch_2", "credits": 30, "user_email": "bob@studio.example", "tool": "video", "project": "Nike"},
        {"id": "ch_3", "credits": 20, "user_email": "alice@studio.example"},
    )
    bot.command("admin adjust design +30 invoice 1182", user="U0CAROL")
    bot.command("admin adjust design +10 invoice 1183", user="U0CAROL")
    clock.advance(minutes=1)  # the preview's week ends now, exclusive
    # an admin's correction is a correction of spend (issue 24): +10 gives 10 of spend back, a line of
    # spend like a refund's (this said "+10 credits", credits added, before adjustments moved spend)
    assert "adjustment: invoice 1183 · *−10 credits*" in lines(bot.command("history").payload)[0]
    digest = bot.command("digest preview").text
    assert "Unplanned: 120 credits in 3 charges, mostly bob, image" in digest  # by name, as the posted digest
    assert "Adjustments: +40 credits in 2 entries" in digest
    assert "By project: Launch 70 credits · Nike 30 credits" in digest
