"""Every public member of a public class, and every public function, has a description in the API reference.

The API pages document classes with ``:undoc-members:``, so every public member belongs in the reference, described
by what autodoc reads: a method's, property's, class's or function's own docstring; for an attribute, Sphinx's
:class:`~sphinx.pycode.ModuleAnalyzer` finds a ``#:`` comment (on the line before or at the end of the line) or a
docstring after a class-level declaration (``volume: FloatText``), or after an assignment in ``__init__``, not after
an assignment in another method and never a plain ``#`` comment. These tests read the same analysis, without
running Sphinx, for the classes and functions of the ``__all__`` of the packages the reference starts from, and
for the classes' mtdata bases: the instance attributes methods assign, then the members the class statements
define (methods, properties, class attributes, dataclass / NamedTuple fields), then TypedDict keys.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import sys
from collections.abc import Iterator
from typing import Any, is_typeddict

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


def exported() -> Iterator[tuple[str, Any]]:
    """``(package.name, value)`` for each name of the packages' ``__all__``."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            yield f"{package}.{name}", getattr(module, name)


def public_classes() -> dict[type, str]:
    """Each class of the packages' ``__all__``, with the name it is exported as."""
    classes: dict[type, str] = {}
    for name, value in exported():
        if inspect.isclass(value):
            classes.setdefault(value, name)
    return classes


def mtdata_bases(public: type) -> list[type]:
    """The classes of ``public``'s MRO that mtdata defines (itself first): the reference shows their members."""
    return [klass for klass in public.__mro__ if klass.__module__.startswith("mtdata")]


def undocumented(public: type) -> list[str]:
    """``Defining.attribute`` for each attribute a mtdata class of ``public``'s MRO assigns in a method with no
    docstring in any of them (a property's own docstring describes an attribute it stores through a setter)."""
    bases = mtdata_bases(public)
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


def docstring(value: Any) -> str | None:
    """The docstring autodoc shows for a method, property, classmethod or staticmethod (``""`` when it has none);
    None for any other value: an attribute, described only by what :func:`attr_docs` finds."""
    if isinstance(value, classmethod | staticmethod):
        value = value.__func__
    if isinstance(value, property | functools.cached_property) or inspect.isroutine(value):
        return value.__doc__ or ""
    return None


def declared_fields(klass: type) -> set[str]:
    """The names annotated in the body of ``klass`` itself. A TypedDict's ``__annotations__`` also holds its bases'
    keys, so its class statement tells; a TypedDict made by a call (``TypedDict("Name", {"from": str})``) has none,
    its docstring describes its keys."""
    if not is_typeddict(klass):
        return set(vars(klass).get("__annotations__", {}))
    statement = class_nodes(klass.__module__).get(klass.__qualname__)
    body = statement.body if statement is not None else []
    return {node.target.id for node in body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}


def undescribed_members(klass: type) -> list[str]:
    """The public members ``klass`` itself defines that autodoc would show with no description: methods and
    properties without a docstring, class attributes and annotated fields without a ``#:`` comment or docstring
    (``__doc__`` when the class has no docstring)."""
    described = {name for scope, name in attr_docs(klass.__module__) if scope == klass.__qualname__}
    own = vars(klass)
    missing = [] if klass.__doc__ else ["__doc__"]
    for name in sorted(set(own) | declared_fields(klass)):
        if not name.startswith("_"):
            text = docstring(own.get(name))
            if text == "" or (text is None and name not in described):
                missing.append(name)
    return missing


def undescribed(typeddicts: bool) -> dict[str, list[str]]:
    """``{module.Class: [member, ...]}`` for the public classes and their mtdata bases with undescribed members:
    the TypedDicts among them, or the other classes."""
    classes = {klass for public in public_classes() for klass in mtdata_bases(public)}
    found = {
        f"{klass.__module__}.{klass.__qualname__}": names
        for klass in classes
        if is_typeddict(klass) == typeddicts and (names := undescribed_members(klass))
    }
    return dict(sorted(found.items()))


def test_every_public_member_has_a_description() -> None:
    missing = undescribed(typeddicts=False)
    assert not missing, f"no docstring, ``#:`` comment or docstring after the declaration: {missing}"


def test_every_typeddict_field_has_a_description() -> None:
    missing = undescribed(typeddicts=True)
    assert not missing, f"no ``#:`` comment or docstring after the key (or no class docstring): {missing}"


def test_every_public_function_has_a_docstring() -> None:
    missing = [name for name, value in exported() if inspect.isfunction(value) and not value.__doc__]
    assert not missing, f"no docstring: {missing}"


SAMPLE = '''
from dataclasses import dataclass
from typing import TypedDict


@dataclass
class Sample:
    """Members described and not."""

    plain = 1  # a plain comment, which autodoc does not read
    marked = 2  #: Read.
    field: int = 0  #: Read too.
    bare: int = 0
    documented: int = 0
    """A docstring after the declaration."""

    def method(self) -> None:
        """Described."""

    def bare_method(self) -> None: ...

    @property
    def bare_property(self) -> int: ...

    @staticmethod
    def bare_static() -> None: ...


class Keys(TypedDict, total=False):
    """Keys."""

    key: int  #: Read.
    other: str


class MoreKeys(Keys):
    extra: int  #: Read; its class has no docstring.
'''


def test_the_member_check_reads_what_autodoc_reads(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mtdata_docs_sample.py").write_text(SAMPLE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        sample = importlib.import_module("mtdata_docs_sample")
        assert undescribed_members(sample.Sample) == ["bare", "bare_method", "bare_property", "bare_static", "plain"]
        assert undescribed_members(sample.Keys) == ["other"]
        assert undescribed_members(sample.MoreKeys) == ["__doc__"]  # Keys' keys are Keys' to describe
    finally:
        sys.modules.pop("mtdata_docs_sample", None)
