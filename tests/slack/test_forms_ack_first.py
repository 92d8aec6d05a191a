"""The quote form and the stale-hold form check read-only, ack, and only then write.

A refusal the checks can see (a team short of credits, a task already reported) is shown next to its
field and writes nothing; the ack never waits for the database's write lock; a refusal only the write
can see (the task was cancelled meanwhile) reaches the member privately, with what would work.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlmodel import Session, func, select

from bot.credits_file import CreditsConfig
from bot.domain.lifecycle import TaskEvent
from bot.services.balances.team_balances import open_team_cycle
from bot.services.tasks.holds import release_credits
from bot.slack.blocks.holds import HoldFormState
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.tasks import Task
from bot.store.tables.workspace import ProcessedRequest
from tests.bot_harness import ALICE, WORKSPACE, BotUnderTest
from tests.conftest import Clock
from tests.slack.tasks_helpers import balance, tasks

TEAM = json.dumps({"team": "design"})
RUN = "run image quality=standard variants=4 banner"  # 16 + 4 expected retries = 20 credits held


def select_value(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def typed(value: str) -> dict[str, Any]:
    return {"quote_field": {"type": "number_input", "value": value}}


def video_form(seconds: int) -> dict[str, Any]:
    """The quote form filled in for a high-quality video of ``seconds`` (12 credits a second)."""
    return {
        "quote_tool_input": {"quote_tool": select_value("video")},
        "quote_quality_input:video": {"quote_field": select_value("high")},
        "quote_duration_input": typed(str(seconds)),
    }


def count(bot: BotUnderTest, model: type[Any]) -> int:
    with bot.db.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@contextmanager
def write_lock_held(bot: BotUnderTest, inside: Callable[[Session], None] = lambda _: None) -> Iterator[None]:
    """Another writer holds SQLite's write lock for the block (``inside`` runs in its transaction first)."""
    if not bot.db.is_sqlite:
        pytest.skip("SQLite's single write lock")
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with bot.db.write() as session:
            inside(session)
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(5)
        yield
        assert not release.is_set() and holder.is_alive()  # every ack came back while the lock was held
    finally:
        release.set()
        holder.join()


def test_a_team_short_of_credits_is_told_next_to_the_variants_and_nothing_is_written(bot: BotUnderTest) -> None:
    answer = bot.submit_view("quote_form", TEAM, video_form(3600), user=ALICE)  # 54,000 credits, 5,500 available
    body = json.loads(answer.text)
    assert body["response_action"] == "errors" and list(body["errors"]) == ["quote_variants_input"]
    assert (
        "Team design is 48,500 credits short: this needs 54,000, 5,500 are available"
        in body["errors"]["quote_variants_input"]
    )
    bot.finish_work()
    assert tasks(bot) == [] and count(bot, LedgerEntry) == 0 and count(bot, ProcessedRequest) == 0
    assert bot.standin.messages("D0ALICE") == []


def test_an_overdrawn_team_is_told_next_to_the_variants(bot: BotUnderTest) -> None:
    bot.command("admin adjust design -6000 invoice correction", user="U0CAROL")
    entries = count(bot, LedgerEntry)
    answer = bot.submit_view("quote_form", TEAM, video_form(1), user=ALICE)
    errors = json.loads(answer.text)["errors"]
    assert "Team design is overdrawn by 500 credits" in errors["quote_variants_input"]
    bot.finish_work()
    assert tasks(bot) == [] and count(bot, LedgerEntry) == entries


def test_the_quote_form_is_acked_while_another_writer_holds_the_lock(bot: BotUnderTest) -> None:
    bot.command("balance")
    with write_lock_held(bot):
        answer = bot.submit_view("quote_form", TEAM, video_form(4), user=ALICE)
        assert (answer.status_code, answer.text) == (200, "")
        assert tasks(bot) == []  # the run itself waits for the lock, after the ack
    bot.finish_work()
    assert [t.tool for t in tasks(bot)] == ["video"]
    assert "Task #1 needs approval" in bot.standin.messages("D0ALICE")[-1]["text"]  # over 50: not an error


def hold_form(bot: BotUnderTest) -> str:
    """The stale-hold form's metadata for Alice's only task (reminder not redrawn: answered by DM)."""
    [task] = tasks(bot)
    assert task.id is not None
    return HoldFormState(task_id=task.id, mode="usage").model_dump_json()


def test_the_hold_form_is_acked_while_another_writer_holds_the_lock(bot: BotUnderTest) -> None:
    bot.command(RUN)
    metadata = hold_form(bot)
    with write_lock_held(bot):
        answer = bot.submit_view(
            "hold_finish", metadata, {"hold_retries": {"value": typed("0")["quote_field"]}}, user=ALICE
        )
        assert (answer.status_code, answer.text) == (200, "")
        assert tasks(bot)[0].status == "held"
    bot.finish_work()
    assert (tasks(bot)[0].status, balance(bot).spent) == ("done", 16)


def test_a_task_cancelled_while_the_form_waited_is_told_privately_and_charges_nothing(
    bot: BotUnderTest, config: CreditsConfig, clock: Clock
) -> None:
    bot.command(RUN)
    metadata = hold_form(bot)

    def cancel_meanwhile(session: Session) -> None:  # the holder's own write: the task is cancelled first
        row = open_team_cycle(session, config, workspace_id=WORKSPACE, team="design", now=clock())
        task = session.exec(select(Task)).one()
        release_credits(
            session,
            config,
            row,
            task,
            amount=task.held,
            event=TaskEvent.CANCEL,
            key=f"release:cancel:{task.id}",
            now=clock(),
        )

    with write_lock_held(bot, cancel_meanwhile):
        answer = bot.submit_view(
            "hold_finish", metadata, {"hold_retries": {"value": typed("0")["quote_field"]}}, user=ALICE
        )
        assert (answer.status_code, answer.text) == (200, "")  # the checks saw a held task
    bot.finish_work()
    assert (tasks(bot)[0].status, balance(bot).spent) == ("cancelled", 0)
    told = [c.args for c in bot.standin.calls_to("chat.postEphemeral") if c.args.get("user") == ALICE]
    assert len(told) == 1 and "already cancelled" in told[0]["text"]
