"""Issue 10 item 11: every post to a channel keeps to one message per second (requests, thread replies…).

The in-process app normally runs with pacing off (bot_harness); here it gets the real one-second pacer,
and the stand-in's arrival times show the spacing. This is Slack's limit, a lower bound, not a speed.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient

from bot.app import make_client
from bot.slack.outbound.pacing import PacedWebClient, Pacer
from tests.bot_harness import BOB, DESIGN_CHANNEL, BotUnderTest, app_settings
from tests.slack.tasks_helpers import approvals

SLACK_INTERVAL = 1.0
CLOCK_SLACK = 0.15  # the stand-in stamps arrival: one call may be slower on its way than the next (unpaced: ~0.01 s)


def channel_posts(bot: BotUnderTest) -> list[float]:
    """Arrival times of every message posted to the team's channel, thread replies included."""
    return [c.at for c in bot.standin.calls_to("chat.postMessage") if c.args.get("channel") == DESIGN_CHANNEL]


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_requests_and_thread_replies_to_one_channel_are_a_second_apart(bot: BotUnderTest) -> None:
    assert bot.app is not None and isinstance(bot.app.client, PacedWebClient)
    bot.app.client.pacer = Pacer(SLACK_INTERVAL)
    runs = [f"run image quality=ultra variants=4 moodboard {n}" for n in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(bot.command, runs))  # three requests reach the channel at the same instant
    for approval in approvals(bot):
        bot.click("approval_approve", str(approval.id), user=BOB, message_ts=str(approval.message_ts))
    bot.finish_work()
    times = sorted(channel_posts(bot))
    assert len(times) == 6  # three requests, three thread replies
    assert min(gaps(times)) >= SLACK_INTERVAL - CLOCK_SLACK, gaps(times)


def test_every_client_the_bot_builds_shares_the_process_pacer(bot: BotUnderTest) -> None:
    """The web app's client and the scheduler's (``make_client``) book the same channel slots."""
    settings = app_settings(bot.standin, "secret")
    first, second = make_client(settings), make_client(settings)
    assert isinstance(first, PacedWebClient) and isinstance(second, PacedWebClient)
    assert first.pacer is second.pacer
    assert not isinstance(WebClient(), PacedWebClient)
