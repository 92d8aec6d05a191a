"""The approval request in the team's channel: posted with buttons, redrawn once decided, and the modal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.services.workspace.records import ApprovalRecord, TaskRecord
from bot.slack.blocks.format import credits, task_shape, when
from bot.slack.ids import ActionId, BlockId, CallbackId

OUTCOME_WORDS = {
    ApprovalStatus.APPROVED: ":white_check_mark: *Approved*",
    ApprovalStatus.DENIED: ":no_entry: *Denied*",
    ApprovalStatus.EXPIRED: ":hourglass: *Expired*",
    ApprovalStatus.CANCELLED: ":heavy_multiplication_x: *Cancelled*",
    ApprovalStatus.WITHDRAWN: ":heavy_multiplication_x: *Withdrawn*",
}


class DenyModalState(BaseModel):
    """What the deny modal carries in ``private_metadata``."""

    approval_id: int = Field(ge=1, le=2**31 - 1)


def task_line(task: TaskRecord, *, numbered: bool = True) -> str:
    """``#12 image · high · 4 variants`` plus the note."""
    shape = task_shape(task.tool, task.quality, task.variants, task.duration_seconds)
    line = f"#{task.number} {shape}" if numbered else shape
    return f"{line} “{task.note}”" if task.note else line


def already_charged(task: TaskRecord) -> str | None:
    """``Keter Labs already charged 64 credits for it (its hold was 40)``: what the approver must see of a
    task charged before anyone decided (None: no charges yet)."""
    if task.charged <= 0:
        return None
    if task.charged > task.quoted_cost:
        return f"Keter Labs already charged {credits(task.charged)} for it (its hold was {task.quoted_cost:,})"
    return f"Keter Labs already charged {credits(task.charged)} of the {credits(task.quoted_cost)} held for it"


def charged_pending_text(approval: ApprovalRecord, task: TaskRecord) -> str:
    """The request's thread, when Keter Labs charges a task waiting for approval beyond its hold."""
    return (
        f":warning: {already_charged(task)}, while it waits for approval. A charge is a fact: it stays spent "
        f"whatever is decided; approving lets <@{approval.requester}> finish task #{task.number}."
    )


def _summary(approval: ApprovalRecord, task: TaskRecord, week_spend: int | None) -> SectionBlock:
    lines = [
        f"<@{approval.requester}> asks to run task *{task_line(task)}* for *{credits(approval.amount)}*",
        f"*Cost*: {approval.details}" if approval.details else f"*Cost*: {credits(approval.amount)}",
        f"*Why it needs approval*: {approval.reasons}",
    ]
    charged = already_charged(task)
    if charged is not None:
        lines.append(f":warning: *Already charged*: {charged}")
    if week_spend is not None:
        lines.append(f"*Their spend this week*: {credits(week_spend)}")
    return SectionBlock(block_id=BlockId.APPROVAL_SUMMARY, text=MarkdownTextObject(text="\n".join(lines)))


def decision_buttons(approval: ApprovalRecord) -> ActionsBlock:
    """Approve and Deny, carrying the request's id (a task's request and a request for more alike)."""
    return ActionsBlock(
        block_id=BlockId.APPROVAL_ACTIONS,
        elements=[
            ButtonElement(text="Approve", action_id=ActionId.APPROVE, value=str(approval.id), style="primary"),
            ButtonElement(text="Deny", action_id=ActionId.DENY, value=str(approval.id), style="danger"),
        ],
    )


def request_blocks(approval: ApprovalRecord, task: TaskRecord, *, week_spend: int, zone: ZoneInfo) -> list[Block]:
    """The request as first posted: summary, buttons, and where the discussion goes."""
    return [
        _summary(approval, task, week_spend),
        decision_buttons(approval),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{credits(approval.amount)} are held meanwhile. Discuss in the thread; "
                    "a lead or admin decides. "
                    f"Expires {when(approval.expires_at, zone)}."
                )
            ]
        ),
    ]


