"""The quote form's behaviour, shared by the shortcut, the Home button, its changes and its submit."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.domain.errors import UserFacingError
from bot.domain.task_commands import RunCommand
from bot.services.quoting.quotes import quote_task
from bot.services.tasks.holds import OverdrawnTeamError, ShortfallError
from bot.services.tasks.run_and_done import check_run
from bot.services.workspace.members import bot_admins
from bot.slack.blocks.quote_form import QuoteFormState, live_quote_blocks, quote_form, read_form, short_of_credits
from bot.slack.context import RequestContext
from bot.slack.ids import ActionId, BlockId


def first_team(ctx: RequestContext, wanted: str | None = None) -> str:
    """The team the form is for: the one asked for, else the member's own (as ``/credits`` picks it)."""
    return ctx.member(wanted or None).team


def new_form(ctx: RequestContext, team: str) -> View:
    """The empty form: pick a tool first."""
    return quote_form(ctx.config.pricing, QuoteFormState(team=team), tool=None, live=live_quote_blocks(None, None, []))


def redraw_form(ctx: RequestContext, view: dict[str, Any]) -> View:
    """The form after a change: quality options for the chosen tool and the live quote."""
    state = QuoteFormState.model_validate_json(view.get("private_metadata") or "{}")
    values = (view.get("state") or {}).get("values") or {}
    tool_choice = (values.get(BlockId.QUOTE_TOOL, {}).get(ActionId.QUOTE_TOOL) or {}).get("selected_option")
    tool = str(tool_choice["value"]) if tool_choice else None
    if tool not in ctx.config.pricing.tools:
        tool = None
    form = read_form(values, ctx.config.pricing, state.team)
    report, problem = None, None
    if form.request is not None:
        try:
            member = ctx.member(state.team)
            report = quote_task(
                ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=member, command=form.request, now=ctx.now
            )
        except UserFacingError as error:
            problem = str(error)
    elif tool is not None:
        problem = " ".join(form.errors.values())
    pricing = ctx.config.pricing
    live = live_quote_blocks(
        report, problem, bot_admins(ctx.config), history_days=pricing.history_days, min_tasks=pricing.history_min_tasks
    )
    return quote_form(ctx.config.pricing, state, tool=tool, live=live)


def check_form(ctx: RequestContext, view: dict[str, Any]) -> tuple[dict[str, str], RunCommand | None]:
    """Before the ack, read-only: field errors (block id → message), or the run the form asks for.

    A team that cannot afford the task is an error next to the variants (what the member can change);
    a run over the member's limits is not: it goes for approval as ``/credits run`` does.
    """
    state = QuoteFormState.model_validate_json(view.get("private_metadata") or "{}")
    values = (view.get("state") or {}).get("values") or {}
    form = read_form(values, ctx.config.pricing, state.team)
    if form.errors or form.request is None:
        return form.errors or {BlockId.QUOTE_TOOL: "Pick a tool."}, None
    command = RunCommand(request=form.request)
    try:
        member = ctx.member(state.team)
        check_run(ctx.deps.db, ctx.config, workspace_id=ctx.workspace_id, member=member, command=command, now=ctx.now)
    except (ShortfallError, OverdrawnTeamError) as refusal:
        return {BlockId.QUOTE_VARIANTS: short_of_credits(refusal)}, None
    except UserFacingError as problem:
        return {BlockId.QUOTE_TOOL: problem.message[:150]}, None
    return {}, command
