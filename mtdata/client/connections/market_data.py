"""Market-data subscriptions of a streaming connection: validation and book-keeping (protocol §5.3).

A subscription is ``{type: quotes | candles | ticks | marketDepth, timeframe? (candles), intervalInMilliseconds?}``.
For convenience a caller may also write ``type`` as a list and ``timeframes`` as a list (expanded to one
subscription per type and timeframe) and ``books`` for ``marketDepth``. The book keeps, per symbol, the
subscriptions the server should have, so they can be restored after a reconnect and re-sent on every
``synchronizationStarted`` (``refreshMarketDataSubscriptions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import checks

Subscription = dict[str, Any]

TYPES = ("quotes", "candles", "ticks", "marketDepth")
_ALIASES = {"books": "marketDepth", "book": "marketDepth", "candle": "candles", "tick": "ticks", "quote": "quotes"}
_KEYS = ("type", "timeframe", "timeframes", "intervalInMilliseconds")


def _as_list(name: str, value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list | tuple) and value:
        return list(value)
    raise checks.fail(name, "must be a subscription dict or a non-empty list of them", value)


def _types(name: str, value: Any) -> list[str]:
    raw = list(value) if isinstance(value, list | tuple) else [value]
    if not raw:
        raise checks.fail(name, "must not be an empty list", value)
    return [checks.choice(name, _ALIASES.get(item, item) if isinstance(item, str) else item, TYPES) for item in raw]


def _timeframes(name: str, item: Mapping[str, Any], timeframes: Iterable[str]) -> list[str | None]:
    allowed = tuple(timeframes)
    single, many = item.get("timeframe"), item.get("timeframes")
    if single is not None and many is not None:
        raise checks.fail(f"{name}.timeframes", "must not be given together with timeframe", many)
    values = [single] if single is not None else many
    if values is None:
        return [None]
    if not isinstance(values, list | tuple) or not values:
        raise checks.fail(f"{name}.timeframes", "must be a non-empty list", values)
    key = "timeframe" if single is not None else "timeframes"
    return [checks.choice(f"{name}.{key}", value, allowed) for value in values]


def subscriptions(
    value: Any, timeframes: Iterable[str], name: str = "subscriptions", unsubscribe: bool = False
) -> list[Subscription]:
    """Validated, expanded subscriptions (None → ``[{"type": "quotes"}]`` when subscribing).

    Candles need a timeframe when subscribing; an unsubscription without one drops every candle timeframe.
    """
    if value is None:
        return [] if unsubscribe else [{"type": "quotes"}]
    allowed = tuple(timeframes)
    result: list[Subscription] = []
    for i, raw in enumerate(_as_list(name, value)):
        item_name = f"{name}[{i}]"
        item = checks.mapping(item_name, raw)
        checks.known_keys(item_name, item, _KEYS)  # type: ignore[arg-type]
        interval = item.get("intervalInMilliseconds")  # type: ignore[union-attr]
        if interval is not None and not unsubscribe:
            checks.number(f"{item_name}.intervalInMilliseconds", interval, minimum=0)
        frames = _timeframes(item_name, item, allowed)  # type: ignore[arg-type]
        kinds = _types(f"{item_name}.type", item.get("type"))  # type: ignore[union-attr]
        if frames != [None] and "candles" not in kinds:
            raise checks.fail(f"{item_name}.timeframe", f"is only for candles, not {kinds[0]}", frames[0])
        if frames == [None] and "candles" in kinds and not unsubscribe:
            raise checks.fail(f"{item_name}.timeframe", "is required for candles", None)
        for kind in kinds:
            for frame in frames if kind == "candles" else [None]:
                sub: Subscription = {"type": kind}
                if frame is not None:
                    sub["timeframe"] = frame
                if interval is not None and not unsubscribe:
                    sub["intervalInMilliseconds"] = interval
                result.append(sub)
    return result


def _key(sub: Mapping[str, Any]) -> tuple[str, str | None]:
    return sub["type"], sub.get("timeframe")


def _matches(sub: Mapping[str, Any], removal: Mapping[str, Any]) -> bool:
    if sub["type"] != removal["type"]:
        return False
    return removal.get("timeframe") is None or sub.get("timeframe") == removal.get("timeframe")


def explicit(removals: list[Subscription], held: list[Subscription]) -> list[Subscription]:
    """Removals as the wire wants them: a candles removal without timeframe becomes one per held timeframe."""
    result: list[Subscription] = []
    for removal in removals:
        if removal["type"] == "candles" and removal.get("timeframe") is None:
            result += [{"type": "candles", "timeframe": sub["timeframe"]} for sub in held
                       if sub["type"] == "candles" and sub.get("timeframe")]  # fmt: skip
        else:
            result.append(removal)
    return result


class MarketDataSubscriptions:
    """Per-symbol subscriptions the server should hold for this connection."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, list[Subscription]] = {}

    def add(self, symbol: str, subs: list[Subscription]) -> list[Subscription]:
        """Merge ``subs`` into the symbol's list (same type and timeframe replaced); returns the new list."""
        merged = {_key(sub): sub for sub in self._by_symbol.get(symbol, [])}
        merged.update({_key(sub): dict(sub) for sub in subs})
        self._by_symbol[symbol] = list(merged.values())
        return self._by_symbol[symbol]

    def remove(self, symbol: str, removals: list[Subscription] | None = None) -> None:
        """Drop the matching subscriptions of ``symbol`` (all of them when ``removals`` is empty/None)."""
        if not removals:
            self._by_symbol.pop(symbol, None)
            return
        kept = [sub for sub in self._by_symbol.get(symbol, []) if not any(_matches(sub, r) for r in removals)]
        if kept:
            self._by_symbol[symbol] = kept
        else:
            self._by_symbol.pop(symbol, None)

    def get(self, symbol: str) -> list[Subscription]:
        """The symbol's subscriptions (empty when not subscribed)."""
        return list(self._by_symbol.get(symbol, []))

    def symbols(self) -> list[str]:
        """Subscribed symbols, in subscription order."""
        return list(self._by_symbol)

    def clear(self) -> None:
        """Forget every subscription."""
        self._by_symbol.clear()

    def wire(self) -> list[dict[str, Any]]:
        """The ``subscriptions`` list of a ``refreshMarketDataSubscriptions`` request."""
        return [{"symbol": sym, "subscriptions": [dict(s) for s in subs]} for sym, subs in self._by_symbol.items()]


__all__ = ["TYPES", "MarketDataSubscriptions", "explicit", "subscriptions"]
