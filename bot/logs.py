"""Logging set-up: one line per record, and nothing secret in it.

Bolt and slack_sdk can log request bodies and URLs at debug level; the redaction filter on the
handler removes tokens, signing secrets and response URLs from whatever reaches it. Every message is
then escaped: a control character (a newline, a carriage return, an ANSI escape) in text a member
typed is written as ``\\n``, ``\\x1b``…, so nothing anyone sends can start a line of its own and
forge a record. Only a traceback keeps its own newlines.
"""

from __future__ import annotations

import logging
import re

SECRET_PATTERNS = (
    re.compile(r"xox[abposre]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(
        r"https?(?:://|%3A%2F%2F)[^\s\"'&]*?(?:hooks\.slack\.com|/response/|/commands/|/actions/)[^\s\"'&]*",
        re.IGNORECASE,
    ),
    re.compile(r"(response_url[\"'=:\s]+)[^\s\"'&,}]+"),
)


# C0 and C1 control characters and Unicode's line and paragraph separators.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character written as its escape sequence."""
    return CONTROL_CHARACTERS.sub(lambda m: _NAMED.get(m.group(), m.group().encode("unicode_escape").decode()), text)


class RedactSecrets(logging.Filter):
    """Replace tokens, the signing secret and response URLs in every formatted record, and escape its
    control characters (``escape_controls``) so one record is one line."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = escape_controls(self.redact(message))
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.msg, record.args = redacted, None
        return True

    def redact(self, text: str) -> str:
        """The text with every known secret shape replaced."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[redacted]", text)
        return text


def configure_logging(level: str, secrets: list[str]) -> None:
    """Log to stderr at ``level`` through the redaction filter."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
