"""``Database.one_read``: a request's reads share one transaction; a write ends it, so later reads see the write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.store.db import Database
from bot.store.tables.keter import KeterBalance
from tests.bench.bench_statements import traced

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def snapshot(team: str) -> KeterBalance:
    return KeterBalance(workspace_id="T1", team=team, plan_credits=1, extra_credits=2, as_of=AT)


def teams(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.exec(select(KeterBalance.team)).all())


def test_reads_inside_one_read_share_one_session_and_transaction(database: Database) -> None:
    with database.write() as session:
        session.add(snapshot("design"))
    with traced(database) as trace, database.one_read():
        with database.read() as first:
            assert teams(database) == ["design"]
        with database.read() as second:
            assert second is first
        assert teams(database) == ["design"]
    assert trace.transactions == 1
    with database.read() as outside, database.read() as other:
        assert outside is not other  # outside one_read, each read is its own


def test_a_write_inside_one_read_is_seen_by_the_reads_after_it(database: Database) -> None:
    with database.one_read():
        assert teams(database) == []
        with database.write() as session:
            session.add(snapshot("video"))
        assert teams(database) == ["video"]


def test_a_failed_read_does_not_spoil_the_next_one(database: Database) -> None:
    with database.one_read():
        assert teams(database) == []
        with pytest.raises(DBAPIError), database.read() as session:  # PostgreSQL aborts the transaction
            session.connection().execute(text("SELECT no_such_column FROM keter_balance"))
        assert teams(database) == []
