"""The developers' guide's layers, read from the source: ``bot/store`` holds every query, and who may import whom.

Services may get a row by its key (``session.get``) and add rows, but build no statement and run none:
a query there is found by the next reader in the wrong place, away from the store's other queries
(their indexes, their locks, both dialects).

The import contracts (every import statement counts, also one inside a function or under
``TYPE_CHECKING``; the AST is read, nothing is imported to check it):

- ``bot.credits_file`` imports nothing of the bot; ``bot.domain`` only ``bot.domain`` and
  ``bot.credits_file`` (the credits file's value types); ``bot.store`` only ``bot.domain`` and itself.
- The service packages are layers: workspace < balances < quoting < tasks < approvals and charges,
  and digests and admin over balances and workspace. Each may import ``bot.domain``, ``bot.store``,
  ``bot.credits_file`` and the packages its ``__init__`` docstring names after "May import:" (the
  test holds the docstrings to ``SERVICE_LAYERS``): nothing of Slack, jobs, the feed, the web
  server, devtools or the wiring.
- A listener module imports no other listener module (only the package's registry imports them all)
  and nothing of the listeners package imports ``bot.store``.
- ``bot.slack.blocks`` renders: it imports ``bot.domain``, ``bot.credits_file``, ``bot.slack.ids``
  and, from ``bot.services``, only types and constants (no function, so nothing that writes); never
  ``bot.store``.
- ``bot.jobs`` and ``bot.feed`` import no listener.

The entry points and the composition root (``COMPOSITION_ROOT``) may import anything.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bot

BOT = Path(bot.__file__).parent
SERVICES = BOT / "services"
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
    paths = sorted(SERVICES.rglob("*.py"))
    assert len(paths) > 20  # every service package's modules, not only the top level's
    problems = [p for path in paths for p in queries_in(path.read_text(), str(path.relative_to(SERVICES)))]
    assert problems == []


def test_the_check_sees_a_query_built_in_a_service() -> None:
    source = "from sqlmodel import Session, select\n\ndef f(session):\n    return session.exec(select(1)).first()\n"
    assert queries_in(source, "asks.py") == ["asks.py:1 imports select", "asks.py:4 runs a statement (.exec)"]


# -- import contracts ----------------------------------------------------------------------------------------

COMPOSITION_ROOT = ("bot.__main__", "bot.app", "bot.wiring", "bot.deps", "bot.server", "bot.web", "bot.devtools")
SERVICE_BASE = ("bot.domain", "bot.store", "bot.credits_file")
SERVICE_LAYERS = {
    "workspace": (),
    "balances": ("workspace",),
    "quoting": ("balances", "workspace"),
    "tasks": ("quoting", "balances", "workspace"),
    "approvals": ("tasks", "quoting", "balances", "workspace"),
    "charges": ("tasks", "balances", "workspace"),
    "digests": ("balances", "workspace"),
    "admin": ("balances", "workspace"),
}
LISTENERS = "bot.slack.listeners"
LISTENER_KINDS = ("actions", "commands", "events", "functions", "shortcuts", "views")
BLOCKS_MAY_IMPORT = ("bot.slack.blocks", "bot.slack.ids", "bot.services", "bot.domain", "bot.credits_file")

# Real violations, named and kept visible until they are fixed (the test fails once one is gone, so the
# list never outlives them). Each is ``importer:line imports target``.
KNOWN_VIOLATIONS: set[str] = set()  # a violation kept visible until it is fixed: "module:line imports target"


@dataclass(frozen=True)
class Import:
    importer: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target}"


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def module_names() -> dict[str, Path]:
    """Every module of the bot package (the migrations are Alembic's scripts, not modules)."""
    names = {}
    for path in sorted(BOT.rglob("*.py")):
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports_in(
    source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()
) -> list[Import]:
    """What the module imports of the bot, each with its line; ``from a import b`` names ``a.b`` when it is a module."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, a.name) for a in node.names if _within(a.name, "bot")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            if not _within(base, "bot"):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append(Import(module, node.lineno, submodule if submodule in known else base))
    return found


def violation(imported: Import) -> str | None:
    """Why the import breaks a contract (None: it keeps them all)."""
    importer, target = imported.importer, imported.target
    if any(_within(importer, root) for root in COMPOSITION_ROOT):
        return None
    if importer == "bot.credits_file":
        return "bot.credits_file imports nothing of the bot"
    if _within(importer, "bot.domain") and not any(_within(target, t) for t in ("bot.domain", "bot.credits_file")):
        return "bot.domain imports only bot.domain and bot.credits_file"
    if _within(importer, "bot.store") and not any(_within(target, t) for t in ("bot.domain", "bot.store")):
        return "bot.store imports only bot.domain and bot.store"
    for package, lower in SERVICE_LAYERS.items():
        if _within(importer, f"bot.services.{package}"):
            allowed = (*SERVICE_BASE, f"bot.services.{package}", *(f"bot.services.{p}" for p in lower))
            if not any(_within(target, a) for a in allowed):
                below = "".join(f"services.{p}, " for p in lower)
                return f"services.{package} may import only {below}bot.domain, bot.store, bot.credits_file"
    if _within(importer, LISTENERS):
        if _within(target, "bot.store"):
            return "nothing of bot.slack.listeners imports bot.store"
        listener = any(_within(target, f"{LISTENERS}.{kind}") for kind in LISTENER_KINDS)
        if listener and importer != LISTENERS and not _within(target, importer):
            return "a listener module imports no other listener module (only the listeners' registry does)"
    if _within(importer, "bot.slack.blocks") and not any(_within(target, a) for a in BLOCKS_MAY_IMPORT):
        return "bot.slack.blocks imports only " + ", ".join(BLOCKS_MAY_IMPORT)
    if any(_within(importer, p) for p in ("bot.jobs", "bot.feed")) and _within(target, LISTENERS):
        return "bot.jobs and bot.feed import no listener"
    return None


def contract_failures(
    source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()
) -> list[str]:
    """``importer:line imports target (the contract)`` for every import of the module that breaks one."""
    failures = []
    for imported in imports_in(source, module, is_package=is_package, known=known):
        why = violation(imported)
        if why is not None:
            failures.append(f"{imported} ({why})")
    return failures


def all_imports() -> Iterator[Import]:
    names = module_names()
    known = frozenset(names)
    for module, path in names.items():
        yield from imports_in(path.read_text(), module, is_package=path.name == "__init__.py", known=known)


def test_every_import_keeps_the_contracts() -> None:
    broken = {str(i): f"{i} ({why})" for i in all_imports() if (why := violation(i)) is not None}
    assert sorted(message for key, message in broken.items() if key not in KNOWN_VIOLATIONS) == []
    assert sorted(KNOWN_VIOLATIONS - set(broken)) == []  # fixed: take it off KNOWN_VIOLATIONS


def test_blocks_import_only_types_and_constants_from_services() -> None:
    """No function of a service (so nothing that reads or writes the database) is reachable from a block."""
    functions = []
    for module, path in module_names().items():
        if not _within(module, "bot.slack.blocks"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and _within(node.module or "", "bot.services"):
                source = importlib.import_module(node.module or "")
                for alias in node.names:
                    imported = getattr(source, alias.name)
                    if callable(imported) and not inspect.isclass(imported):
                        functions.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}, a function")
    assert functions == []


def test_the_checker_names_the_importer_its_line_and_the_forbidden_target() -> None:
    source = (
        "from bot.domain.ledger import EntryKind\n"
        "from bot.services.workspace import members\n"
        "\n"
        "def later():\n"
        "    from bot.slack.blocks.tasks import done_text\n"
        "    from ..approvals import decisions\n"
    )
    known = frozenset({"bot.services.workspace.members", "bot.services.approvals.decisions"})
    assert contract_failures(source, "bot.services.tasks.planted", known=known) == [
        "bot.services.tasks.planted:5 imports bot.slack.blocks.tasks (services.tasks may import only services.quoting, "
        "services.balances, services.workspace, bot.domain, bot.store, bot.credits_file)",
        "bot.services.tasks.planted:6 imports bot.services.approvals.decisions (services.tasks may import only "
        "services.quoting, services.balances, services.workspace, bot.domain, bot.store, bot.credits_file)",
    ]
    listener = "from bot.slack.listeners.views import quote_form\nimport bot.store.db\n"
    known = frozenset({"bot.slack.listeners.views.quote_form"})
    assert contract_failures(listener, "bot.slack.listeners.actions.home", known=known) == [
        "bot.slack.listeners.actions.home:1 imports bot.slack.listeners.views.quote_form (a listener module imports "
        "no other listener module (only the listeners' registry does))",
        "bot.slack.listeners.actions.home:2 imports bot.store.db (nothing of bot.slack.listeners imports bot.store)",
    ]
    assert contract_failures(listener, LISTENERS, is_package=True, known=known) == [
        "bot.slack.listeners:2 imports bot.store.db (nothing of bot.slack.listeners imports bot.store)"
    ]
    assert contract_failures("from bot.slack import listeners\n", "bot.jobs.planted", known=frozenset({LISTENERS})) == [
        "bot.jobs.planted:1 imports bot.slack.listeners (bot.jobs and bot.feed import no listener)"
    ]
    assert contract_failures("from bot.store.db import Database\n", "bot.wiring") == []  # the composition root


def _declared_layers(docstring: str) -> tuple[list[str], list[str]]:
    """The service packages and the other bot packages a service ``__init__`` says it may import."""
    allowed = re.split(r"\.\s", docstring.split("May import:", 1)[1])[0] if "May import:" in docstring else ""
    return re.findall(r"``services\.(\w+)``", allowed), re.findall(r"``(bot\.[\w.]+)``", allowed)


def test_each_service_package_says_what_it_may_import_as_the_contract_does() -> None:
    packages = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(SERVICE_LAYERS)
    stated = {}
    for package in packages:
        docstring = ast.get_docstring(ast.parse((SERVICES / package / "__init__.py").read_text())) or ""
        services, others = _declared_layers(docstring)
        stated[package] = (tuple(services), tuple(others))
    assert stated == {package: (lower, SERVICE_BASE) for package, lower in SERVICE_LAYERS.items()}
