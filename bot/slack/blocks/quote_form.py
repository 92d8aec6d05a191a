"""The quote form: a modal whose quality options follow the tool, showing the live quote; submit runs it.

The view carries what it is for in ``private_metadata`` (the team); everything else is read back from
``view.state.values`` on each change and on submit, so a change and a submit see the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from bot.credits_file import Pricing
from bot.domain.commands import PROJECT_LIMIT, TaskRequest, parse_project
from bot.domain.errors import UserFacingError
from bot.services.quoting.quotes import QuoteReport
from bot.services.tasks.holds import OverdrawnTeamError, ShortfallError
from bot.slack.blocks.format import credits, credits_exact
from bot.slack.blocks.quote import describe_task, likely_line, verdict_line
from bot.slack.ids import ActionId, BlockId, CallbackId

ON_CHANGE = DispatchActionConfig(trigger_actions_on=["on_character_entered"])
MAX_VARIANTS = 100
MAX_DURATION_SECONDS = 3600


class QuoteFormState(BaseModel):
    """What the quote form carries in ``private_metadata``."""

    team: str


@dataclass(frozen=True)
class FormInput:
    """The form read back: the task asked for (its Project field is its ``project=``), and any field errors
    (block_id → message)."""

    request: TaskRequest | None
    errors: dict[str, str]


def _selected(values: dict[str, Any], block: str, action: str) -> str | None:
    element = values.get(block, {}).get(action) or {}
    option = element.get("selected_option")
    return str(option["value"]) if isinstance(option, dict) else None


def _typed(values: dict[str, Any], block: str, action: str) -> str:
    element = values.get(block, {}).get(action) or {}
    return str(element.get("value") or "").strip()


def _whole(text: str, low: int, high: int, what: str, errors: dict[str, str], block: str) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[block] = f"Type a whole number of {what}, e.g. {low if low else 1}."
        return None
    if not low <= value <= high:
        errors[block] = f"Between {low} and {high:,} {what}."
        return None
    return value


def read_form(values: dict[str, Any], pricing: Pricing, team: str) -> FormInput:
    """The form's task, or what is wrong with each field (shown next to it with ``response_action: errors``)."""
    errors: dict[str, str] = {}
    tool = _selected(values, BlockId.QUOTE_TOOL, ActionId.QUOTE_TOOL)
    if tool is None or tool not in pricing.tools:
        errors[BlockId.QUOTE_TOOL] = "Pick a tool."
        return FormInput(None, errors)
    rates = pricing.tools[tool].rates
    quality = _selected(values, f"{BlockId.QUOTE_QUALITY}:{tool}", ActionId.QUOTE_FIELD)
    if quality is not None and quality not in rates:
        errors[f"{BlockId.QUOTE_QUALITY}:{tool}"] = f"{tool} comes in {', '.join(rates)}."
    variants = _whole(
        _typed(values, BlockId.QUOTE_VARIANTS, ActionId.QUOTE_FIELD),
        1,
        MAX_VARIANTS,
        "variants",
        errors,
        BlockId.QUOTE_VARIANTS,
    )
    duration = None
    if pricing.tools[tool].time_based:
        duration = _whole(
            _typed(values, BlockId.QUOTE_DURATION, ActionId.QUOTE_FIELD),
            1,
            MAX_DURATION_SECONDS,
            "seconds",
            errors,
            BlockId.QUOTE_DURATION,
        )
        if duration is None and BlockId.QUOTE_DURATION not in errors:
            errors[BlockId.QUOTE_DURATION] = f"{tool} is priced by time: how many seconds, e.g. 10?"
    retries = _whole(
        _typed(values, BlockId.QUOTE_RETRIES, ActionId.QUOTE_FIELD), 0, 100, "retries", errors, BlockId.QUOTE_RETRIES
    )
    project = None
    typed_project = _typed(values, BlockId.QUOTE_PROJECT, ActionId.QUOTE_FIELD)
    if typed_project:
        try:  # the same rule as ``project=`` in a command
            project = parse_project(typed_project)
        except UserFacingError as problem:
            errors[BlockId.QUOTE_PROJECT] = problem.message[:150]
    if errors:
        return FormInput(None, errors)
    request = TaskRequest(
        tool=tool,
        quality=quality if quality in rates else None,
        variants=variants or 1,
        duration_seconds=duration,
        retries=retries,
        team=team,
        project=project,
    )
    return FormInput(request, errors)


def short_of_credits(refusal: ShortfallError | OverdrawnTeamError) -> str:
    """The refusal shown next to the variants: how short, and what would work (fewer, or extra credits)."""
    if isinstance(refusal, OverdrawnTeamError):
        return (
            f"Team {refusal.team} is overdrawn by {refusal.overdrawn_by:,} credits: nothing can start until "
            f"an admin adds credits (/credits admin topup)."
        )
    return (
        f"Team {refusal.team} is {refusal.shortfall:,} credits short: this needs {refusal.needed:,}, "
        f"{refusal.available:,} are available. Ask for fewer, or an admin adds extra credits."
    )


