"""Every kind of reply a person reads, rendered through the real app, checked against the wordings issue 14 found.

One long session drives every subcommand (answers and errors), the approval messages (request, redraws,
thread replies, refusals, the deny modal), the expiry sweep, the scheduled digest and the budget alerts;
every text the bot sent to Slack is then held to the rules below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.credits_file import CreditsConfig
from bot.deps import Deps
from bot.domain.command_line import every_subcommand
from bot.jobs.approval_sweep import sweep_approvals
from bot.jobs.scheduler import JobRunner
from bot.slack.blocks.format import clock_time
from tests.bot_harness import ALICE, BOB, CAROL, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, request_message, tasks

BANNED = {
    "credits extra credits": re.compile(r"credits extra credits"),
    "a plural after 1": re.compile(
        r"(?<![\d.,])1 (credits|versions|variants|tasks|retries|members|seconds|minutes)\b(?![=\w])"
    ),
    "(s)": re.compile(r"\w\(s\)"),
    "quality before the word": re.compile(r"Unknown quality for"),
    "an amount without 'credits'": re.compile(r"request is for [\d,]+\."),
    "no thousands separator": re.compile(r"(?<![\w.,:/=#@-])\d{4,}(?![\d,:\w])"),
    "versions kept": re.compile(r"[Vv]ersions kept|version\(s\)"),
    "the credits file for members": re.compile(r"add you.*credits file"),
    "a raw user or channel id": re.compile(r"(?<![\w<])[@#][UWCG]0[A-Z0-9]{2,}|(?<![\w<@#|/=])[UWCG]0[A-Z0-9]{3,}\b"),
}
SUM = re.compile(r"first attempt ([\d.,]+) \+ [^=]*?([\d.,]+) = ([\d,]+) credits( \([\d.,]+ rounded up\))?")
QUOTE = re.compile(
    r"First attempt\*: ([\d.,]+) credits?.*?Cost of retries\*: .*?→ ([\d.,]+) credits?.*?Total\*: \*([\d,]+) credits?\*"
    r"( \([\d.,]+ rounded up\))?",
    re.S,
)


def texts(value: Any) -> Iterator[str]:
    """Every ``text`` string a payload shows (block ids, values and URLs are not read by people)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("text", "title", "label", "submit", "close", "placeholder") and isinstance(item, str):
                yield item
            else:
                yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def readable(text: str) -> str:
    """Links and date tokens shown by their label; mentions (``<@U…>``, ``<#C…>``) kept: Slack shows names."""
    return re.sub(r"<(?:https?://|mailto:|!date\^)[^|>]*\|([^>]*)>", r"\1", text)


