"""Direct messages about a stale hold (the reminder with its buttons, the release) and the short finish form."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.commands import MAX_RETRIES, MAX_VARIANTS, parse_count
from bot.domain.errors import UserFacingError
from bot.domain.task_commands import MAX_COST, DoneCommand
from bot.services.workspace.records import TaskRecord
from bot.slack.blocks.approval import task_line
from bot.slack.blocks.format import credits, when
from bot.slack.ids import ActionId, BlockId, CallbackId

FormMode = Literal["usage", "cost"]
MAX_KEPT = MAX_VARIANTS * (MAX_RETRIES + 1)


def reminder_text(task: TaskRecord) -> str:
    """Notification fallback of the reminder."""
    return f"Task #{task.number} still holds {credits(task.held)}: did it run?"


def reminder_blocks(task: TaskRecord, *, release_at: datetime, zone: ZoneInfo) -> list[Block]:
    """The reminder: what is held since when, when it goes back, and three buttons."""
    value = str(task.id)
    return [
        SectionBlock(
            block_id=BlockId.HOLD_SUMMARY,
            text=MarkdownTextObject(
                text=f":hourglass: Task *{task_line(task)}* (team {task.team}) still holds *{credits(task.held)}*, "
                f"reserved {when(task.created_at, zone)}.\nDid it run? Tell me what it cost."
            ),
        ),
        ActionsBlock(
            block_id=BlockId.HOLD_ACTIONS,
            elements=[
                ButtonElement(text="Done", action_id=ActionId.HOLD_DONE, value=value, style="primary"),
                ButtonElement(text="It cost more/less", action_id=ActionId.HOLD_COST, value=value),
                ButtonElement(text="Cancel", action_id=ActionId.HOLD_CANCEL, value=value, style="danger"),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Unreported, the hold is released {when(release_at, zone)}. "
                    f"Or type `/credits done {task.number} retries=<n> kept=<n>`."
                )
            ]
        ),
    ]


def release_text(task: TaskRecord, released: int) -> str:
    """Notification fallback of the release message."""
    return f"Task #{task.number} was never reported: its {credits(released)} were released"


def release_blocks(task: TaskRecord, released: int, *, zone: ZoneInfo) -> list[Block]:
    """The hold went back: what, and what to do if the task did run."""
    return [
        SectionBlock(
            block_id=BlockId.HOLD_SUMMARY,
            text=MarkdownTextObject(
                text=f":leftwards_arrow_with_hook: Task *{task_line(task)}* (team {task.team}) was never reported, "
                f"so its *{credits(released)}* were released, reserved {when(task.created_at, zone)}."
            ),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"If it did run, `/credits done {task.number}` still records what it cost "
                    "(from the team's available credits)."
                )
            ]
        ),
    ]


def outcome_blocks(task: TaskRecord, outcome: list[Block]) -> list[Block]:
    """The reminder once answered: the buttons give way to what happened."""
    return [
        SectionBlock(
            block_id=BlockId.HOLD_SUMMARY,
            text=MarkdownTextObject(text=f"Task *{task_line(task)}* (team {task.team})"),
        ),
        *outcome,
    ]


class HoldFormState(BaseModel):
    """What the finish form carries in ``private_metadata``: the task, which form, and the reminder to redraw."""

    task_id: int
    mode: FormMode
    channel: str = ""
    ts: str = ""


def _number(
    block_id: str, label: str, *, minimum: int, maximum: int, optional: bool, initial: int | None
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=NumberInputElement(
            action_id="value",
            is_decimal_allowed=False,
            min_value=minimum,
            max_value=maximum,
            initial_value=initial,
        ),
    )


def finish_form(task: TaskRecord, state: HoldFormState) -> View:
    """Done: retries and versions kept; It cost more/less: the credits charged and versions kept."""
    if state.mode == "usage":
        first = _number(BlockId.HOLD_RETRIES, "Retries", minimum=0, maximum=MAX_RETRIES, optional=False, initial=0)
        intro = f"Task *{task_line(task)}* holds {credits(task.held)}. How many retries did it take?"
    else:
        first = _number(
            BlockId.HOLD_COST, "Credits Keter Labs charged", minimum=0, maximum=MAX_COST, optional=False, initial=None
        )
        intro = f"Task *{task_line(task)}* holds {credits(task.held)}. What did Keter Labs charge for it?"
    return View(
        type="modal",
        callback_id=CallbackId.HOLD_FINISH,
        title=f"Task #{task.number} done",
        submit="Record",
        close="Back",
        private_metadata=state.model_dump_json(),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=intro)),
            first,
            _number(BlockId.HOLD_KEPT, "Versions kept", minimum=0, maximum=MAX_KEPT, optional=True, initial=None),
        ],
    )


class FormFieldError(Exception):
    """Problems with the form's fields, by block id (shown next to each field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = {block: message[:150] for block, message in errors.items()}


def _value(values: dict[str, Any], block_id: str) -> str:
    return str(((values.get(block_id) or {}).get("value") or {}).get("value") or "").strip()


def form_command(task: TaskRecord, state: HoldFormState, values: dict[str, Any]) -> DoneCommand:
    """The ``done`` the form describes, checked as ``/credits done`` checks it; FormFieldError per field."""
    fields = {
        "retries": (BlockId.HOLD_RETRIES, 0, MAX_RETRIES),
        "cost": (BlockId.HOLD_COST, 0, MAX_COST),
        "kept": (BlockId.HOLD_KEPT, 0, MAX_KEPT),
    }
    wanted = ("retries", "kept") if state.mode == "usage" else ("cost", "kept")
    parsed: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for name in wanted:
        block, low, high = fields[name]
        raw = _value(values, block)
        if not raw:
            if name != "kept":
                errors[block] = f"Give the {name} as a whole number, e.g. {max(low, 1)}."
            parsed[name] = None
            continue
        try:
            parsed[name] = parse_count(name, raw, low, high)
        except UserFacingError as problem:
            errors[block] = problem.message
    if errors:
        raise FormFieldError(errors)
    return DoneCommand(
        number=task.number,
        retries=parsed.get("retries"),
        cost=parsed.get("cost"),
        kept=parsed.get("kept"),
        team=task.team,
    )


def field_for(problem: UserFacingError, state: HoldFormState) -> str:
    """The field a ``done`` refusal is about: the versions kept when it names them, else the first field."""
    if "kept" in problem.message:
        return BlockId.HOLD_KEPT
    return BlockId.HOLD_RETRIES if state.mode == "usage" else BlockId.HOLD_COST
