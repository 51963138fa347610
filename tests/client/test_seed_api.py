"""Every class, method, parameter name and model field of the seed API exists in mtdata as the seed writes it.

The seed's reference is read from ``data/seed_manifest.json`` (made by ``tools/seed_manifest.py`` from the
seed file, committed so the tests do not need it). A method matches when the seed's parameters are the first
parameters of mtdata's, by name and in order, with the same defaults, async where the seed is async; a model
matches when it is a ``TypedDict`` importable from ``mtdata.client`` and ``mtdata.client.models`` with every
seed field at the seed's type (``SEED_TYPE_DIFFERENCES`` lists the deliberate exceptions).
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest

import mtdata.client
import mtdata.errors
from mtdata.client import models

MANIFEST = json.loads((Path(__file__).parent / "data" / "seed_manifest.json").read_text(encoding="utf-8"))
CLASSES = [cls for cls in MANIFEST["classes"] if "TypedDict" not in cls["bases"]]
#: The reference's TypedDicts, then the option classes the usage document declares.
MODELS = [cls for cls in MANIFEST["classes"] if "TypedDict" in cls["bases"]] + MANIFEST["usage"]["models"]
METHODS = [(cls["name"], method) for cls in CLASSES for method in cls["methods"]]
#: Where mtdata is async and the seed is not, and why (README: "How mtdata differs from the official SDK").
ASYNC_IN_MTDATA = {"MetaApi.close": "close() is a coroutine everywhere: it awaits the sockets and HTTP client"}
#: What the seed's annotations are evaluated with.
SEED_NAMESPACE = {
    **vars(typing),
    "datetime": datetime.datetime,
    **{name: getattr(mtdata.errors, name) for name in mtdata.errors.__all__},
    **{name: getattr(mtdata.client, name) for name in mtdata.client.__all__},
}


def resolve(name: str) -> Any:
    """The object named ``name`` in ``mtdata.client`` (or ``mtdata.errors``); fails the test when neither has it."""
    for module in (mtdata.client, mtdata.errors):
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    pytest.fail(f"{name} is not exported by mtdata.client or mtdata.errors")


def normal(tp: Any) -> Any:
    """A type with ``Optional``/``Union``/``|`` and ``List``/``list`` spelled alike, for comparison."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return ("union", frozenset(normal(arg) for arg in typing.get_args(tp)))
    if origin is not None:
        return (origin, tuple(normal(arg) for arg in typing.get_args(tp)))
    return tp


def mentions(tp: Any, target: Any) -> bool:
    """Whether ``target`` appears in the type ``tp`` (as itself or an argument at any depth)."""
    return tp is target or any(mentions(arg, target) for arg in typing.get_args(tp))


def resolved(annotation: Any, function: Any) -> Any:
    """An annotation of ``function`` evaluated in its module (string annotations under PEP 563)."""
    if not isinstance(annotation, str):
        return annotation
    namespace = {**vars(typing), **vars(sys.modules[function.__module__])}
    try:
        return eval(annotation, namespace)
    except NameError:  # a name imported only for type checkers: compare as text
        return annotation


@pytest.mark.parametrize("name", MANIFEST["referenced_types"] + [cls["name"] for cls in MANIFEST["classes"]])
def test_every_name_the_seed_uses_is_exported(name: str) -> None:
    resolve(name)


@pytest.mark.parametrize("seed", MODELS, ids=lambda seed: seed["name"])
def test_models_are_typed_dicts_with_the_seed_fields_and_types(seed: dict[str, Any]) -> None:
    model = resolve(seed["name"])
    assert getattr(models, seed["name"]) is model, "mtdata.client.models exports the same class"
    assert typing.is_typeddict(model)
    hints = typing.get_type_hints(model)
    for field in seed["fields"]:
        assert field["name"] in hints, f"{seed['name']}.{field['name']} is missing"
        expected = normal(eval(field["annotation"], SEED_NAMESPACE))
        difference = models.SEED_TYPE_DIFFERENCES.get(f"{seed['name']}.{field['name']}")
        if difference is None:
            assert normal(hints[field["name"]]) == expected, f"{seed['name']}.{field['name']}: {hints[field['name']]}"
        else:
            assert normal(hints[field["name"]]) != expected, f"{seed['name']}.{field['name']} no longer differs"


