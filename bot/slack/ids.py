"""Every command name, action_id, block_id and callback_id, shared by builders and listeners."""

from __future__ import annotations

from enum import StrEnum


class SlashCommand(StrEnum):
    """Slash commands the app registers (and the manifest declares)."""

    CREDITS = "/credits"


class ActionId(StrEnum):
    """Buttons."""

    APPROVE = "approval_approve"
    DENY = "approval_deny"
    RUN_AGAIN = "run_again"
    HOLD_DONE = "hold_done"
    HOLD_COST = "hold_cost"
    HOLD_CANCEL = "hold_cancel"
    AUDIT_MORE = "audit_more"
    HOME_QUOTE = "home_quote"  # the Home tab's "Quote a task"
    HOME_DONE = "home_done"  # an open task's Done on the Home tab (value: team:number)
    HOME_CANCEL = "home_cancel"  # an open task's Cancel on the Home tab (value: team:number)
    QUOTE_TOOL = "quote_tool"  # the quote form's tool select: the quality options follow it
    QUOTE_FIELD = "quote_field"  # any other quote form input: the live quote follows it
    HISTORY_MORE = "history_more"
    ASK_LIMIT_RAISE = "ask_limit_raise"
    ASK_EXTRA_CREDITS = "ask_extra_credits"
    BOUGHT_CREDITS = "bought_credits"


class CallbackId(StrEnum):
    """Modals."""

    DENY_REASON = "deny_reason"
    HOLD_FINISH = "hold_finish"
    QUOTE_FORM = "quote_form"
    DONE_FORM = "done_form"
    RAISE_UNTIL = "raise_until"


class ShortcutId(StrEnum):
    """Global shortcuts (declared in the manifest under ``features.shortcuts``)."""

    QUOTE_TASK = "quote_task_shortcut"


class FunctionId(StrEnum):
    """Workflow Builder custom steps (``functions`` in the manifest; Bolt's ``app.function``)."""

    QUOTE_TASK = "quote_task"
    REQUEST_CREDITS = "request_credits"


class BlockId(StrEnum):
    """Block ids, so tests and later updates can find a block."""

    QUOTE_ITEMS = "quote_items"
    QUOTE_VERDICT = "quote_verdict"
    BALANCE_FIGURES = "balance_figures"
    BALANCE_FORECAST = "balance_forecast"
    BALANCE_PROJECTS = "balance_projects"
    APPROVAL_SUMMARY = "approval_summary"
    APPROVAL_ACTIONS = "approval_actions"
    APPROVAL_OUTCOME = "approval_outcome"
    DENY_REASON_INPUT = "deny_reason_input"
    TASK_ACTIONS = "task_actions"
    HOLD_SUMMARY = "hold_summary"
    HOLD_ACTIONS = "hold_actions"
    HOLD_RETRIES = "hold_retries"
    HOLD_COST = "hold_cost"
    HOLD_KEPT = "hold_kept"
    AUDIT_LINES = "audit_lines"
    AUDIT_MORE = "audit_more"
    HOME_CHART = "home_chart"
    QUOTE_TOOL = "quote_tool_input"
    QUOTE_QUALITY = "quote_quality_input"
    QUOTE_VARIANTS = "quote_variants_input"
    QUOTE_DURATION = "quote_duration_input"
    QUOTE_RETRIES = "quote_retries_input"
    QUOTE_PROJECT = "quote_project_input"
    QUOTE_LIVE = "quote_live"
    DONE_RETRIES = "done_retries_input"
    DONE_KEPT = "done_kept_input"
    DONE_COST = "done_cost_input"
    HISTORY_LINES = "history_lines"
    HISTORY_MORE = "history_more"
    TASK_REFERENCE = "task_reference"
    BALANCE_RECONCILIATION = "balance_reconciliation"
    ASK_ACTIONS = "ask_actions"
    ASK_BOUGHT = "ask_bought"
    RAISE_UNTIL_INPUT = "raise_until_input"


class MetadataEvent(StrEnum):
    """``metadata.event_type`` of messages the bot posts, so it can find them again."""

    APPROVAL_REQUEST = "keter_credits_approval"
    ASK_REQUEST = "keter_credits_ask"
