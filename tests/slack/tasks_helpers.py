"""Shared steps for the tasks and approvals tests."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.store import ledger_reads
from bot.store.tables.tasks import Approval, Task
from tests.bot_harness import DESIGN_CHANNEL, WORKSPACE, BotUnderTest

OVER_TASK_LIMIT = "run image quality=ultra variants=4 moodboard"  # 64 + 16 expected retries = 80 > 50


def balance(bot: BotUnderTest) -> Any:
    with bot.db.read() as session:
        row = ledger_reads.get_balance_row(session, workspace_id=WORKSPACE, team="design")
        assert row is not None
        return ledger_reads.as_balance(row)


def tasks(bot: BotUnderTest) -> list[Task]:
    with bot.db.read() as session:
        return list(session.exec(select(Task).order_by(Task.id)).all())  # type: ignore[arg-type]


def approvals(bot: BotUnderTest) -> list[Approval]:
    with bot.db.read() as session:
        return list(session.exec(select(Approval).order_by(Approval.id)).all())  # type: ignore[arg-type]


def request_message(bot: BotUnderTest) -> dict[str, Any]:
    """The approval request the bot posted in the team's channel."""
    posts = [
        c
        for c in bot.standin.wait_for_call("chat.postMessage")
        if c.args.get("channel") == DESIGN_CHANNEL and not c.args.get("thread_ts")
    ]
    assert posts, "no approval request was posted"
    return bot.standin.messages(DESIGN_CHANNEL)[0] | {"value": _approve_value(posts[-1].args["blocks"])}


def _approve_value(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "approval_approve":
                return str(element["value"])
    raise AssertionError("the request has no Approve button")


def thread_replies(bot: BotUnderTest) -> list[dict[str, Any]]:
    return [c.args for c in bot.standin.calls_to("chat.postMessage") if c.args.get("thread_ts")]
