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
    ASK_LIMIT_RAISE = "ask_limit_raise"
    ASK_EXTRA_CREDITS = "ask_extra_credits"
    BOUGHT_CREDITS = "bought_credits"


class CallbackId(StrEnum):
    """Modals."""

    DENY_REASON = "deny_reason"
    HOLD_FINISH = "hold_finish"
    RAISE_UNTIL = "raise_until"


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
    ASK_ACTIONS = "ask_actions"
    ASK_BOUGHT = "ask_bought"
    RAISE_UNTIL_INPUT = "raise_until_input"


class MetadataEvent(StrEnum):
    """``metadata.event_type`` of messages the bot posts, so it can find them again."""

    APPROVAL_REQUEST = "keter_credits_approval"
    ASK_REQUEST = "keter_credits_ask"