def outcome_line(approval: ApprovalRecord, zone: ZoneInfo) -> str:
    """``Approved by @bob at Tue 24 Nov 11:05``; the reason for a denial."""
    words = OUTCOME_WORDS.get(approval.status, approval.status)
    # an expiry is shown at the time the request promised, not when the sweep happened to run
    moment = approval.expires_at if approval.status == ApprovalStatus.EXPIRED else approval.decided_at
    at = f" at {when(moment, zone)}" if moment else ""
    who = f" by <@{approval.decided_by}>" if approval.decided_by else ""
    line = f"{words}{who}{at}"
    if approval.decision_note:
        line += f": “{approval.decision_note}”"
    return line


def decided_blocks(approval: ApprovalRecord, task: TaskRecord, *, zone: ZoneInfo) -> list[Block]:
    """The request once settled: same summary, no buttons, the outcome."""
    return [
        _summary(approval, task, None),
        ContextBlock(
            block_id=BlockId.APPROVAL_OUTCOME, elements=[MarkdownTextObject(text=outcome_line(approval, zone))]
        ),
    ]


def thread_reply(approval: ApprovalRecord, task: TaskRecord) -> str:
    """What the requester is told in the thread."""
    who = f"<@{approval.requester}>"
    if approval.status == ApprovalStatus.APPROVED:
        return (
            f"{who} approved by <@{approval.decided_by}>: task #{task.number} can go ahead. When it is done: "
            f"`/credits done {task.number} retries=<n> kept=<n>`."
        )
    if approval.status == ApprovalStatus.DENIED:
        reason = f" Reason: “{approval.decision_note}”." if approval.decision_note else ""
        return f"{who} denied by <@{approval.decided_by}>; the {credits(approval.amount)} held were released.{reason}"
    if approval.status == ApprovalStatus.EXPIRED:
        held = credits(approval.amount)
        return f"{who} nobody decided in time, so the request expired and the {held} held were released."
    return f"{who} the request was {approval.status}; the credits held were released."


def unpostable_text(approval: ApprovalRecord, task: TaskRecord | None, channel: str, error: str) -> str:
    """The requester's direct message when their request (for a task, or for more) could not be posted."""
    why = {
        "not_in_channel": f"I'm not in <#{channel}>",
        "channel_not_found": f"I can't find <#{channel}>",
        "is_archived": f"<#{channel}> is archived",
    }.get(error, f"Slack refused it in <#{channel}> ({error})")
    if task is None:
        what = "a limit raise" if approval.kind == ApprovalKind.LIMIT_RAISE else "extra credits"
        return (
            f"Your request for {what} could not be posted: {why}. It was withdrawn. Once an admin has fixed the "
            "channel (`/invite @credits` there, or `/credits admin team`), quote the task again and ask once more."
        )
    return (
        f"Your approval request for task #{task.number} could not be posted: {why}. It was withdrawn and the "
        f"{credits(approval.amount)} held were released. Once an admin has fixed the channel (`/invite @credits` "
        "there, or `/credits admin team`), run it again."
    )


def request_text(approval: ApprovalRecord, task: TaskRecord) -> str:
    """Notification fallback."""
    return f"Approval needed: {credits(approval.amount)} for task #{task.number} ({task.tool})"


def deny_modal(approval: ApprovalRecord, task: TaskRecord | None) -> View:
    """Ask for an optional reason before denying (``task`` None: a request for more)."""
    what = (
        f"task *{task_line(task)}* ({credits(approval.amount)})"
        if task is not None
        else f"request for {'a limit raise' if approval.kind == ApprovalKind.LIMIT_RAISE else 'extra credits'}"
    )
    return View(
        type="modal",
        callback_id=CallbackId.DENY_REASON,
        title="Deny request",
        submit="Deny",
        close="Back",
        private_metadata=DenyModalState(approval_id=approval.id).model_dump_json(),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"Deny <@{approval.requester}>'s {what}?")),
            InputBlock(
                block_id=BlockId.DENY_REASON_INPUT,
                label="Reason (shown in the thread)",
                optional=True,
                element=PlainTextInputElement(action_id="reason", multiline=True, max_length=400),
            ),
        ],
    )
