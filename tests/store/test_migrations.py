"""The Alembic chain: one line of revisions, a database at every revision upgrades to head, head is the models.

A database "at" a revision is an empty one upgraded to it, given a small team's rows in the schema of
that revision (a grant, two tasks with their holds and a capture, an approval, the settings, and the
rollups the app keeps beside them once their tables exist). Upgraded to head, every row is still
there and readable through the models, the ledger and the rollups agree (``db check``), and the
ledger still refuses to be rewritten. Runs on SQLite and, when a server is given, PostgreSQL.
"""

from __future__ import annotations

import ast
import os
import re
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select

import bot.store.tables  # noqa: F401  (every table on SQLModel.metadata)
from bot.domain.lifecycle import ApprovalKind, ApprovalStatus
from bot.store import history as history_store
from bot.store.db import MIGRATIONS_DIR, Database, alembic_config, normalise_url
from bot.store.ledger_checks import check_running_balances, check_task_holds
from bot.store.rollup_checks import check_rollups
from bot.store.tables.tasks import Approval
from tests.conftest import POSTGRES_ENV, database_backends

# Shipped before the rule (bot/store/migrations/README.md): these ids, in this order, are in deployed
# databases' alembic_version and never change. Revisions after them carry the id Alembic generated.
SHIPPED = (
    "0001",
    "0002",
    "0003",
    "0004_ledger_facts",
    "0005_stale_holds",
    "0007_workspace_state",
    "0008_team_timezone",
    "0009_charge_feed",
    "0010_budgets",
    "0011_rollups",
    "0013_retry_credits",
    "0014_speed",
    "0016_carried",
    "0017_week_usage",
)
GENERATED_ID = re.compile(r"[0-9a-f]{12}")  # alembic.util.rev_id(): the last 12 hex digits of a uuid4


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


CHAIN = [script.revision for script in reversed(list(script_directory().walk_revisions()))]  # base first


# -- the chain ------------------------------------------------------------------------------------------


def _declared(path: Path) -> tuple[str, str | None, str]:
    """A revision file's ``revision``, ``down_revision`` and docstring, read from its source."""
    tree = ast.parse(path.read_text(), filename=path.name)
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value:
                    values[target.id] = ast.literal_eval(node.value)
    return values["revision"], values["down_revision"], ast.get_docstring(tree) or ""


def chain_problems(declared: dict[str, tuple[str, str | None, str]]) -> list[str]:
    """What is wrong with a set of revision files (name: revision, down_revision, docstring): should be nothing."""
    problems = []
    by_id: dict[str, str] = {}
    for name, (revision, _, _) in sorted(declared.items()):
        if revision in by_id:
            problems.append(f"{name}: revision {revision} is also {by_id[revision]}'s")
        by_id[revision] = name
    for name, (revision, down, doc) in sorted(declared.items()):
        if down is not None and down not in by_id:
            problems.append(f"{name}: down_revision {down} is no revision (dangling)")
        if f"Revision ID: {revision}\n" not in doc + "\n" or f"Revises: {down or ''}".strip() not in doc:
            problems.append(f"{name}: its docstring's Revision ID / Revises lines are not {revision} / {down}")
    bases = sorted(name for name, (_, down, _) in declared.items() if down is None)
    named = {down for _, down, _ in declared.values()}
    heads = sorted(name for name, (revision, _, _) in declared.items() if revision not in named)
    if len(bases) != 1:
        problems.append(f"{len(bases)} bases (down_revision None): {bases}")
    if len(heads) != 1:
        problems.append(f"{len(heads)} heads: {heads} (relink one, see bot/store/migrations/README.md)")
    return problems


def test_the_revisions_are_one_line_from_one_base_to_one_head() -> None:
    files = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    assert chain_problems({path.name: _declared(path) for path in files}) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Alembic only warns about a revision it cannot find
        scripts = script_directory()
        assert len(scripts.get_heads()) == 1 and len(scripts.get_bases()) == 1
        assert len(CHAIN) == len(files)


