"""Asking for more in Slack: the buttons on an answer, the request in the channel, its outcome and forms."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.services.approvals.credit_asks import AskRecord
from bot.services.workspace.records import ApprovalRecord
from bot.slack.blocks.approval import decision_buttons, outcome_line
from bot.slack.blocks.format import credits, day, when
from bot.slack.ids import ActionId, BlockId, CallbackId

ASK_LIMIT_RAISE = "Ask for a limit raise"
ASK_EXTRA_CREDITS = "Ask for extra credits"


class RaiseModalState(BaseModel):
    """What the approve form of a limit raise carries in ``private_metadata``."""

    approval_id: int


def ask_buttons(run_command: str, *, limit_raise: bool, extra_credits: bool) -> list[Block]:
    """**Ask for a limit raise** (over a limit) and/or **Ask for extra credits** (the team is short)."""
    value = run_command[:2000]
    elements = []
    if limit_raise:
        elements.append(ButtonElement(text=ASK_LIMIT_RAISE, action_id=ActionId.ASK_LIMIT_RAISE, value=value))
    if extra_credits:
        elements.append(ButtonElement(text=ASK_EXTRA_CREDITS, action_id=ActionId.ASK_EXTRA_CREDITS, value=value))
    return [ActionsBlock(block_id=BlockId.ASK_ACTIONS, elements=elements)] if elements else []


def _what(approval: ApprovalRecord, ask: AskRecord) -> str:
    if approval.kind == ApprovalKind.LIMIT_RAISE:
        return f"<@{approval.requester}> asks for a *limit raise*: {approval.details}"
    return f"<@{approval.requester}> asks for *{credits(ask.credits)} extra* for team {approval.team}"


def _summary(approval: ApprovalRecord, ask: AskRecord, week_used: int | None) -> SectionBlock:
    lines = [
        _what(approval, ask),
        f"*For*: `{ask.run_command}` ({credits(approval.amount)})"
        if approval.kind == ApprovalKind.LIMIT_RAISE
        else f"*For*: `{ask.run_command}`",
        f"*Why*: {approval.reasons}",
    ]
    if week_used is not None:
        lines.append(f"*Their spend this week*: {credits(week_used)}")
    return SectionBlock(block_id=BlockId.APPROVAL_SUMMARY, text=MarkdownTextObject(text="\n".join(lines)))


def ask_request_blocks(approval: ApprovalRecord, ask: AskRecord, *, week_used: int, zone: ZoneInfo) -> list[Block]:
    """The request as first posted, with Approve / Deny; admins decide in the thread."""
    how = (
        "Approve raises the limits until Sunday, or a day you pick."
        if approval.kind == ApprovalKind.LIMIT_RAISE
        else "Approve, buy them in Keter Labs' billing, then click *Bought* to add them."
    )
    return [
        _summary(approval, ask, week_used),
        decision_buttons(approval),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"An admin decides. {how} Nothing is held. Expires {when(approval.expires_at, zone)}."
                )
            ]
        ),
    ]


def ask_decided_blocks(approval: ApprovalRecord, ask: AskRecord, *, zone: ZoneInfo) -> list[Block]:
    """The request once settled; approved extra credits keep a **Bought** button until they are recorded."""
    outcome = outcome_line(approval, zone)
    if approval.status == ApprovalStatus.APPROVED and approval.kind == ApprovalKind.LIMIT_RAISE and ask.until:
        outcome += f"; raised until {day(ask.until)}"
    blocks: list[Block] = [
        _summary(approval, ask, None),
        ContextBlock(block_id=BlockId.APPROVAL_OUTCOME, elements=[MarkdownTextObject(text=outcome)]),
    ]
    if approval.status == ApprovalStatus.APPROVED and approval.kind == ApprovalKind.EXTRA_CREDITS:
        if ask.bought_at is None:
            blocks.append(
                ActionsBlock(
                    block_id=BlockId.ASK_BOUGHT,
                    elements=[
                        ButtonElement(
                            text=f"Bought — add {ask.credits:,} credits",
                            action_id=ActionId.BOUGHT_CREDITS,
                            value=str(approval.id),
                            style="primary",
                        )
                    ],
                )
            )
        else:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f":moneybag: {credits(ask.bought_credits or 0)} added by <@{ask.bought_by}> "
                            f"at {when(ask.bought_at, zone)}"
                        )
                    ]
                )
            )
    return blocks


def ask_thread_reply(approval: ApprovalRecord, ask: AskRecord) -> str:
    """What the requester is told in the thread."""
    who = f"<@{approval.requester}>"
    if approval.status == ApprovalStatus.APPROVED and approval.kind == ApprovalKind.LIMIT_RAISE:
        until = day(ask.until) if ask.until else "Sunday"
        return (
            f"{who} limit raise approved by <@{approval.decided_by}> until {until} (end of that day): "
            f"`{ask.run_command}` can go ahead now."
        )
    if approval.status == ApprovalStatus.APPROVED and ask.bought_at is not None:
        return (
            f"{who} {credits(ask.bought_credits or 0)} extra were added by <@{ask.bought_by}>: "
            f"`{ask.run_command}` can go ahead now."
        )
    if approval.status == ApprovalStatus.APPROVED:
        return (
            f"{who} approved by <@{approval.decided_by}>: the {credits(ask.credits)} are being bought in Keter Labs' "
            "billing; you'll be told here when they are added."
        )
    if approval.status == ApprovalStatus.DENIED:
        reason = f" Reason: “{approval.decision_note}”." if approval.decision_note else ""
        return f"{who} denied by <@{approval.decided_by}>.{reason}"
    if approval.status == ApprovalStatus.EXPIRED:
        return f"{who} nobody decided in time, so the request expired."
    return f"{who} the request was {approval.status}."


def ask_request_text(approval: ApprovalRecord, ask: AskRecord) -> str:
    """Notification fallback."""
    if approval.kind == ApprovalKind.LIMIT_RAISE:
        return f"Limit raise asked by <@{approval.requester}>: {approval.details}"
    return f"Extra credits asked for team {approval.team}: {credits(ask.credits)}"


def raise_modal(approval: ApprovalRecord, ask: AskRecord, default_until: date) -> View:
    """Approve a limit raise: until this Sunday, or a day the admin picks."""
    return View(
        type="modal",
        callback_id=CallbackId.RAISE_UNTIL,
        title="Approve limit raise",
        submit="Approve",
        close="Back",
        private_metadata=RaiseModalState(approval_id=approval.id).model_dump_json(),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Raise <@{approval.requester}>'s limits ({approval.details}) for `{ask.run_command}`?"
                )
            ),
            InputBlock(
                block_id=BlockId.RAISE_UNTIL_INPUT,
                label="Until (the end of this day)",
                element=DatePickerElement(action_id="until", initial_date=default_until.isoformat()),
            ),
        ],
    )