def _options(names: list[str]) -> list[Option]:
    return [Option(text=name, value=name) for name in names]


def live_quote_blocks(
    report: QuoteReport | None,
    problem: str | None,
    admins: list[str],
    *,
    history_days: int = 30,
    min_tasks: int = 10,
) -> list[Block]:
    """The live quote under the inputs: total, itemised figures, the likely range (as ``/credits quote``
    says it) and the verdict, or what is missing."""
    if report is None:
        text = problem or "Pick a tool to see what it costs."
        return [SectionBlock(block_id=BlockId.QUOTE_LIVE, text=MarkdownTextObject(text=text))]
    quote = report.quote
    lines = [
        f"*{describe_task(quote)}*: *{credits(quote.total)}*",
        f"First attempt {credits_exact(quote.attempt_cost)} · retries {credits_exact(quote.retries_cost)}",
        f"Team {report.member.team} after it: {credits(report.available_after)}",
    ]
    if report.likely is not None:
        lines.insert(2, likely_line(quote, report.likely, history_days, min_tasks))
    return [
        SectionBlock(block_id=BlockId.QUOTE_LIVE, text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=verdict_line(report, admins))]),
    ]


def quote_form(
    pricing: Pricing,
    state: QuoteFormState,
    *,
    tool: str | None,
    live: list[Block],
    external_id: str | None = None,
) -> View:
    """The modal; the quality select and the duration field follow ``tool``."""
    tools = sorted(pricing.tools)
    tool_select = StaticSelectElement(
        action_id=ActionId.QUOTE_TOOL,
        placeholder="Tool",
        options=_options(tools),
        initial_option=Option(text=tool, value=tool) if tool else None,
    )
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.QUOTE_TOOL, label="Tool", element=tool_select, dispatch_action=True),
    ]
    if tool is not None:
        priced = pricing.tools[tool]
        blocks.append(
            InputBlock(
                # The block id carries the tool, so Slack drops the old choice when the options change.
                block_id=f"{BlockId.QUOTE_QUALITY}:{tool}",
                label="Quality",
                optional=True,
                hint=f"blank: {priced.default_quality}",
                dispatch_action=True,
                element=StaticSelectElement(
                    action_id=ActionId.QUOTE_FIELD, placeholder="Quality", options=_options(list(priced.rates))
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=BlockId.QUOTE_VARIANTS,
            label="Variants",
            optional=True,
            hint="blank: 1",
            dispatch_action=True,
            element=NumberInputElement(
                action_id=ActionId.QUOTE_FIELD, is_decimal_allowed=False, dispatch_action_config=ON_CHANGE
            ),
        )
    )
    if tool is not None and pricing.tools[tool].time_based:
        blocks.append(
            InputBlock(
                block_id=BlockId.QUOTE_DURATION,
                label="Duration (seconds)",
                dispatch_action=True,
                element=NumberInputElement(
                    action_id=ActionId.QUOTE_FIELD, is_decimal_allowed=False, dispatch_action_config=ON_CHANGE
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=BlockId.QUOTE_RETRIES,
            label="Retries",
            optional=True,
            hint="blank: what your team usually needs",
            dispatch_action=True,
            element=NumberInputElement(
                action_id=ActionId.QUOTE_FIELD, is_decimal_allowed=False, dispatch_action_config=ON_CHANGE
            ),
        ),
        InputBlock(
            block_id=BlockId.QUOTE_PROJECT,
            label="Project",
            optional=True,
            hint="the client project it counts against, as project= in /credits run",
            element=PlainTextInputElement(action_id=ActionId.QUOTE_FIELD, max_length=PROJECT_LIMIT),
        ),
        DividerBlock(),
        *live,
    ]
    return View(
        type="modal",
        callback_id=CallbackId.QUOTE_FORM,
        external_id=external_id,
        title="Quote a task",
        submit="Run it",
        close="Close",
        private_metadata=state.model_dump_json(),
        blocks=blocks,
    )


class DoneFormState(BaseModel):
    """What the Done form carries in ``private_metadata``."""

    team: str
    number: int


def done_form(state: DoneFormState, task_label: str) -> View:
    """Done from the Home tab: retries and kept, or the cost Keter Labs charged."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"What did *{task_label}* really cost?")),
        InputBlock(
            block_id=BlockId.DONE_RETRIES,
            label="Retries",
            optional=True,
            hint="blank: none",
            element=NumberInputElement(action_id="value", is_decimal_allowed=False, min_value="0"),
        ),
        InputBlock(
            block_id=BlockId.DONE_KEPT,
            label="Versions kept",
            optional=True,
            element=NumberInputElement(action_id="value", is_decimal_allowed=False, min_value="0"),
        ),
        InputBlock(
            block_id=BlockId.DONE_COST,
            label="Or: the cost Keter Labs charged",
            optional=True,
            hint="instead of retries",
            element=NumberInputElement(action_id="value", is_decimal_allowed=False, min_value="0"),
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.DONE_FORM,
        title=f"Task #{state.number} done",
        submit="Record",
        close="Back",
        private_metadata=state.model_dump_json(),
        blocks=blocks,
    )