def test_the_check_sees_two_heads_and_a_dangling_down_revision() -> None:
    declared = {
        "a.py": ("a", None, "Revision ID: a\nRevises:"),
        "b.py": ("b", "a", "Revision ID: b\nRevises: a"),
        "c.py": ("c", "a", "Revision ID: c\nRevises: a"),
        "d.py": ("d", "gone", "Revision ID: d\nRevises: gone"),
    }
    assert chain_problems(declared) == [
        "d.py: down_revision gone is no revision (dangling)",
        "3 heads: ['b.py', 'c.py', 'd.py'] (relink one, see bot/store/migrations/README.md)",
    ]


def test_shipped_revisions_keep_their_ids_and_new_ones_take_alembics() -> None:
    assert tuple(CHAIN[: len(SHIPPED)]) == SHIPPED
    assert [rev for rev in CHAIN[len(SHIPPED) :] if not GENERATED_ID.fullmatch(rev)] == []


# -- a database at every revision upgrades to head --------------------------------------------------------

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
DAY = AT.date()
W, TEAM, ALICE, CAROL = "T0MIGRATE", "design", "U0ALICE", "U0CAROL"


def _entry(n: int, kind: str, key: str, **figures: Any) -> dict[str, Any]:
    deltas = {f"{name}_delta": figures.pop(name, 0) for name in ("plan", "extra", "held", "spent")}
    row = {"id": n, "workspace_id": W, "team": TEAM, "kind": kind, "idempotency_key": key, "created_at": AT}
    return row | deltas | figures


def _task(n: int, **fields: Any) -> dict[str, Any]:
    shape = {"tool": "image", "quality": "high", "variants": 4, "requester": ALICE, "created_at": AT}
    return {"id": n, "number": n, "workspace_id": W, "team": TEAM, **shape, **fields}


