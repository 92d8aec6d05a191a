"""Every command name, action_id, block_id and callback_id, shared by builders and listeners."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    """Slash commands the app registers (and the manifest declares)."""

    CREDITS = "/credits"


class BlockId(StrEnum):
    """Block ids, so tests and later updates can find a block."""

    QUOTE_ITEMS = "quote_items"
    QUOTE_VERDICT = "quote_verdict"
    BALANCE_FIGURES = "balance_figures"
    BALANCE_FORECAST = "balance_forecast"
