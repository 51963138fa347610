"""Values that work with and without ``await``: the seed's examples write both styles for the same call."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


class AwaitableBool:
    """A bool that may also be awaited: ``if connection.is_connected():`` and ``await connection.is_connected()``.

    It answers the state at the moment of the call; awaiting it gives the plain ``bool``.
    """

    __slots__ = ("_value",)

    def __init__(self, value: bool) -> None:
        self._value = bool(value)

    def __bool__(self) -> bool:
        return self._value

    def __await__(self) -> Generator[Any, None, bool]:
        return self._value
        yield  # a generator: nothing to wait for

    def __eq__(self, other: object) -> bool:
        return self._value == other

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return repr(self._value)


__all__ = ["AwaitableBool"]
