"""Keter Labs' charges as they arrive (a signed delivery or a CSV file): their shape and how they are read.

A charge is a fact: once its shape is valid it is never refused for a business reason (a refund is
not a charge: it must name one, see ``bot.services.charges.recording``). The same models read the
webhook body and each CSV row, so a charge means the same thing whichever way it came. The webhook's
JSON is read strictly (``"credits": "7"``, ``7.0`` or ``true`` is not a whole number: 400 naming the
field); a CSV cell is text, so its numbers are read from their digits. No text field may hold a NUL or
another control character (PostgreSQL cannot store a NUL, and none belongs in a name).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from bot.domain.ledger import MAX_CREDITS

CSV_COLUMNS = (
    "id",
    "occurred_at",
    "team",
    "user_email",
    "tool",
    "quality",
    "variants",
    "duration_seconds",
    "credits",
    "kind",
    "version_kept",
    "project",
    "reference",
    "refunds",
)
"""The CSV header; a file written before ``refunds`` existed (the same columns without it) is read too."""
REFERENCE_PATTERN = re.compile(r"^\s*KC-(\d{1,9})\s*$", re.IGNORECASE)


def _no_controls(text: str) -> str:
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("must not contain NUL or other control characters")
    return text


Id = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_no_controls)]
TeamName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_no_controls)]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_no_controls)]
ToolName = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_no_controls)]
Short = Annotated[str, Field(max_length=40), AfterValidator(_no_controls)]
Label = Annotated[str, Field(max_length=80), AfterValidator(_no_controls)]
Credits = Annotated[int, Field(ge=1, le=MAX_CREDITS)]
Figure = Annotated[int, Field(ge=-MAX_CREDITS, le=MAX_CREDITS)]


class ChargeKind(StrEnum):
    """What a Keter Labs charge is (the value is the feed's and the file's ``kind``, and what is stored)."""

    ATTEMPT = "attempt"  # a generation
    RETRY = "retry"  # a generation again, after a failed attempt
    REFUND = "refund"  # credits given back


def task_reference(number: int) -> str:
    """``KC-12``: the reference a charge names task #12 by (``REFERENCE_PATTERN`` reads it back)."""
    return f"KC-{number}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Charge(_Strict):
    """One charge: ``credits`` is always positive; a refund gives that many back."""

    id: Id
    occurred_at: AwareDatetime
    team: TeamName
    user_email: Email | None = None
    tool: ToolName
    quality: Short | None = None
    variants: Annotated[int, Field(ge=1, le=10_000)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=86_400)] | None = None
    credits: Credits
    kind: ChargeKind
    version_kept: Annotated[int, Field(ge=0, le=10_000)] | None = None
    project: Label | None = None
    reference: Label | None = None
    refunds: Id | None = None  # a refund: the id of the charge it gives credits back for

    @model_validator(mode="after")
    def _only_a_refund_names_a_charge(self) -> Charge:
        if self.refunds is not None and self.kind != "refund":
            raise ValueError("refunds: only a refund names the charge it gives back")
        return self

    @property
    def task_number(self) -> int | None:
        """The task a ``KC-12`` reference names (None: no reference, or not one of ours)."""
        match = REFERENCE_PATTERN.match(self.reference or "")
        return int(match.group(1)) if match else None


class ChargesData(_Strict):
    """``data`` of a ``charges.created`` delivery."""

    charges: list[Charge] = Field(min_length=1, max_length=1000)


class ChargesCreated(_Strict):
    """A delivery of one or more charges."""

    type: Literal["charges.created"]
    data: ChargesData


class KeterBalanceData(_Strict):
    """Keter Labs' own figure for a team at ``as_of``."""

    team: TeamName
    plan_credits: Figure
    extra_credits: Figure
    as_of: AwareDatetime


@dataclass(frozen=True)
class Reconciliation:
    """Keter Labs' figure for a team against the bot's when it came in (what ``/credits balance`` shows)."""

    team: str
    plan_credits: int
    extra_credits: int
    as_of: datetime
    difference: int  # Keter Labs' plan + extra minus the bot's (0: the bot agrees)


class BalanceUpdated(_Strict):
    """A ``balance.updated`` delivery."""

    type: Literal["balance.updated"]
    data: KeterBalanceData


DELIVERY: TypeAdapter[ChargesCreated | BalanceUpdated] = TypeAdapter(
    Annotated[ChargesCreated | BalanceUpdated, Field(discriminator="type")]
)
"""Any delivery the feed accepts, told apart by ``type``."""


class BadBodyError(ValueError):
    """A body or row that is not the documented shape; the message is one line naming what is wrong."""


def one_line(error: ValidationError) -> str:
    """The first problem of a validation error as ``data.charges.0.credits: Input should be …``."""
    item = error.errors()[0]
    where = ".".join(str(part) for part in item["loc"] if part not in ("charges.created", "balance.updated"))
    return f"{where}: {item['msg']}" if where else str(item["msg"])


def parse_delivery(body: bytes) -> ChargesCreated | BalanceUpdated:
    """Read a webhook body; BadBodyError with a one-line reason when it is not a known delivery."""
    _json(body)  # not JSON at all: said so, before any field is read
    try:
        return DELIVERY.validate_json(body, strict=True)  # JSON's own types: no "7" or 7.0 for a number
    except ValidationError as exc:
        raise BadBodyError(one_line(exc)) from None


def _json(body: bytes) -> object:
    import json

    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadBodyError(f"the body is not JSON ({exc})") from None


@dataclass(frozen=True)
class BadLine:
    """A CSV line that is not a charge: its number (the header is line 1) and why."""

    line: int
    reason: str


def parse_csv(text: str) -> tuple[list[Charge], list[BadLine]]:
    """Every charge of a CSV file and every bad line (number and reason); empty cells are null."""
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if header not in (CSV_COLUMNS, CSV_COLUMNS[:-1]):
        missing = [c for c in CSV_COLUMNS if c not in header]
        extra = [c for c in header if c not in CSV_COLUMNS]
        why = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}" if extra else "out of order"
        return [], [BadLine(1, f"the header must be {','.join(CSV_COLUMNS)} ({why})")]
    charges: list[Charge] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            bad.append(BadLine(line, f"expected {len(header)} columns"))
            continue
        values = {key: (value.strip() or None) for key, value in row.items() if key is not None}
        try:
            charge = Charge.model_validate(values)
        except ValidationError as exc:
            bad.append(BadLine(line, one_line(exc)))
            continue
        if charge.id in seen and charge != charges[seen[charge.id]]:
            bad.append(BadLine(line, f"charge {charge.id} appears earlier with other figures"))
            continue
        seen.setdefault(charge.id, len(charges))
        charges.append(charge)
    return charges, bad


def occurred(charge: Charge, now: datetime) -> datetime:
    """When a charge counts: when it happened, never later than now (a sender's clock may run ahead)."""
    return min(charge.occurred_at, now)
