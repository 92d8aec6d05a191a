"""Ledger rows for the benchmarks' bulk inserts, built from the domain's deltas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.ledger import Delta, EntryKind


def ledger_row(
    workspace_id: str, team: str, kind: EntryKind, delta: Delta, key: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    """One ``ledger_entry`` row as a dict for SQLAlchemy Core ``insert()``."""
    return {
        "workspace_id": workspace_id,
        "team": team,
        "kind": kind.value,
        "plan_delta": delta.plan,
        "extra_delta": delta.extra,
        "held_delta": delta.held,
        "spent_delta": delta.spent,
        "member": extra.get("member"),
        "tool": extra.get("tool"),
        "task_id": extra.get("task_id"),
        "idempotency_key": key,
        "note": extra.get("note"),
        "created_at": at,
    }
