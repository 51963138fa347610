"""The layers' import rule (docs/architecture.md): the sandbox and the client meet only on the wire.

Neither package imports the other, nor the notebook layer above them; from the rest of mtdata each imports
only the small shared modules, which import nothing of mtdata but each other. Imports inside functions count
(they tie the layers together just the same); imports under ``if TYPE_CHECKING:`` do not (annotations only,
nothing is loaded).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mtdata"
#: Modules any layer may import: pure data and helpers with no dependency on a layer.
SHARED = frozenset({"errors", "hashing", "redaction", "socketio_compat", "timeframes"})


def module_name(path: Path) -> str:
    """``mtdata.client.transport`` for ``mtdata/client/transport.py`` (a package is its ``__init__``)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def imported(path: Path) -> set[str]:
    """The ``mtdata`` modules (or names in them) that ``path`` imports, relative imports resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
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


@pytest.mark.parametrize("layer", ["client", "sandbox", *sorted(f"{name}.py" for name in SHARED)])
def test_layer_imports_only_itself_and_the_shared_modules(layer: str) -> None:
    assert not violations(PACKAGE / layer)


def test_the_rule_catches_a_crossing() -> None:
    assert not allowed("mtdata.client.transport", "mtdata.sandbox.server.SandboxServer")
    assert not allowed("mtdata.sandbox.realtime", "mtdata.client.ordering")
    assert not allowed("mtdata.client.metaapi", "mtdata.session.Session")
    assert not allowed("mtdata.hashing", "mtdata.client.dates")
    assert allowed("mtdata.client.transport", "mtdata.client.packets.PacketProcessor")
    assert allowed("mtdata.sandbox.server", "mtdata.socketio_compat.GatherManager")
    assert allowed("mtdata.errors", "mtdata.redaction.redact")


def test_relative_imports_are_resolved_and_type_checking_ones_left_out() -> None:
    names = imported(PACKAGE / "client" / "transport.py")
    assert "mtdata.client.packets.PacketProcessor" in names
    assert "mtdata.socketio_compat.disable_client_sigint_handler" in names
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import B\nelse:\n    import c\n")
    kept = {node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            for node in runtime_nodes(tree) if isinstance(node, (ast.Import, ast.ImportFrom))}  # fmt: skip
    assert kept == {"typing", "c"}