def representative_rows(tables: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The team's rows for the tables a revision has; columns it does not have yet are left out later.

    A grant of 100, task #1 holding 40 (approved), task #2 held 20 and done at 30: plan 70, held 40,
    spent 30. The derived tables (history, member usage, finished tasks) hold what the store would
    have kept for these rows; before their revision creates them, the migration backfills them.
    """
    rows: dict[str, list[dict[str, Any]]] = {
        "team_balance": [
            {"workspace_id": W, "team": TEAM, "cycle_start": date(2026, 11, 1), "plan": 70, "extra": 0}
            | {"held": 40, "spent": 30, "entry_count": 4, "updated_at": AT}
        ],
        "ledger_entry": [
            _entry(1, "grant", "grant:design:2026-11-01", plan=100, note="plan for the cycle"),
            _entry(2, "hold", "hold:task:1", held=40, member=ALICE, tool="image", task_id=1),
            _entry(3, "hold", "hold:task:2", held=20, member=ALICE, tool="image", task_id=2),
            _entry(4, "capture", "capture:task:2", plan=-30, held=-20, spent=30, member=ALICE, tool="image", task_id=2),
        ],
        "task": [
            _task(1, quoted_cost=40, held=40, status="held", retries_planned=1, fingerprint="image|high|4"),
            _task(2, quoted_cost=20, held=0, status="done", actual_cost=30, retries_used=1, kept=2, finished_at=AT),
        ],
        "daily_spend": [{"workspace_id": W, "team": TEAM, "day": DAY, "tool": "image", "spent": 30}],
        "processed_request": [{"signature_hash": "a" * 64, "received_at": AT}],
        "approval": [
            {"id": 1, "workspace_id": W, "team": TEAM, "task_id": 1, "kind": "task", "requester": ALICE}
            | {"amount": 40, "reasons": "over the per-task limit of 30 by 10 credits", "details": "40 credits"}
            | {"status": "approved", "channel_id": "C0DESIGN", "message_ts": "1700000000.000100"}
            | {"decided_by": CAROL, "decided_at": AT, "announced": True, "expires_at": AT + timedelta(days=1)}
            | {"created_at": AT}
        ],
        "audit_entry": [
            {"id": 1, "workspace_id": W, "team": TEAM, "actor": CAROL, "action": "approve", "target": "task #1"}
            | {"details": '{"credits": 40}', "created_at": AT}
        ],
        "member_role": [{"workspace_id": W, "team": TEAM, "user_id": ALICE, "role": "creator"}],
        "role_limit": [{"workspace_id": W, "role": "creator", "task_limit": 30, "weekly_limit": 300}],
        "team_setting": [
            {"workspace_id": W, "team": TEAM, "channel": "C0DESIGN", "plan": "studio", "timezone": "Europe/Berlin"}
        ],
        "scheduled_post": [
            {"id": 1, "workspace_id": W, "kind": "digest", "team": TEAM, "slot_key": "2026-W48", "slot_at": AT}
            | {"scheduled": True, "state": "posted", "version": 2, "attempts": 1, "chart_state": "none"}
            | {"created_at": AT, "updated_at": AT, "posted_at": AT}
        ],
        "digest_schedule": [{"workspace_id": W, "team": TEAM, "schedule": "mon 09:00", "set_by": CAROL, "set_at": AT}],
        "scheduler_lease": [{"name": "schedule", "holder": "web.1", "expires_at": AT}],
        "workspace_state": [{"workspace_id": W, "installed": True, "reason": "installed", "changed_at": AT}],
        "keter_balance": [
            {"workspace_id": W, "team": TEAM, "plan_credits": 70, "extra_credits": 0, "as_of": AT, "difference": 0}
        ],
        "webhook_delivery": [{"webhook_id": "msg_1", "received_at": AT}],
        "project_budget": [
            {"workspace_id": W, "team": TEAM, "project": "launch", "cycle_start": date(2026, 11, 1), "credits": 500}
            | {"updated_at": AT}
        ],
        "history_rollup": [
            {"workspace_id": W, "team": TEAM, "day": DAY, "member": "", "tool": "", "project": "", "spent": 0}
            | {"retries": 0, "entries": 1},
            {"workspace_id": W, "team": TEAM, "day": DAY, "member": ALICE, "tool": "image", "project": ""}
            | {"spent": 30, "retries": 0, "entries": 1},
        ],
        "member_usage": [{"workspace_id": W, "team": TEAM, "member": ALICE, "hour": AT, "amount": 40 + 20 + 10}],
    }
    shape = {"quality": "high", "variants": 4, "duration_seconds": -1, "retries_used": 1, "actual_cost": 30}
    finished = {"workspace_id": W, "team": TEAM, "tool": "image", **shape, "tasks": 1, "kept_tasks": 1, "kept": 2}
    rows["task_rollup"] = [finished | {"day": DAY}]
    rows["task_rollup_week"] = [finished | {"week": DAY}]  # DAY is a Monday
    if "credit_ask" in tables:  # approvals without a task came with it
        rows["approval"].append(
            {"id": 2, "workspace_id": W, "team": TEAM, "task_id": None, "kind": "extra_credits", "requester": ALICE}
            | {"amount": 200, "reasons": "a launch", "details": "", "status": "pending", "announced": False}
            | {"expires_at": AT + timedelta(days=1), "created_at": AT}
        )
        rows["credit_ask"] = [
            {"approval_id": 2, "workspace_id": W, "team": TEAM, "member": ALICE, "credits": 200, "run_command": ""}
        ]
    return {table: table_rows for table, table_rows in rows.items() if table in tables}


def _filler(column_type: sa.types.TypeEngine[Any]) -> Any:
    """A value for a NOT NULL column the representative rows do not name (one added by a later revision)."""
    return {int: 0, str: "", bool: False, float: 0.0, datetime: AT, date: DAY}[column_type.python_type]


def seed(connection: sa.Connection, **more: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the representative rows (and ``more`` per table) into the schema as it is; returns the rows per table."""
    columns = {table: found for (_, table), found in sa.inspect(connection).get_multi_columns().items()}
    counts = {}
    seeded = representative_rows(set(columns))
    for name, rows in more.items():
        seeded[name] = seeded.get(name, []) + rows
    for name, rows in seeded.items():
        table = sa.table(name, *(sa.column(c["name"], c["type"]) for c in columns[name]))
        required = [c for c in columns[name] if not c["nullable"] and c["default"] is None]
        for row in rows:  # one at a time: the rows of a table do not all name the same columns
            values = {key: value for key, value in row.items() if key in table.c}
            values |= {c["name"]: _filler(c["type"]) for c in required if c["name"] not in values}
            connection.execute(table.insert().values(values))
        counts[name] = len(rows)
    return counts


def test_the_representative_rows_name_only_columns_of_the_models() -> None:
    head = SQLModel.metadata.tables
    rows = representative_rows(set(head))
    assert set(rows) == set(head) - {"keter_charge"}  # a raw charge comes with its entries: left out
    assert [f"{t}.{c}" for t, table_rows in rows.items() for row in table_rows for c in row if c not in head[t].c] == []


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL database of this module's own; each test works in a fresh schema of it."""
    server = normalise_url(os.environ[POSTGRES_ENV])
    name = f"keter_migrate_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=database_backends())
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no tables at all: an SQLite file, or an empty PostgreSQL schema first on the search path
    (a schema costs far less than a database; the migrations name no schema)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield db
        db.dispose()
        return
    url = request.getfixturevalue("postgres_server")
    schema = f"at_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db = Database(f"{url}?options=-csearch_path%3D{schema}")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT current_schema()")).scalar() == schema
    yield db
    db.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.parametrize("revision", CHAIN)
