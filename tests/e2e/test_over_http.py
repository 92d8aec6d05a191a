"""A command, a click and a replay over real HTTP: what the in-process tests cannot see (the socket, the WSGI edge)."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.devtools.signing import sign
from bot.store.tables.ledger import LedgerEntry
from bot.store.tables.workspace import ProcessedRequest
from tests.e2e.conftest import BOB, CAROL, HttpBot
from tests.slack.tasks_helpers import OVER_TASK_LIMIT, approvals, balance, request_message, tasks


def test_replayed_request_has_no_second_effect(bot: HttpBot) -> None:
    """A replayed top-up adds nothing; its delivery was recorded with the entry it wrote."""
    body, response_url = bot.command_body("admin topup design 500", user=CAROL)
    headers = sign(bot.signing_secret, body)
    first = bot.post(body, headers)
    bot.standin.wait_for_response(response_url)
    second = bot.post(body, headers)
    assert first.status_code == 200 and second.status_code == 200
    # A later request that writes is answered, so the replay was ignored rather than still in flight.
    bot.command("admin topup design 1", user=CAROL)
    with bot.db.read() as session:
        assert session.exec(select(func.count()).select_from(ProcessedRequest)).one() == 2
        topups = session.exec(select(LedgerEntry.note).where(col(LedgerEntry.kind) == "extra")).all()
    assert len(topups) == 1 + 2  # the opening extra credits, 500 once, then 1
    assert len([r for r in bot.standin.responses if r.url == response_url]) == 1


def test_a_command_and_a_click_over_http(bot: HttpBot) -> None:
    reply = bot.command(OVER_TASK_LIMIT)
    assert reply.status == 200 and reply.body == ""
    assert "Task #1 needs approval" in reply.text
    message = request_message(bot)
    response, _ = bot.click("approval_approve", str(message["value"]), user=BOB, message_ts=str(message["ts"]))
    assert response.status_code == 200
    update = bot.standin.wait_for_call("chat.update")[0].args
    assert update["ts"] == message["ts"] and "Approved* by <@U0BOB>" in str(update["blocks"])
    assert [a.status for a in approvals(bot)] == ["approved"]
    assert tasks(bot)[0].status == "held" and balance(bot).held == 80
