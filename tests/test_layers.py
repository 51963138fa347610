"""The layers' import rule (docs/architecture.md): the sandbox and the client meet only on the wire.

Neither package imports the other, nor the notebook layer above them; from the rest of mtdata each imports
only the small shared modules, which import nothing of mtdata but each other. Imports inside functions count
(they tie the layers together just the same); imports under ``if TYPE_CHECKING:`` do not (annotations only,
nothing is loaded).

Everywhere in mtdata modules load one way: no module imports, while it loads, one that (through others)
imports it back. There only module-level imports count: one under ``if TYPE_CHECKING:`` or inside a function
runs after every module has loaded (``Session.panel`` imports ``mtdata.live`` on first use).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mtdata"
#: Modules any layer may import: pure data and helpers with no dependency on a layer.
SHARED = frozenset({"errors", "hashing", "redaction", "socketio_compat", "timeframes"})


def module_name(path: Path) -> str:
    """``mtdata.client.transport.socket`` for ``mtdata/client/transport/socket.py`` (a package: its ``__init__``)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST, *, at_load: bool = False) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks (with ``at_load``, also
    except the bodies of functions: what runs when the module loads)."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        if at_load and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def imported(path: Path, *, at_load: bool = False) -> set[str]:
    """The ``mtdata`` modules (or names in them) that ``path`` imports, relative imports resolved."""
    return imported_by(module_name(path), path.name == "__init__.py", path.read_text(encoding="utf-8"), at_load)


