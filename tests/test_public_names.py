"""The public API stays as the documentation uses it: every mtdata name the README and the notebooks use resolves,
and the ``__all__`` of ``mtdata``, ``mtdata.client``, ``mtdata.sandbox`` and ``mtdata.live`` is the committed list.

The README's ``python`` blocks and every notebook's code cells are read with :mod:`ast` (nothing is run): each
``import mtdata...``, each ``from mtdata... import name``, each attribute chain on a name bound to an mtdata module
(``mtdata.connect``, ``mt5.copy_rates_range`` after ``import mtdata.mt5 as mt5``) is imported or looked up, and
each attribute used on a session (a name bound to ``mtdata.connect(...)``) must exist on :class:`Session`,
following properties by their return annotation (``s.panel.ticker``). Moving a module may change where a name is
defined, never whether the documented spelling works. ``tests/public_names.txt`` lists the packages' ``__all__``:
a name removed (or added) without changing that list fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The committed list of the public packages' names, one ``package.name`` per line.
COMMITTED = Path(__file__).with_name("public_names.txt")
PACKAGES = ("mtdata", "mtdata.client", "mtdata.sandbox", "mtdata.live")
#: A fenced python block of the README.
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: The calls whose result is a Session.
CONNECT = frozenset({"mtdata.connect", "mtdata.connect_async"})


def documents() -> dict[str, list[str]]:
    """The code of the README (its python blocks) and of each notebook (its code cells), by file name."""
    found = {"README.md": PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found[path.name] = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    return found


def parse(code: str) -> ast.Module:
    """A cell's syntax tree: top-level ``await`` allowed, IPython's ``%magic`` and ``!shell`` lines left out."""
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    return compile("\n".join(lines), "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def ours(module: str) -> bool:
    """Whether ``module`` is mtdata or one of its modules."""
    return module == "mtdata" or module.startswith("mtdata.")


def chain(node: ast.expr) -> list[str] | None:
    """``["s", "panel", "ticker"]`` for ``s.panel.ticker``; None when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def uses(cells: list[str]) -> tuple[set[str], set[tuple[str, ...]]]:
    """The dotted mtdata names ``cells`` use (in order, as a notebook runs them: an import holds for later cells),
    and the attribute chains they use on sessions (``("panel", "ticker")`` for ``s.panel.ticker``)."""
    aliases = {"mtdata": "mtdata"}  # a name in the cells -> the dotted mtdata name it stands for
    sessions: set[str] = set()
    names: set[str] = set()
    on_sessions: set[tuple[str, ...]] = set()
    for tree in map(parse, cells):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if ours(alias.name):
                        names.add(alias.name)
                        aliases[alias.asname or "mtdata"] = alias.name if alias.asname else "mtdata"
            elif isinstance(node, ast.ImportFrom) and not node.level and ours(node.module or ""):
                for alias in node.names:
                    names.add(f"{node.module}.{alias.name}")
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        sessions |= session_names(tree, aliases)
        for node in ast.walk(tree):
            parts = chain(node) if isinstance(node, ast.Attribute) else None
            if parts and parts[0] in aliases:
                names.add(".".join([aliases[parts[0]], *parts[1:]]))
            elif parts and parts[0] in sessions:
                on_sessions.add(tuple(parts[1:]))
    return names, on_sessions