@pytest.mark.parametrize("seed", CLASSES, ids=lambda seed: seed["name"])
def test_classes_have_the_seed_bases(seed: dict[str, Any]) -> None:
    cls = resolve(seed["name"])
    assert inspect.isclass(cls)
    for base in seed["bases"]:
        assert issubclass(cls, resolve(base) if base != "Exception" else Exception), f"{seed['name']}({base})"


def _parameters(cls: type, name: str) -> tuple[Any, list[inspect.Parameter]]:
    """The function behind ``cls.name`` and its parameters without ``self``/``cls``."""
    static = inspect.getattr_static(cls, name)
    function = static.__func__ if isinstance(static, staticmethod | classmethod) else static
    parameters = list(inspect.signature(function).parameters.values())
    if not isinstance(static, staticmethod) and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    return function, parameters


@pytest.mark.parametrize("owner,seed", METHODS, ids=[f"{owner}.{method['name']}" for owner, method in METHODS])
def test_methods_take_the_seed_parameters(owner: str, seed: dict[str, Any]) -> None:
    cls = resolve(owner)
    assert hasattr(cls, seed["name"]), f"{owner}.{seed['name']} is missing"
    static = inspect.getattr_static(cls, seed["name"])
    if isinstance(static, property):
        assert not seed["params"], f"{owner}.{seed['name']} is a property but the seed passes arguments"
        assert not seed["async"]
        return
    function, parameters = _parameters(cls, seed["name"])
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert [p.name for p in positional[: len(seed["params"])]] == [p["name"] for p in seed["params"]]
    for param, expected in zip(positional, seed["params"], strict=False):
        if expected["default"] is not None:
            assert param.default is not inspect.Parameter.empty, f"{owner}.{seed['name']}({param.name}) has no default"
            assert param.default == ast.literal_eval(expected["default"]), f"{owner}.{seed['name']}({param.name})"
    is_async = inspect.iscoroutinefunction(function)
    if seed["async"] or f"{owner}.{seed['name']}" in ASYNC_IN_MTDATA:
        assert is_async, f"{owner}.{seed['name']} must be awaitable"
    else:
        assert not is_async, f"{owner}.{seed['name']} is async in mtdata, not in the seed"


def _seed_models(annotation: str | None) -> list[Any]:
    """The seed's models (``TypedDict``s of mtdata.client.models) an annotation of the seed names."""
    if not annotation:
        return []
    named = [getattr(models, name) for name in models.__all__ if name != "SEED_TYPE_DIFFERENCES"]
    return [model for model in named if mentions(eval(annotation, SEED_NAMESPACE), model)]


@pytest.mark.parametrize("owner,seed", METHODS, ids=[f"{owner}.{method['name']}" for owner, method in METHODS])
def test_signatures_use_the_models(owner: str, seed: dict[str, Any]) -> None:
    cls = resolve(owner)
    static = inspect.getattr_static(cls, seed["name"])
    if isinstance(static, property):
        function, returns, parameters = static.fget, inspect.signature(static.fget).return_annotation, []
    else:
        function, parameters = _parameters(cls, seed["name"])
        returns = inspect.signature(function).return_annotation
    wanted = [(seed["returns"], returns, "the return type")]
    wanted += [(p["annotation"], q.annotation, p["name"]) for p, q in zip(seed["params"], parameters, strict=False)]
    for seed_annotation, annotation, where in wanted:
        for model in _seed_models(seed_annotation):
            tp = resolved(annotation, function)
            found = mentions(tp, model) if not isinstance(tp, str) else model.__name__ in tp
            assert found, f"{owner}.{seed['name']}: {where} should mention {model.__name__}, is {annotation!r}"


def test_the_manifest_covers_the_seed() -> None:
    """The extraction found the whole reference (a parser change that drops classes would fail here)."""
    assert MANIFEST["source"] == "seed-api.txt"
    assert len(CLASSES) == 29 and len(METHODS) == 150
    assert len(MODELS) == 14 + 2  # the usage document's SynchronizationOptions and StreamingRetryOptions
    assert sum(len(cls["fields"]) for cls in MANIFEST["classes"]) == 128
