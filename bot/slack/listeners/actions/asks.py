"""**Ask for a limit raise**, **Ask for extra credits** and **Bought — add N credits**."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain.command_line import parse_command
from bot.domain.errors import UserFacingError
from bot.domain.lifecycle import ApprovalKind
from bot.domain.task_commands import RunCommand
from bot.services.approvals import credit_asks as asks
from bot.slack.context import RequestContext
from bot.slack.flows.approval_decisions import clicked_approval_id
from bot.slack.outbound.announce import announce_safely, post_ask
from bot.slack.payloads import button_value


def _ask(
    kind: ApprovalKind,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    rc: RequestContext,
) -> None:
    """Ask for what the task the button carries lacks, post the request, and tell the member where it is."""
    text = button_value(body).strip().removeprefix("/credits").strip()
    parsed = parse_command(text)
    if not isinstance(parsed, RunCommand):
        raise UserFacingError("That button no longer points at a task; quote it again with `/credits quote …`.")
    ctx = rc.for_command(text)
    member = ctx.member(parsed.request.team)
    asked = asks.ask_for_more(
        rc.deps.db,
        rc.config,
        workspace_id=rc.workspace_id,
        member=member,
        kind=kind,
        command=parsed,
        run_command=f"/credits {text}",
        now=rc.now,
    )
    permalink = post_ask(rc.deps, client, rc.config, asked)
    where = f"<{permalink}|the team's channel>" if permalink else "the team's channel"
    what = "a limit raise" if kind is ApprovalKind.LIMIT_RAISE else "extra credits"
    respond(
        response_type="ephemeral",
        replace_original=False,
        text=f":raised_hand: Asked for {what} in {where}; an admin decides there, "
        "and you'll be mentioned in its thread.",
    )


def handle_ask_limit_raise_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """The member is over a limit: ask an admin to raise it for a while."""
    ack()
    _ask(ApprovalKind.LIMIT_RAISE, body, respond, client, rc)


def handle_ask_extra_credits_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """The team is short (or overdrawn): ask an admin to buy extra credits."""
    ack()
    _ask(ApprovalKind.EXTRA_CREDITS, body, respond, client, rc)


def handle_bought_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, rc: RequestContext
) -> None:
    """The admin bought the credits in Keter Labs' billing: record them once, redraw, tell the requester."""
    ack()
    bought = asks.record_bought(
        rc.deps.db,
        rc.config,
        workspace_id=rc.workspace_id,
        approval_id=clicked_approval_id(body),
        admin=rc.user_id,
        is_workspace_admin=rc.deps.workspace_admins.is_admin(client, rc.workspace_id, rc.user_id),
        now=rc.now,
    )
    if bought.added:
        announce_safely(rc.deps, client, rc.config, bought.approval, None)
        return
    respond(
        response_type="ephemeral",
        replace_original=False,
        text=f"Already recorded: <@{bought.ask.bought_by}> added the {bought.ask.bought_credits or 0:,} credits.",
    )