def session_names(tree: ast.Module, aliases: dict[str, str]) -> set[str]:
    """Names ``tree`` binds to a session: ``s = mtdata.connect(...)``, ``s = await mtdata.connect_async(...)``,
    ``with mtdata.connect(...) as s``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            value, targets = node.context_expr, [node.optional_vars]
        else:
            continue
        value = value.value if isinstance(value, ast.Await) else value
        parts = chain(value.func) if isinstance(value, ast.Call) else None
        if parts and parts[0] in aliases and ".".join([aliases[parts[0]], *parts[1:]]) in CONNECT:
            found |= {target.id for target in targets if isinstance(target, ast.Name)}
    return found


def resolves(name: str) -> bool:
    """Whether a dotted name imports: its longest module prefix imported, then each further part an attribute."""
    try:
        pkgutil.resolve_name(name)
    except (ImportError, AttributeError, ValueError):
        return False
    return True


def unresolved(names: set[str]) -> list[str]:
    return sorted(name for name in names if not resolves(name))


def missing_on(cls: type, attributes: tuple[str, ...]) -> str | None:
    """The first of ``attributes`` (a chain) that ``cls`` lacks, as ``"Session.panel.nope"``; None if all are there.

    A property is followed to the class its return annotation names; past a method, or a property whose
    annotation is not a class, the chain is not checked further (its result's type is not known here).
    """
    owner: Any = cls
    for index, attribute in enumerate(attributes):
        if not hasattr(owner, attribute):
            return ".".join([cls.__name__, *attributes[: index + 1]])
        value = inspect.getattr_static(owner, attribute)
        if not isinstance(value, property) or value.fget is None:
            return None
        try:  # an annotation imported only for type checkers names a public class
            returned = typing.get_type_hints(value.fget, localns=public_objects()).get("return")
        except NameError:
            return None
        if not inspect.isclass(returned):
            return None
        owner = returned
    return None


def public_objects() -> dict[str, Any]:
    """Every public name of the packages, and its object."""
    return {name: getattr(module, name) for module in map(importlib.import_module, PACKAGES) for name in module.__all__}


def committed() -> dict[str, set[str]]:
    """The committed public names, by package."""
    names: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for line in COMMITTED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            package, _, name = line.strip().rpartition(".")
            names[package].add(name)
    return names


def differences(module: ModuleType, expected: set[str]) -> list[str]:
    """What is wrong with ``module``'s ``__all__`` against ``expected``: names removed, added, repeated, or listed
    but not there."""
    listed = list(getattr(module, "__all__", ()))
    problems = [f"removed: {name}" for name in sorted(expected - set(listed))]
    problems += [f"added (list it in {COMMITTED.name}): {name}" for name in sorted(set(listed) - expected)]
    problems += [f"listed twice: {name}" for name in sorted({name for name in listed if listed.count(name) > 1})]
    problems += [f"in __all__ but not there: {name}" for name in listed if not hasattr(module, name)]
    return problems


@pytest.fixture(scope="module")
def used() -> dict[str, tuple[set[str], set[tuple[str, ...]]]]:
    return {name: uses(cells) for name, cells in documents().items()}


def test_every_mtdata_name_the_readme_and_notebooks_use_resolves(used) -> None:
    names = {name for document_names, _ in used.values() for name in document_names}
    assert {"mtdata.connect", "mtdata.sandbox.start", "mtdata.live.Stream", "mtdata.mt5.copy_rates_range",
            "mtdata.client.SynchronizationListener", "mtdata.errors.TradeException"} <= names  # fmt: skip
    assert all(used[name][0] for name in used), "a document whose mtdata names were not found: the reader is broken"
    missing = {document: found for document, (names, _) in used.items() if (found := unresolved(names))}
    assert not missing, f"names the documentation uses that mtdata lacks: {missing}"


def test_every_session_attribute_they_use_exists(used) -> None:
    from mtdata import Session

    chains = {chain for _, on_sessions in used.values() for chain in on_sessions}
    assert {("candles",), ("panel", "ticker")} <= chains
    missing = {document: found for document, (_, on_sessions) in used.items()
               if (found := sorted(filter(None, (missing_on(Session, c) for c in on_sessions))))}  # fmt: skip
    assert not missing, f"session attributes the documentation uses that Session lacks: {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_public_names_are_the_committed_ones_and_all_resolve(package: str) -> None:
    names = committed()[package]
    assert names, f"{COMMITTED.name} lists nothing for {package}"
    assert not differences(importlib.import_module(package), names)


def test_a_missing_name_is_reported() -> None:
    """The checks fail on a name mtdata lacks: each spelling the readers know, and a name gone from an ``__all__``."""
    cells = ["import mtdata\nimport mtdata.mt5 as mt5\nfrom mtdata.client import MetaApi, NoSuchClient\n",
             "mtdata.connect\nmtdata.no_such_function()\nmt5.copy_rates_range\nmt5.NO_SUCH_CONSTANT\n",
             "import mtdata.no_such_module\nfrom mtdata.live import Stream as S, NoPanel\n",
             "s = mtdata.connect()\ns.candles('EURUSD', '1h')\ns.no_such_method()\ns.panel.ticker\ns.panel.no_panel\n",
             "async def later():\n    other = await mtdata.connect_async()\n    other.nope\n",
             "with mtdata.connect() as third:\n    third.ticks\n    third.gone\n"]  # fmt: skip
    names, on_sessions = uses(cells)
    assert unresolved(names) == ["mtdata.client.NoSuchClient", "mtdata.live.NoPanel", "mtdata.mt5.NO_SUCH_CONSTANT",
                                 "mtdata.no_such_function", "mtdata.no_such_module"]  # fmt: skip
    assert {"mtdata.client.MetaApi", "mtdata.connect", "mtdata.mt5.copy_rates_range", "mtdata.live.Stream"} <= names

    from mtdata import Session

    assert sorted(filter(None, (missing_on(Session, c) for c in on_sessions))) == [
        "Session.gone", "Session.no_such_method", "Session.nope", "Session.panel.no_panel"]

    module = ModuleType("example")
    module.__all__ = ["kept", "added", "ghost", "kept"]  # type: ignore[attr-defined]
    module.kept = module.added = 1  # type: ignore[attr-defined]
    assert differences(module, {"kept", "ghost", "removed"}) == [
        "removed: removed", f"added (list it in {COMMITTED.name}): added", "listed twice: kept",
        "in __all__ but not there: ghost"]  # fmt: skip
