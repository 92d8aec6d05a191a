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


class CallbackId(StrEnum):
    """Modals."""

    DENY_REASON = "deny_reason"


class BlockId(StrEnum):
    """Block ids, so tests and later updates can find a block."""

    QUOTE_ITEMS = "quote_items"
    QUOTE_VERDICT = "quote_verdict"
    BALANCE_FIGURES = "balance_figures"
    BALANCE_FORECAST = "balance_forecast"
    APPROVAL_SUMMARY = "approval_summary"
    APPROVAL_ACTIONS = "approval_actions"
    APPROVAL_OUTCOME = "approval_outcome"
    DENY_REASON_INPUT = "deny_reason_input"
    TASK_ACTIONS = "task_actions"


class MetadataEvent(StrEnum):
    """``metadata.event_type`` of messages the bot posts, so it can find them again."""

    APPROVAL_REQUEST = "keter_credits_approval"
