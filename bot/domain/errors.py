"""Errors whose message is meant for the person who typed the command."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserFacingError(Exception):
    """A mistake the user can fix: the message says what was wrong and what would work."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt word (``imgae`` -> ``image``), if any is close enough."""
    options = list(candidates)
    matches = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name(kind: str, word: str, candidates: Iterable[str], *, what: str = "") -> UserFacingError:
    """An error for an unknown tool/quality/option/team, suggesting the closest known one.

    ``what`` says whose it is: ``Unknown quality `hihg` for image. Did you mean `high`?``.
    """
    options = sorted(candidates)
    guess = closest(word, options)
    hint = f" Did you mean `{guess}`?" if guess else ""
    whose = f" {what}" if what else ""
    return UserFacingError(f"Unknown {kind} `{word}`{whose}.{hint} Known: {', '.join(f'`{o}`' for o in options)}.")