def everything_sent(bot: BotUnderTest) -> list[str]:
    sent: list[Any] = [r.payload for r in bot.standin.responses]
    sent += [c.args for c in bot.standin.calls if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")]
    sent += [c.args.get("view") for c in bot.standin.calls if c.method == "views.open"]
    return [readable(text) for payload in sent for text in texts(payload)]


def _to_float(figure: str) -> float:
    return float(figure.replace(",", ""))


def check_sums(text: str) -> list[str]:
    """A total that is more than its parts says it was rounded up."""
    problems = []
    for pattern in (SUM, QUOTE):
        for match in pattern.finditer(text):
            exact = _to_float(match.group(1)) + _to_float(match.group(2))
            if abs(exact - _to_float(match.group(3))) > 1e-9 and not match.group(4):
                problems.append(f"unexplained rounding: {match.group(0)!r}")
    return problems


def newest_task(bot: BotUnderTest) -> int:
    number = tasks(bot)[-1].number
    assert number is not None
    return number


def drive_every_reply_kind(bot: BotUnderTest, clock: Clock, config: CreditsConfig) -> None:
    """Each subcommand's answers and errors, the approval flow, the sweep, the digest and the alerts."""
    for sub in every_subcommand():  # each declared example, as an admin and as a member
        if sub.example:
            bot.command(sub.example.removeprefix("/credits "), user=CAROL)
    bot.command("admin limit creator task=50 week=300", user=CAROL)  # an example raised it: back to the file's
    for text in [
        "hepl",
        "quote image quality=high variants=4",
        "quote image retries=1",
        "quote voice duration=75",
        "quote video duration=7",
        "quote imgae",
        "quote image quality=hihg",
        "quote video",
        "quote image variants=400",
        "balance",
        "balance nope",
        "run image",
        "run image",
        OVER_TASK_LIMIT,
        "run video quality=high duration=600",
        "done 1 retries=1 kept=1",
        "done 1 kept=9",
        "done 99",
        "tasks",
        "limits",
        "limits <@U0BOB|bob>",
        "pricing",
        "pricing imgae",
        "digest preview",
        "cancel 99",
        "admin topup design 500",
    ]:
        bot.command(text, user=ALICE)
    bot.command("admin topup design 1000 launch", user=CAROL)
    bot.command("admin role <@U0DAN|dan> viewer", user=CAROL)
    bot.command("admin role <@U0DAN|dan> none", user=CAROL)
    bot.command("admin members", user=CAROL)
    bot.command("admin team motion <#C0MOTION|motion> plan=pro tz=Europe/Berlin", user=CAROL)
    bot.command("admin team video2 <#C0DESIGN|design> plan=pro", user=CAROL)
    bot.command("admin limit lead task=2000 week=none", user=CAROL)
    bot.command("run image variants=3 key visuals", user=ALICE)
    bot.command(
        f"done {newest_task(bot)} cost=150 kept=1", user=ALICE
    )  # over the 50 per task: the extra goes for approval
    bot.command("run video quality=high duration=60 variants=3", user=BOB)  # 2,160 + 540 = 2,700: over 2,000
    request = request_message(bot)
    bot.click("approval_approve", str(request["value"]), user=ALICE, message_ts=str(request["ts"]))
    bot.click("approval_approve", str(request["value"]), user=BOB, message_ts=str(request["ts"]))
    bot.click("approval_deny", str(request["value"]), user=CAROL, message_ts=str(request["ts"]))
    bot.click("approval_approve", str(request["value"]), user=CAROL, message_ts=str(request["ts"]))
    bot.click("approval_approve", str(request["value"]), user=CAROL, message_ts=str(request["ts"]))
    clock.advance(hours=30)
    client = WebClient(token=bot.standin.bot_token, base_url=bot.standin.base_url)
    sweep_approvals(Deps(config=config, db=bot.db, clock=clock), client, clock())
    bot.command(f"done {newest_task(bot)} cost=4000", user=BOB)  # approved above: 4,000 crosses 50 and 80 %
    runner = JobRunner(Deps(config=config, db=bot.db, clock=clock), client, use_lease=False)
    runner.run_once()  # the budget alerts
    clock.now = datetime(2026, 11, 30, 8, 1, tzinfo=UTC)  # Monday 09:01 in Berlin: the weekly digest
    runner.run_once()


def test_no_reply_uses_the_wordings_issue_14_found(bot: BotUnderTest, clock: Clock, config: CreditsConfig) -> None:
    drive_every_reply_kind(bot, clock, config)
    sent = everything_sent(bot)
    assert len(sent) > 80, "the session should have produced every kind of reply"
    joined = "\n".join(sent)
    kinds = ("needs approval", "Approved", "Expired", "Price list", "of its plan credits", "Successful versions")
    for must in (*kinds, "Cost of retries", "rounded up"):
        assert must in joined, f"no reply of the kind showing {must!r} was rendered"
    problems = [f"{name}: {text!r}" for text in sent for name, pattern in BANNED.items() if pattern.search(text)] + [
        problem for text in sent for problem in check_sums(text)
    ]
    assert problems == [], "\n".join(problems)


def test_done_with_cost_does_not_say_retries_were_assumed(bot: BotUnderTest) -> None:
    bot.command("run image variants=2")
    reply = bot.command("done 1 cost=6 kept=1").text
    assert "Task #1 done: 6 credits charged" in reply and "1 successful version." in reply
    assert "retries=" not in reply


def test_an_expired_request_shows_the_expiry_it_promised(
    bot: BotUnderTest, clock: Clock, config: CreditsConfig
) -> None:
    bot.command(OVER_TASK_LIMIT)
    request_message(bot)
    clock.advance(hours=30)
    client = WebClient(token=bot.standin.bot_token, base_url=bot.standin.base_url)
    sweep_approvals(Deps(config=config, db=bot.db, clock=clock), client, clock())
    [update] = [c.args for c in bot.standin.calls_to("chat.update")]
    zone = config.teams["design"].zone
    promised = approvals(bot)[0].expires_at
    token = f"<!date^{int(promised.timestamp())}^{{date_short_pretty}} {{time}}|{clock_time(promised, zone)}>"
    assert f"Expired* at {token}" in str(update["blocks"])
