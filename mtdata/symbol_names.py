"""Symbol names as the user types them: ``eurusd`` is the account's ``EURUSD``; a typo gets the closest names.

A name the server does not know is refused with :class:`UnknownSymbol` (a ValidationException naming the argument,
without the request's URL or the account id); the session then looks the name up among the account's symbols:
one case-insensitive match is used instead, otherwise the error suggests the closest names (:mod:`difflib`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .errors import ValidationException

#: How many close names an error suggests.
SUGGESTIONS = 3


class UnknownSymbol(ValidationException):
    """A symbol the account does not have (``argument``: the argument that named it)."""

    def __init__(self, argument: str, symbol: str, known: Iterable[str] = ()) -> None:
        close = closest(symbol, known)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        message = f"{argument} must be {'symbols' if argument == 'symbols' else 'a symbol'} of the account{hint}"
        super().__init__(
            f"{message}, got {symbol!r}", [{"parameter": argument, "value": repr(symbol), "message": message}],
            status_code=None,
        )
        self.argument, self.symbol, self.suggestions = argument, symbol, close


def closest(name: str, known: Iterable[str]) -> list[str]:
    """Up to :data:`SUGGESTIONS` of ``known`` closest to ``name`` (case-insensitively), best first."""
    symbols = list(known)
    uppers = list(dict.fromkeys(symbol.upper() for symbol in symbols))
    matches = difflib.get_close_matches(name.upper(), uppers, n=SUGGESTIONS, cutoff=0.6)
    return [symbol for match in matches for symbol in symbols if symbol.upper() == match][:SUGGESTIONS]


def resolve(argument: str, name: str, known: Iterable[str]) -> str:
    """``name`` as the account spells it: itself, or its one case-insensitive match; else :class:`UnknownSymbol`."""
    symbols = list(known)
    if name in symbols:
        return name
    matches = [symbol for symbol in symbols if symbol.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    raise UnknownSymbol(argument, name, symbols)
