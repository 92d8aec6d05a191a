"""Shared fixtures: databases (SQLite always, PostgreSQL when a server is given), a clock, the config."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from bot.credits_file import CreditsConfig, load_config
from bot.store.db import Database, normalise_url

# CI replays the same examples every run (derandomize): a red CI run is then reproducible by anyone with
# `CI=true`, and a landing never depends on the luck of the draw. Locally every run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

POSTGRES_ENV = "KETER_TEST_POSTGRES_URL"
NO_POSTGRES = f"{POSTGRES_ENV} is not set: no PostgreSQL server on this machine (bash .ci/run starts one)"
TABLES = (
    "ledger_entry",
    "team_balance",
    "daily_spend",
    "task",
    "processed_request",
    "approval",
    "audit_entry",
    "member_role",
    "role_limit",
    "team_setting",
    "scheduled_post",
    "digest_schedule",
    "keter_charge",
    "webhook_delivery",
    "keter_balance",
    "history_rollup",
    "scheduler_lease",
    "workspace_state",
    "project_budget",
    "credit_ask",
    "member_usage",
    "task_rollup",
    "task_rollup_week",
)


class Clock:
    """A clock the test moves by hand; the app reads it through ``create_app(clock=...)``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """Tuesday 24 Nov 2026, 10:00 UTC (11:00 in Berlin)."""
    return Clock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def config() -> CreditsConfig:
    """The shipped default credits file."""
    return load_config(None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(NO_POSTGRES)
    name = f"keter_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(server).rsplit("/", 1)[0] + f"/{name}"
    migrated = Database(url)
    migrated.upgrade()
    migrated.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_backends() -> list[Any]:
    """SQLite always; PostgreSQL only when a server is given (no skipped half of every test otherwise)."""
    if not os.environ.get(POSTGRES_ENV):
        return ["sqlite"]
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_report_header(config: pytest.Config) -> str:
    """Say once, at the top of the run, which databases the ``database`` tests run on."""
    if os.environ.get(POSTGRES_ENV):
        return "databases: sqlite, postgres"
    return f"databases: sqlite only; the PostgreSQL leg is off ({NO_POSTGRES})"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``database`` once per available backend."""
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", database_backends(), indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session; each test gets its own copy (running Alembic costs ~0.2 s)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ledger.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


def fresh_sqlite(template: Path, tmp_path: Path) -> Database:
    """A private, migrated, empty SQLite database for one test."""
    target = tmp_path / "ledger.db"
    shutil.copyfile(template, target)
    return Database(f"sqlite:///{target}")


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """The same tests on an SQLite file and on a real PostgreSQL server, each starting empty."""
    if request.param == "sqlite":
        db = fresh_sqlite(sqlite_template, tmp_path)
    else:
        db = Database(request.getfixturevalue("postgres_url"))
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """An SQLite database only, for what is specific to SQLite."""
    db = fresh_sqlite(sqlite_template, tmp_path)
    yield db
    db.dispose()
