"""The README and ``docs/*.md`` name only what exists: paths, dotted names, links; one spelling of the interpreter.

A path is anything that starts with ``bot/``, ``tests/`` or ``docs/`` (a file or a folder; ``*`` globs;
``bot/slack/blocks/format.when``, a module's path and one of its names, is read as the dotted name).
A dotted name starts with ``bot.``: the longest importable module, then attributes of it
(``bot.slack.blocks.format.when``), where a dataclass's or a model's field counts as an attribute.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

PATH = re.compile(r"(?<![\w./-])((?:bot|tests|docs)/[\w./*-]*[\w*/])")
DOTTED = re.compile(r"(?<![\w./-])(bot(?:\.\w+)+)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
BARE_PYTHON = re.compile(r"\bpython\b(?![3.-])")


def _page_name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def _has(obj: Any, name: str) -> bool:
    if hasattr(obj, name):
        return True
    if isinstance(obj, type):
        if dataclasses.is_dataclass(obj) and name in {f.name for f in dataclasses.fields(obj)}:
            return True
        if name in getattr(obj, "model_fields", {}):
            return True
        return any(name in getattr(klass, "__annotations__", {}) for klass in obj.__mro__)
    return False


def dotted_name_exists(name: str) -> bool:
    """``bot.a.b.c``: import the longest module prefix, then look each remaining part up as an attribute."""
    parts = name.split(".")
    module: ModuleType | None = None
    rest: list[str] = []
    for cut in range(len(parts), 0, -1):
        candidate = ".".join(parts[:cut])
        try:
            module = importlib.import_module(candidate)
        except ModuleNotFoundError as exc:
            if exc.name is not None and not candidate.startswith(exc.name) and not exc.name.startswith(candidate):
                raise  # the module exists but imports something missing: a real error, not a docs one
            continue
        rest = parts[cut:]
        break
    if module is None:
        return False
    obj: Any = module
    for part in rest:
        if not _has(obj, part):
            return False
        obj = getattr(obj, part, None)
    return True


def path_exists(mentioned: str) -> bool:
    """A file or folder of the repository (``*`` globs), or ``bot/module.attribute``."""
    if "*" in mentioned:
        return any(REPO.glob(mentioned))
    if (REPO / mentioned).exists():
        return True
    head, _, attribute = mentioned.rpartition(".")
    if mentioned.startswith("bot/") and attribute and (REPO / f"{head}.py").is_file():
        return dotted_name_exists(mentioned.replace("/", "."))
    return False


def mentions(text: str) -> tuple[set[str], set[str]]:
    """The paths and the dotted names a page mentions."""
    return set(PATH.findall(text)), set(DOTTED.findall(text))


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
        anchors.add(slug.replace(" ", "-"))
    return anchors


def broken_links(page: Path) -> list[str]:
    """Relative links (and their ``#anchors``) that lead nowhere."""
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    return broken


def test_the_pages_exist() -> None:
    names = {_page_name(page) for page in PAGES}
    for topic in ("credits-file", "ledger", "forecasts", "charge-feed", "reliability", "operations", "speed"):
        assert f"docs/{topic}.md" in names
    assert "docs/architecture.md" in names and "docs/commands.md" in names


@pytest.mark.parametrize("page", PAGES, ids=_page_name)
def test_every_path_and_dotted_name_a_page_mentions_exists(page: Path) -> None:
    paths, dotted = mentions(page.read_text(encoding="utf-8"))
    missing = sorted(p for p in paths if not path_exists(p))
    missing += sorted(d for d in dotted if not dotted_name_exists(d))
    assert missing == [], f"{_page_name(page)} names what does not exist: {', '.join(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=_page_name)
def test_every_relative_link_of_a_page_leads_somewhere(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=_page_name)
def test_a_page_spells_the_interpreter_python3(page: Path) -> None:
    lines = page.read_text(encoding="utf-8").splitlines()
    bare = [f"line {number}: {line.strip()}" for number, line in enumerate(lines, 1) if BARE_PYTHON.search(line)]
    assert bare == []


def test_the_credits_file_page_shows_the_shipped_file() -> None:
    page = (REPO / "docs" / "credits-file.md").read_text(encoding="utf-8")
    shipped = (REPO / "bot" / "default_credits.yml").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", page, flags=re.S)
    assert blocks and blocks[0] in shipped


def test_the_checks_find_what_is_missing(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[a](nowhere.md) [b](#nope)\n# A `heading`: here\n[c](#a-heading-here)\n", encoding="utf-8")
    assert broken_links(page) == ["nowhere.md", "#nope"]
    paths, dotted = mentions("`bot/nothing.py`, bot/app.py, bot.app.create_app, bot.app.nope, https://x/bot/y")
    assert paths == {"bot/nothing.py", "bot/app.py"} and dotted == {"bot.app.create_app", "bot.app.nope"}
    assert not path_exists("bot/nothing.py") and path_exists("bot/app.py") and path_exists("bot/store/tables/*")
    assert path_exists("bot/slack/blocks/format.when") and not path_exists("bot/slack/blocks/format.nope")
    assert dotted_name_exists("bot.app.create_app") and not dotted_name_exists("bot.app.nope")
    assert dotted_name_exists("bot.services.charges.recording.ChargeReport.conflicts")  # a default-factory field
    assert not dotted_name_exists("bot.nothing.here")
    assert BARE_PYTHON.search("python -m bot") and not BARE_PYTHON.search("python3 -m bot, python-dateutil")
