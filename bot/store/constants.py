"""SQL conditions on fixed sets of constants, written into the statement once instead of bound per call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.orm import Mapped


def one_of(column: Mapped[Any], values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b', …)`` with the values in the SQL text.

    ``column.in_(values)`` binds an expanding list that SQLAlchemy renders anew at every execution
    (it showed in the profile of every quote); constants in the text compile once with the statement.
    Only plain names (entry kinds, statuses) are accepted, so nothing needs quoting.
    """
    names = list(values)
    for name in names:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain name: {name!r}")
    return column.in_([literal_column(f"'{name}'") for name in names])