def test_a_database_at_every_revision_upgrades_to_head(empty_database: Database, revision: str) -> None:
    db = empty_database
    db.upgrade(revision)
    with db.engine.begin() as connection:
        seeded = seed(connection)
    db.upgrade()

    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == CHAIN[-1]
        counts = {name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar() for name in seeded}
    assert counts == seeded
    with db.read() as session:
        for mapper in SQLModel._sa_registry.mappers:  # every row reads back through its model (enums, times)
            session.exec(select(mapper.class_)).all()
        assert check_running_balances(session) == []
        assert check_task_holds(session) == []
        assert check_rollups(session) == []
        history = session.execute(sa.text("SELECT * FROM history_rollup ORDER BY member")).all()
    with db.write() as session:
        history_store.rebuild_history_rollup(session, workspace_id=W, team=TEAM)
    with db.read() as session:
        assert session.execute(sa.text("SELECT * FROM history_rollup ORDER BY member")).all() == history
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE ledger_entry SET note = 'rewritten' WHERE id = 1"))


# -- the overrun rows of before 0004_ledger_facts --------------------------------------------------------

OVERRUNS_RETIRED = "98c726c38678"


def _overrun_request(n: int, task_id: int, status: str, amount: int) -> dict[str, Any]:
    request = {"id": n, "workspace_id": W, "team": TEAM, "task_id": task_id, "kind": "overrun", "requester": ALICE}
    return (
        request
        | {"amount": amount, "reasons": "cost 30 is 10 over the 20 reserved", "details": ""}
        | {"status": status, "announced": True, "expires_at": AT + timedelta(days=1), "created_at": AT}
    )


def test_a_settled_overrun_request_is_read_as_a_task_request(empty_database: Database) -> None:
    db = empty_database
    db.upgrade(script_directory().get_revision(OVERRUNS_RETIRED).down_revision)
    with db.engine.begin() as connection:
        seed(connection, approval=[_overrun_request(3, 2, "approved", 10)])
    db.upgrade()
    with db.read() as session:
        approval = session.get(Approval, 3)
        assert approval is not None
        assert (approval.kind, approval.status, approval.amount, approval.task_id) == (
            ApprovalKind.TASK,
            ApprovalStatus.APPROVED,
            10,
            2,
        )


def test_a_task_still_waiting_in_overrun_stops_the_upgrade(empty_database: Database) -> None:
    db = empty_database
    before = script_directory().get_revision(OVERRUNS_RETIRED).down_revision
    db.upgrade(before)
    with db.engine.begin() as connection:
        waiting = _task(3, quoted_cost=20, held=30, status="overrun", actual_cost=30, finished_at=None)
        seed(connection, task=[waiting], approval=[_overrun_request(3, 3, "pending", 10)])
    with pytest.raises(RuntimeError, match=r"1 task\(s\) still wait for the approval of an extra cost"):
        db.upgrade()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == before


# -- head is the models ------------------------------------------------------------------------------------


def test_at_head_the_schema_is_the_models(empty_database: Database) -> None:
    """What autogenerate would write for the models against a fresh head: nothing (types and server defaults
    compared too). Not compared: the ledger's append-only triggers, checked above."""
    empty_database.upgrade()
    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, SQLModel.metadata) == []
