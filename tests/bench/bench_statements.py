"""SQL statements and transactions per ``/credits quote`` and ``/credits balance``, listed.

The real app (``create_app``) in-process on a fresh SQLite file (or ``--postgres-url``), the Slack Web
API stand-in, signed commands dispatched as Bolt's adapters do. After a warm-up (caches filled, the
team's balance row written once), SQLAlchemy's ``begin`` and ``before_cursor_execute`` events count
what one more request of each kind sends to the database, and the statements are printed in order.
Run on purpose (pytest never collects ``bench_*.py``)::

    python tests/bench/bench_statements.py [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from bot.credits_file import load_config  # noqa: E402
from bot.devtools.slack_standin import SlackStandIn  # noqa: E402
from bot.store.db import Database, normalise_url  # noqa: E402
from tests.bot_harness import ALICE, BOB, CAROL, DESIGN_CHANNEL, BotUnderTest, in_process_bot  # noqa: E402
from tests.conftest import Clock  # noqa: E402

COMMANDS = {"quote": "quote image quality=high variants=4", "balance": "balance"}


@dataclass
class Trace:
    """What the database was sent while tracing: transactions begun and statements, in order."""

    transactions: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def traced(db: Database) -> Iterator[Trace]:
    """Count what every connection of ``db``'s engine sends (any thread) until the block ends."""
    trace = Trace()
    lock = threading.Lock()

    def on_begin(_connection: Connection) -> None:
        with lock:
            trace.transactions += 1

    def on_execute(*args: Any) -> None:
        statement = " ".join(str(args[2]).split())
        with lock:
            trace.statements.append(statement)

    event.listen(db.engine, "begin", on_begin)
    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield trace
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "begin", on_begin)


def summary(statement: str) -> str:
    """The statement's verb and the tables it names, short enough for a line."""
    verb = statement.split(" ", 1)[0].upper()
    tables = sorted(set(re.findall(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+\"?(\w+)", statement, flags=re.IGNORECASE)))
    return f"{verb} {', '.join(tables)}".strip()


def main(argv: list[str] | None = None) -> int:
    """Warm the app up, then trace one more quote and one more balance and print what each sent."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres-url", default=None, help="trace on a fresh PostgreSQL database instead")
    parser.add_argument("--full", action="store_true", help="print each statement's SQL in full")
    args = parser.parse_args(argv)
    config = load_config(None)
    clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory(prefix="bench-statements-") as tmp, SlackStandIn() as standin:
        for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
            standin.add_user(user, name=name)
        standin.add_channel(DESIGN_CHANNEL, "design")
        db = _database(args.postgres_url, Path(tmp))
        try:
            bot: BotUnderTest = in_process_bot(standin, db, config, clock)
            for _ in range(3):  # warm-up: config and directory caches, the balance row, statement caches
                for text in COMMANDS.values():
                    assert bot.command(text).payloads, f"no answer to {text!r}"
            for text in COMMANDS.values():
                with traced(db) as trace:
                    reply = bot.command(text)
                assert reply.payloads, f"no answer to {text!r}"
                answered = "answered in the ack" if reply.body.startswith("{") else "answered at response_url"
                statements = [s for s in trace.statements if s.upper() not in ("BEGIN", "ROLLBACK", "COMMIT")]
                counts = f"{trace.transactions} transaction(s), {len(statements)} statement(s)"
                print(f"/credits {text}: {counts} ({answered})")
                for number, statement in enumerate(statements, start=1):
                    print(f"  {number}. {statement if args.full else summary(statement)}")
            bot.finish_work()
        finally:
            db.dispose()
            if args.postgres_url is not None:
                _drop(args.postgres_url, db)
    return 0


def _database(postgres_url: str | None, tmp: Path) -> Database:
    if postgres_url is None:
        db = Database(f"sqlite:///{tmp / 'trace.db'}")
    else:
        from sqlalchemy import create_engine, text

        name = f"keter_trace_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        db = Database(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    db.upgrade()
    return db


def _drop(postgres_url: str, db: Database) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{db.engine.url.database}"'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
