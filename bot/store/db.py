"""The engine and transactions: SQLite by default (WAL, busy timeout, BEGIN IMMEDIATE), PostgreSQL in production.

``Database.write()`` is the only way to change the ledger. On SQLite it starts with ``BEGIN IMMEDIATE``
so a transaction that reads a balance and then writes holds the write lock from its first statement
(``SELECT ... FOR UPDATE`` does nothing there); on PostgreSQL the repository locks the team's balance
row with ``FOR UPDATE`` instead.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from bot.store import rollups  # noqa: F401  (registers the task rollup's flush hook on every Session)
from bot.store.slack_deliveries import claim_request

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 32  # pooled connections per process: more than the request threads (16 by default)

# A delivery waiting to be claimed by the first write transaction of the request being handled.
_pending_claim: ContextVar[tuple[str, datetime] | None] = ContextVar("pending_delivery_claim", default=None)


@dataclass
class _SharedRead:
    """The one read transaction every ``read()`` of a read-only request shares, opened by its first read."""

    db: Database
    session: Session | None = None

    def end(self) -> None:
        """End the transaction (a write came between reads): the next read starts a fresh one."""
        if self.session is not None:
            self.session.rollback()


_shared_read: ContextVar[_SharedRead | None] = ContextVar("shared_read", default=None)


class DeliveryAlreadyHandledError(RuntimeError):
    """The delivery's first write found its claim taken: the same delivery was handled before."""


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the shipped migrations; ``env.py`` runs them on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writes can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_begin") == "immediate"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for the URL, with SQLite set up for concurrent writers."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # SQLAlchemy's default pool keeps 5 SQLite connections and closes every overflow one on return:
        # with 16 request threads that meant a new connection (PRAGMAs, schema parse) per request under
        # load. Keep enough for every thread; an idle SQLite connection costs a few pages of memory.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)


class Database:
    """The engine plus the two ways in: a read transaction and a write transaction."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine.execution_options(sqlite_begin="immediate") if self.is_sqlite else self.engine
        # SQLite has one writer at a time; queueing this process's writers on a lock is fair and fast,
        # where SQLite's own busy handler makes them sleep with growing back-off (a multi-second tail).
        self._sqlite_writer = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed.

        Inside ``one_read()`` every call yields the same session, so a request's reads (its config
        check, its balance, its history…) are one transaction: one snapshot, one connection, one BEGIN.
        """
        shared = _shared_read.get()
        if shared is not None and shared.db is self:
            if shared.session is None:
                shared.session = Session(self.engine, expire_on_commit=False)
            try:
                yield shared.session
            except BaseException:
                shared.session.rollback()  # a failed statement must not poison the request's later reads
                raise
            return
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """Within the block, in this thread, every ``read()`` shares one read transaction.

        For a read-only request (``/credits quote``, ``balance``…): its reads would otherwise each
        begin, check out a connection and roll back. A ``write()`` inside ends the shared transaction
        first, so a read after it sees what was written. Other threads (Bolt's listener pool) never
        share it: context variables do not cross into them.
        """
        shared = _SharedRead(self)
        token = _shared_read.set(shared)
        try:
            yield
        finally:
            _shared_read.reset(token)
            if shared.session is not None:
                shared.session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (holding SQLite's write lock from the start), committed on success."""
        shared = _shared_read.get()
        if shared is not None and shared.db is self:
            shared.end()
        with self._one_writer(), Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            pending = _pending_claim.get()
            if pending is not None:
                _pending_claim.set(None)
                if not claim_request(session, signature_hash=pending[0], now=pending[1]):
                    raise DeliveryAlreadyHandledError(pending[0])
            yield session

    @contextmanager
    def claim_on_first_write(self, delivery_key: str, now: datetime) -> Iterator[None]:
        """Handle a delivery once: its first write transaction (if any) also records ``delivery_key``.

        The claim commits or rolls back with the effect it guards, so a replay of a delivery that
        wrote finds it and raises ``DeliveryAlreadyHandledError``, and a read-only request writes nothing.
        """
        token = _pending_claim.set((delivery_key, now) if delivery_key else None)
        try:
            yield
        finally:
            _pending_claim.reset(token)

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        if self._sqlite_writer is None:
            yield
            return
        with self._sqlite_writer:
            yield

    def ping(self) -> None:
        """``SELECT 1`` on a pooled connection: raises when the database does not answer."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to date (or up to ``revision``) with the Alembic migrations shipped in the package."""
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)

    def dispose(self) -> None:
        """Close pooled connections (tests, shutdown)."""
        self.engine.dispose()
