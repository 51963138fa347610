"""Every public instance attribute of a public class has a description in the API reference.

The API pages document classes with ``:undoc-members:``, so an attribute a method assigns (``self.volume = ...``)
belongs in the reference, described by the docstring autodoc finds for it: Sphinx's
:class:`~sphinx.pycode.ModuleAnalyzer` reads a docstring after an assignment in ``__init__`` or after a class-level
declaration (``volume: FloatText``), not after an assignment in another method. This test reads the same analysis,
without running Sphinx, for the classes of the ``__all__`` of the packages the reference starts from, and for their
mtdata bases.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from collections.abc import Iterator

import pytest

pycode = pytest.importorskip("sphinx.pycode", reason="the docs extra: pip install -e '.[docs]'")

PACKAGES = ("mtdata", "mtdata.client", "mtdata.sandbox", "mtdata.live")


@functools.cache
def attr_docs(module_name: str) -> dict[tuple[str, str], list[str]]:
    """The attribute docstrings of a module, as autodoc reads them: ``{(class qualname, attribute): lines}``."""
    analyzer = pycode.ModuleAnalyzer.for_module(module_name)
    analyzer.analyze()
    return analyzer.attr_docs


@functools.cache
def class_nodes(module_name: str) -> dict[str, ast.ClassDef]:
    """The ``class`` statements of a module by qualified name (``Outer.Inner``; not those inside functions)."""
    nodes: dict[str, ast.ClassDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                nodes.setdefault(prefix + child.name, child)
                visit(child, f"{prefix}{child.name}.")
            elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, prefix)

    visit(ast.parse(pycode.ModuleAnalyzer.for_module(module_name).code), "")
    return nodes


def self_names(target: ast.expr) -> Iterator[str]:
    """The attributes of ``self`` an assignment target binds: ``self.a`` and ``self.a, self.b`` (not ``self.a.b``)."""
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        yield target.attr
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from self_names(element)
    elif isinstance(target, ast.Starred):
        yield from self_names(target.value)


@functools.cache
def assigned_attributes(klass: type) -> frozenset[str]:
    """The public attributes the methods of ``klass`` (its own, not its bases') assign to ``self``; none for a class
    made by a call (``TypedDict("Name", {...})``), which has no ``class`` statement."""
    names: set[str] = set()
    statement = class_nodes(klass.__module__).get(klass.__qualname__)
    for method in statement.body if statement is not None else []:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(method):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                targets = [node.target]
            else:
                continue
            for target in targets:
                names.update(name for name in self_names(target) if not name.startswith("_"))
    return frozenset(names)


def public_classes() -> dict[type, str]:
    """Each class of the packages' ``__all__``, with the name it is exported as."""
    classes: dict[type, str] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                classes.setdefault(value, f"{package}.{name}")
    return classes


def undocumented(public: type) -> list[str]:
    """``Defining.attribute`` for each attribute a mtdata class of ``public``'s MRO assigns in a method with no
    docstring in any of them (a property's own docstring describes an attribute it stores through a setter)."""
    bases = [klass for klass in public.__mro__ if klass.__module__.startswith("mtdata")]
    assigned = {
        (klass, name)
        for klass in bases
        for name in assigned_attributes(klass)
        if not isinstance(inspect.getattr_static(public, name, None), property | functools.cached_property)
    }
    if not assigned:  # most classes: no module to analyze
        return []
    documented = {name for base in bases for scope, name in attr_docs(base.__module__) if scope == base.__qualname__}
    missing = {(klass, name) for klass, name in assigned if name not in documented}
    return sorted(f"{klass.__module__}.{klass.__qualname__}.{name}" for klass, name in missing)


def test_every_public_instance_attribute_has_a_docstring() -> None:
    missing = {exported: names for klass, exported in public_classes().items() if (names := undocumented(klass))}
    assert not missing, f"no docstring after the assignment in __init__ or at class level: {missing}"


def test_the_check_sees_assignments_and_their_docstrings() -> None:
    from mtdata.live import OrderTicket
    from mtdata.live.order_review import OrderReview

    assert {"symbol", "volume", "sl", "tp", "summary", "result_line"} <= assigned_attributes(OrderTicket)
    assert "summary" not in assigned_attributes(OrderReview)  # it sets self.summary.value, a widget's trait
    assert ("OrderTicket", "volume") in attr_docs("mtdata.live.order_ticket")
