"""The developers' guide's layers, read from the source: ``bot/store`` holds every query.

Services may get a row by its key (``session.get``) and add rows, but build no statement and run none:
a query there is found by the next reader in the wrong place, away from the store's other queries
(their indexes, their locks, both dialects).
"""

from __future__ import annotations

import ast
from pathlib import Path

import bot

SERVICES = Path(bot.__file__).parent / "services"
QUERY_BUILDERS = {"select", "delete", "update", "insert", "text", "func"}
RUNNERS = {"exec", "execute", "scalars", "scalar", "query"}


def queries_in(source: str, name: str) -> list[str]:
    """``name:line what`` for each query builder imported and each statement run in the module."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("sqlmodel", "sqlalchemy"):
            found += [f"{name}:{node.lineno} imports {a.name}" for a in node.names if a.name in QUERY_BUILDERS]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS:
            found.append(f"{name}:{node.lineno} runs a statement (.{node.func.attr})")
    return found


def test_services_build_and_run_no_query() -> None:
    modules = sorted(SERVICES.rglob("*.py"))  # every capability package, not only the top of bot/services
    assert len(modules) > 1
    problems = [p for path in modules for p in queries_in(path.read_text(), path.relative_to(SERVICES).as_posix())]
    assert problems == []


def test_the_check_sees_a_query_built_in_a_service() -> None:
    source = "from sqlmodel import Session, select\n\ndef f(session):\n    return session.exec(select(1)).first()\n"
    assert queries_in(source, "asks.py") == ["asks.py:1 imports select", "asks.py:4 runs a statement (.exec)"]
