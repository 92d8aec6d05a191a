"""Issue 10 item 4: two identical ``/credits run`` arriving at the same instant create one task."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.devtools.signing import sign
from tests.bot_harness import BotUnderTest
from tests.slack.tasks_helpers import tasks

ROUNDS = 10


def deliver(bot: BotUnderTest, gate: threading.Barrier, item: tuple[str, dict[str, str]]) -> int:
    """Send one signed request the moment the other thread is ready to send its own."""
    gate.wait()
    return bot.post(*item).status_code


def test_two_identical_runs_at_the_same_instant_create_one_task(bot: BotUnderTest) -> None:
    """Two deliveries (different signatures, so not replays) of one run; the duplicate check is under the lock."""
    for round_ in range(ROUNDS):
        text = f"run image quality=draft round {round_}"
        requests = [bot.command_body(text) for _ in range(2)]
        signed = [(body, sign(bot.signing_secret, body)) for body, _ in requests]
        start = threading.Barrier(2)

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(lambda item, gate=start: deliver(bot, gate, item), signed)) == [200, 200]
        answers = [bot.standin.wait_for_response(url, timeout=10)[0].payload for _, url in requests]
        notes = [t.note for t in tasks(bot)]
        assert notes.count(f"round {round_}") == 1, f"round {round_}: {notes}"
        shown = " ".join(str(a.get("text", "")) + str(a.get("blocks", "")) for a in answers)
        assert "second task" in shown, shown  # the other one was asked whether it meant a second task
