"""Listener modules share code only through ``bot.slack`` modules outside ``listeners``, never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LISTENERS = Path(__file__).parents[2] / "bot" / "slack" / "listeners"
NOT_REQUEST_CODE = {"listeners/middleware.py"}
LISTENER_MODULES = sorted(p for p in LISTENERS.glob("*/*.py") if p.name != "__init__.py")
# What runs for a listener: the listeners, the subcommand handlers and the approval deciding. The
# replay guard (middleware) is the only Slack-edge database reader.
REQUEST_CODE = sorted(
    p for p in (LISTENERS.parent).rglob("*.py") if p.relative_to(LISTENERS.parent).as_posix() not in NOT_REQUEST_CODE
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


@pytest.mark.parametrize("path", LISTENER_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_listener_module_imports_no_other_listener_module(path: Path) -> None:
    assert LISTENER_MODULES, "no listener modules found"
    assert not {name for name in imported_modules(path) if name.startswith("bot.slack.listeners")}


@pytest.mark.parametrize("path", REQUEST_CODE, ids=lambda p: p.relative_to(LISTENERS.parent).as_posix())
def test_no_listener_or_handler_opens_a_database_session(path: Path) -> None:
    source = path.read_text()
    assert ".read()" not in source and ".write()" not in source and "bot.store" not in source


def test_no_user_facing_text_speaks_of_issues() -> None:
    """Issue 24: the quote form said "a range arrives with issue 12's estimates"; members never see issues."""
    import ast
    from pathlib import Path

    import bot

    found = []
    for path in Path(bot.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # not shown to anyone
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "issue " in node.value.lower():
                found.append(f"{path}:{node.lineno}")
    assert found == []