def imported_by(module: str, is_package: bool, source: str, at_load: bool = False) -> set[str]:
    """What the module named ``module`` imports given its ``source`` (see :func:`imported`)."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in runtime_nodes(ast.parse(source), at_load=at_load):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "mtdata" or name.startswith("mtdata.")}


def allowed(importer: str, target: str) -> bool:
    """Whether module ``importer`` may import ``target`` (a module or a name in one)."""
    parts = target.split(".")
    if len(parts) > 1 and parts[1] in SHARED:
        return True
    layer = importer.split(".")[1]
    return layer not in SHARED and len(parts) > 1 and parts[1] == layer


def violations(directory: Path) -> list[str]:
    files = sorted(directory.rglob("*.py")) if directory.is_dir() else [directory]
    return [f"{module_name(path)} imports {target}" for path in files
            for target in sorted(imported(path)) if not allowed(module_name(path), target)]  # fmt: skip


def load_graph(directory: Path) -> dict[str, set[str]]:
    """Each module of ``directory`` and the modules of it that must load before it: those it imports at
    load time, and the packages holding them (a package's ``__init__`` loads before its modules)."""
    sources = {module_name(path): path for path in sorted(directory.rglob("*.py"))}
    return {module: load_dependencies(module, imported(path, at_load=True), set(sources))
            for module, path in sources.items()}  # fmt: skip


def load_dependencies(module: str, names: set[str], modules: set[str]) -> set[str]:
    """The ``modules`` that loading ``module`` loads first, given the ``names`` it imports: each name's
    module (a name in a module counts as that module) and its packages, but not ``module``'s own packages,
    which have started loading already."""
    found = set()
    for name in names:
        parts = name.split(".")
        for end in range(2, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix in modules and prefix != module and not module.startswith(prefix + "."):
                found.add(prefix)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected parts of more than one module (Tarjan's
    algorithm, iterative), each sorted, plus any module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                elif target in stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = stack[stack.index(node):]
                del stack[stack.index(node):]
                if len(part) > 1 or node in graph[node]:
                    found.append(sorted(part))
    return found


def test_modules_load_one_way() -> None:
    assert not cycles(load_graph(PACKAGE))


def test_the_load_graph_holds_the_module_level_imports() -> None:
    graph = load_graph(PACKAGE / "client")
    streaming, synchronization = "mtdata.client.connections.streaming", "mtdata.client.connections.synchronization"
    assert {"mtdata.client.connections", "mtdata.client.connections.registry"} <= graph["mtdata.client.metaapi"]
    assert synchronization in graph[streaming]
    assert streaming not in graph[synchronization]  # imported under TYPE_CHECKING


def parts_graph(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """``graph`` collapsed to the parts of ``package``: each subpackage, and each module at its top, is one node
    (the package itself, whose ``__init__`` gathers every part, is left out)."""
    prefix = package + "."

    def part(module: str) -> str | None:
        return module.removeprefix(prefix).split(".")[0] if module.startswith(prefix) else None

    parts: dict[str, set[str]] = {}
    for module, targets in graph.items():
        if (source := part(module)) is not None:
            parts.setdefault(source, set()).update(t for target in targets if (t := part(target)) not in (None, source))
    return parts


def test_the_client_parts_depend_one_way() -> None:
    """rest/ builds the context the socket layer, the state and the monitors use; none of them is imported back."""
    parts = parts_graph(load_graph(PACKAGE / "client"), "mtdata.client")
    assert {"rest", "listeners"} <= parts["transport"] and "transport" not in parts["rest"]
    assert not cycles(parts)
    assert cycles(parts_graph({"p.a.x": {"p.b.y"}, "p.b.y": {"p.a.z"}, "p.a.z": set()}, "p")) == [["a", "b"]]


def test_the_cycle_check_finds_a_circle_and_skips_deferred_imports() -> None:
    source = ("from typing import TYPE_CHECKING\nfrom . import b\nfrom .c import C\n"
              "if TYPE_CHECKING:\n    from .d import D\ndef later():\n    from .e import E\n")  # fmt: skip
    names = imported_by("mtdata.client.a", False, source, at_load=True)
    assert names == {"mtdata.client.b", "mtdata.client.c.C"}
    assert "mtdata.client.e.E" in imported_by("mtdata.client.a", False, source)
    modules = {"mtdata.client", "mtdata.client.a", "mtdata.client.b", "mtdata.client.c", "mtdata.client.c.x"}
    assert load_dependencies("mtdata.client.c.x", {"mtdata.client.a.A", "mtdata.client.c.y"}, modules) == {
        "mtdata.client.a"}
    assert load_dependencies("mtdata.client.a", {"mtdata.client.c.x.X"}, modules) == {
        "mtdata.client.c", "mtdata.client.c.x"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert cycles(graph) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("layer", ["client", "sandbox", *sorted(f"{name}.py" for name in SHARED)])
def test_layer_imports_only_itself_and_the_shared_modules(layer: str) -> None:
    assert not violations(PACKAGE / layer)


def test_the_rule_catches_a_crossing() -> None:
    assert not allowed("mtdata.client.transport.websocket", "mtdata.sandbox.server.SandboxServer")
    assert not allowed("mtdata.sandbox.realtime", "mtdata.client.transport.ordering")
    assert not allowed("mtdata.client.metaapi", "mtdata.session.Session")
    assert not allowed("mtdata.hashing", "mtdata.client.dates")
    assert allowed("mtdata.client.transport.websocket", "mtdata.client.transport.packets.PacketProcessor")
    assert allowed("mtdata.sandbox.server", "mtdata.socketio_compat.GatherManager")
    assert allowed("mtdata.errors", "mtdata.redaction.redact")


def test_relative_imports_are_resolved_and_type_checking_ones_left_out() -> None:
    names = imported(PACKAGE / "client" / "transport" / "websocket.py")
    assert "mtdata.client.transport.packets.PacketProcessor" in names  # from .packets
    assert "mtdata.client.rest.context.ClientContext" in names  # from ..rest.context
    assert "mtdata.client.checks" in names  # from .. import checks
    assert "mtdata.socketio_compat.disable_client_sigint_handler" in names  # from ...socketio_compat
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import B\nelse:\n    import c\n")
    kept = {node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            for node in runtime_nodes(tree) if isinstance(node, (ast.Import, ast.ImportFrom))}  # fmt: skip
    assert kept == {"typing", "c"}
