"""Trade helpers shared by the streaming and RPC connections (protocol §6): validated trade objects, one sender.

Every helper validates its arguments before anything is sent (``ValidationException`` naming the
argument), builds the ``trade`` object of §6.1, merges the caller's ``options`` dict into it
(options override), converts datetimes to wire strings and hands it to the connection's
``_send_trade``. A ``clientId`` is generated when the caller gives none (and the comment leaves
room): a trade whose answer is lost can then be found in positions, orders or history by that id
instead of being sent twice. The returned response carries that ``clientId``; a rejection raises
``TradeException`` with MetaTrader's codes.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ...errors import TimeoutException
from ...hashing import iso_ms
from .. import checks
from ..models import (
    CreateMarketTradeOptions,
    MarketTradeOptions,
    MetatraderTradeResponse,
    PendingTradeOptions,
    StopOptions,
)

Trade = dict[str, Any]
#: A stop loss or take profit: a price, or ``{value, units}``.
Stop = float | StopOptions

UNITS = ("ABSOLUTE_PRICE", "RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS", "RELATIVE_CURRENCY",
         "RELATIVE_BALANCE_PERCENTAGE")  # fmt: skip
RELATIVE_UNITS = UNITS[1:4]
STOP_PRICE_BASES = ("CURRENT_PRICE", "OPEN_PRICE", "STOP_PRICE")
OPEN_PRICE_BASES = ("CURRENT_PRICE", "OPEN_PRICE", "STOP_LIMIT_PRICE")
STOP_LIMIT_PRICE_BASES = ("CURRENT_PRICE", "STOP_LIMIT_PRICE")
FILLING_MODES = ("ORDER_FILLING_FOK", "ORDER_FILLING_IOC", "ORDER_FILLING_RETURN")
EXPIRATION_TYPES = ("ORDER_TIME_GTC", "ORDER_TIME_DAY", "ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY")

_COMMON = ("comment", "clientId", "magic", "slippage")
#: Option keys each helper family accepts (protocol §6.1).
MARKET_OPTIONS = (*_COMMON, "fillingModes", "trailingStopLoss", "stopPriceBase")
PENDING_OPTIONS = (*_COMMON, "expiration", "trailingStopLoss", "stopPriceBase", "openPriceUnits")
STOP_LIMIT_OPTIONS = (*PENDING_OPTIONS, "openPriceBase", "stopLimitPriceUnits")
CLOSE_OPTIONS = (*_COMMON, "fillingModes")
MODIFY_ORDER_OPTIONS = ("trailingStopLoss", "stopPriceBase", "openPriceUnits", "openPriceBase", "stopLimitPriceUnits",
                        "stopLimitPriceBase")  # fmt: skip

#: Length of a generated clientId; none is generated when the comment leaves less room than the minimum.
CLIENT_ID_LENGTH = 12
MIN_CLIENT_ID_LENGTH = 6
_ALPHABET = string.ascii_letters + string.digits


def new_client_id(length: int = CLIENT_ID_LENGTH) -> str:
    """A random clientId (``TE_`` prefix as the official SDK's examples) of ``length`` characters."""
    return "TE_" + "".join(secrets.choice(_ALPHABET) for _ in range(length - 3))


def ticket(name: str, value: Any) -> str:
    """A position / order id: a non-empty string (ints are accepted and sent as strings)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return checks.text(name, value)  # type: ignore[return-value]


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (volumes, absolute prices)."""
    number = checks.number(name, value)
    if number <= 0:  # type: ignore[operator]
        raise checks.fail(name, "must be > 0", value)
    return number  # type: ignore[return-value]


def _finite(name: str, value: Any) -> float:
    return checks.number(name, value)  # type: ignore[return-value]


def _stop(trade: Trade, field: str, name: str, value: Any) -> None:
    """A stop loss / take profit: a number >= 0 or ``{value, units}`` (→ ``field`` and ``fieldUnits``)."""
    if value is None:
        return
    if isinstance(value, Mapping):
        checks.known_keys(name, value, ("value", "units"))
        trade[field] = checks.number(f"{name}.value", value.get("value"))
        if value.get("units") is not None:
            trade[f"{field}Units"] = checks.choice(f"{name}.units", value["units"], UNITS)
        if trade[field] < 0 and trade.get(f"{field}Units", "ABSOLUTE_PRICE") == "ABSOLUTE_PRICE":
            raise checks.fail(f"{name}.value", "must be >= 0 for an absolute price", value.get("value"))
        return
    trade[field] = checks.number(name, value, minimum=0)


def _trailing(name: str, value: Any) -> dict[str, Any]:
    """``trailingStopLoss``: ``{distance?: {distance, units?}, threshold?: {thresholds: [...], units?, ...}}``."""
    raw = checks.mapping(name, value)
    checks.known_keys(name, raw, ("distance", "threshold"))  # type: ignore[arg-type]
    if raw.get("distance") is None and raw.get("threshold") is None:  # type: ignore[union-attr]
        raise checks.fail(name, "must have a distance or a threshold", value)
    distance = checks.mapping(f"{name}.distance", raw.get("distance"), optional=True)  # type: ignore[union-attr]
    if distance is not None:
        checks.known_keys(f"{name}.distance", distance, ("distance", "units"))
        positive(f"{name}.distance.distance", distance.get("distance"))
        checks.choice(f"{name}.distance.units", distance.get("units"), UNITS[1:], optional=True)
    threshold = checks.mapping(f"{name}.threshold", raw.get("threshold"), optional=True)  # type: ignore[union-attr]
    if threshold is not None:
        checks.known_keys(f"{name}.threshold", threshold, ("thresholds", "units", "stopPriceBase"))
        items = threshold.get("thresholds")
        if not isinstance(items, list) or not items:
            raise checks.fail(f"{name}.threshold.thresholds", "must be a non-empty list", items)
        for i, item in enumerate(items):
            entry = checks.mapping(f"{name}.threshold.thresholds[{i}]", item)
            _finite(f"{name}.threshold.thresholds[{i}].threshold", entry.get("threshold"))  # type: ignore[union-attr]
            _finite(f"{name}.threshold.thresholds[{i}].stopLoss", entry.get("stopLoss"))  # type: ignore[union-attr]
        checks.choice(f"{name}.threshold.units", threshold.get("units"), UNITS, optional=True)
        checks.choice(f"{name}.threshold.stopPriceBase", threshold.get("stopPriceBase"), STOP_PRICE_BASES[:2], True)
    return raw  # type: ignore[return-value]


def _expiration(name: str, value: Any) -> dict[str, Any]:
    raw = checks.mapping(name, value)
    checks.known_keys(name, raw, ("type", "time"))  # type: ignore[arg-type]
    kind = checks.choice(f"{name}.type", raw.get("type"), EXPIRATION_TYPES)  # type: ignore[union-attr]
    when = raw.get("time")  # type: ignore[union-attr]
    if kind in ("ORDER_TIME_SPECIFIED", "ORDER_TIME_SPECIFIED_DAY"):
        if not isinstance(when, datetime):
            raise checks.fail(f"{name}.time", f"must be a datetime for {kind}", when)
    elif when is not None:
        raise checks.fail(f"{name}.time", f"must not be given for {kind}", when)
    return raw  # type: ignore[return-value]


def _filling_modes(name: str, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise checks.fail(name, "must be a non-empty list", value)
    for mode in value:
        checks.choice(name, mode, FILLING_MODES)
    return list(value)


def _non_negative_int(name: str, value: Any) -> int:
    return checks.integer(name, value, minimum=0)  # type: ignore[return-value]


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise checks.fail(name, "must be a string", value)
    return value


#: Checkers of option values by key (each raises ValidationException naming ``options.<key>``).
_OPTION_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "comment": _text,
    "clientId": lambda name, value: checks.text(name, value),
    "magic": _non_negative_int,
    "slippage": _non_negative_int,
    "fillingModes": _filling_modes,
    "trailingStopLoss": _trailing,
    "stopPriceBase": lambda name, value: checks.choice(name, value, STOP_PRICE_BASES),
    "openPriceBase": lambda name, value: checks.choice(name, value, OPEN_PRICE_BASES),
    "stopLimitPriceBase": lambda name, value: checks.choice(name, value, STOP_LIMIT_PRICE_BASES),
    "openPriceUnits": lambda name, value: checks.choice(name, value, UNITS),
    "stopLimitPriceUnits": lambda name, value: checks.choice(name, value, UNITS),
    "expiration": _expiration,
}


def _wire(value: Any) -> Any:
    """Datetimes (at any depth) as ISO ms Z strings; containers copied."""
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def merge_options(trade: Trade, options: Any, allowed: tuple[str, ...], name: str = "options") -> Trade:
    """Validate ``options`` against ``allowed`` keys and merge them into ``trade`` (options override)."""
    raw = checks.mapping(name, options, optional=True) or {}
    checks.known_keys(name, raw, allowed)
    for key, value in raw.items():
        if value is None:
            continue
        _OPTION_CHECKS[key](f"{name}.{key}", value)
        trade[key] = _wire(value)
    return trade


def with_client_id(trade: Trade) -> Trade:
    """Check comment + clientId length (protocol §6.2) and generate a clientId when there is room for one."""
    comment = trade.get("comment") or ""
    client_id = trade.get("clientId")
    if client_id is None:
        room = 30 - len(comment) if comment else 31
        if room >= MIN_CLIENT_ID_LENGTH:
            trade["clientId"] = client_id = new_client_id(min(CLIENT_ID_LENGTH, room))
    limit = 30 if comment and client_id else 31
    if len(comment) + len(client_id or "") > limit:
        raise checks.fail("options.comment", f"with clientId must be at most {limit} characters", comment)
    return trade


def _open_price(trade: Trade, name: str, value: Any, units_key: str) -> float:
    """An open / stop-limit price: > 0 when absolute, any finite number when ``units_key`` says relative."""
    if trade.get(units_key, "ABSOLUTE_PRICE") == "ABSOLUTE_PRICE":
        return positive(name, value)
    return _finite(name, value)


class TradingApi:
    """The trade helpers of protocol §6.1; a connection provides ``_send_trade`` and ``_check_symbol``."""

    async def _send_trade(self, trade: Trade) -> dict[str, Any]:
        raise NotImplementedError

    def _check_symbol(self, name: str, symbol: Any) -> str:
        """A non-empty symbol (a connection that knows the specifications also refuses unknown ones)."""
        return checks.text(name, symbol)  # type: ignore[return-value]

    async def _trade(self, trade: Trade, identify: bool = True) -> dict[str, Any]:
        """Send ``trade``; with ``identify`` a clientId is generated if absent and put on the response."""
        if identify:
            trade = with_client_id(trade)
        client_id = trade.get("clientId")
        try:
            response = await self._send_trade(trade)
        except TimeoutException as error:
            error.client_id = client_id  # type: ignore[attr-defined]
            error.message = f"{error.message} (trade clientId {client_id}: look for it before trading again)"
            error.args = (error.message,)
            raise
        if client_id is not None:
            response.setdefault("clientId", client_id)
        return response

    def _order(self, action: str, symbol: Any, volume: Any, stop_loss: Any, take_profit: Any) -> Trade:
        trade: Trade = {"actionType": action, "symbol": self._check_symbol("symbol", symbol),
                        "volume": positive("volume", volume)}  # fmt: skip
        _stop(trade, "stopLoss", "stop_loss", stop_loss)
        _stop(trade, "takeProfit", "take_profit", take_profit)
        return trade

    async def _market(self, action: str, symbol: Any, volume: Any, sl: Any, tp: Any, options: Any) -> dict[str, Any]:
        trade = merge_options(self._order(action, symbol, volume, sl, tp), options, MARKET_OPTIONS)
        return await self._trade(trade)

    async def _pending(
        self, action: str, symbol: Any, volume: Any, open_price: Any, sl: Any, tp: Any, options: Any, allowed: tuple
    ) -> dict[str, Any]:
        trade = merge_options(self._order(action, symbol, volume, sl, tp), options, allowed)
        trade["openPrice"] = _open_price(trade, "open_price", open_price, "openPriceUnits")
        return await self._trade(trade)

    async def create_market_buy_order(
        self, symbol: str, volume: float, stop_loss: Stop | None = None, take_profit: Stop | None = None,
        options: CreateMarketTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Buy at market (``ORDER_TYPE_BUY``); stops are a price or ``{value, units}``."""
        return await self._market("ORDER_TYPE_BUY", symbol, volume, stop_loss, take_profit, options)

    async def create_market_sell_order(
        self, symbol: str, volume: float, stop_loss: Stop | None = None, take_profit: Stop | None = None,
        options: CreateMarketTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Sell at market (``ORDER_TYPE_SELL``)."""
        return await self._market("ORDER_TYPE_SELL", symbol, volume, stop_loss, take_profit, options)

    async def create_limit_buy_order(
        self, symbol: str, volume: float, open_price: float, stop_loss: Stop | None = None,
        take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a buy limit order at ``open_price``."""
        return await self._pending("ORDER_TYPE_BUY_LIMIT", symbol, volume, open_price, stop_loss, take_profit,
                                   options, PENDING_OPTIONS)  # fmt: skip

    async def create_limit_sell_order(
        self, symbol: str, volume: float, open_price: float, stop_loss: Stop | None = None,
        take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a sell limit order at ``open_price``."""
        return await self._pending("ORDER_TYPE_SELL_LIMIT", symbol, volume, open_price, stop_loss, take_profit,
                                   options, PENDING_OPTIONS)  # fmt: skip

    async def create_stop_buy_order(
        self, symbol: str, volume: float, open_price: float, stop_loss: Stop | None = None,
        take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a buy stop order at ``open_price``."""
        return await self._pending("ORDER_TYPE_BUY_STOP", symbol, volume, open_price, stop_loss, take_profit,
                                   options, PENDING_OPTIONS)  # fmt: skip

    async def create_stop_sell_order(
        self, symbol: str, volume: float, open_price: float, stop_loss: Stop | None = None,
        take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a sell stop order at ``open_price``."""
        return await self._pending("ORDER_TYPE_SELL_STOP", symbol, volume, open_price, stop_loss, take_profit,
                                   options, PENDING_OPTIONS)  # fmt: skip

    async def _stop_limit(
        self, action: str, symbol: Any, volume: Any, open_price: Any, stop_limit_price: Any, sl: Any, tp: Any,
        options: Any,
    ) -> dict[str, Any]:  # fmt: skip
        trade = merge_options(self._order(action, symbol, volume, sl, tp), options, STOP_LIMIT_OPTIONS)
        trade["openPrice"] = _open_price(trade, "open_price", open_price, "openPriceUnits")
        trade["stopLimitPrice"] = _open_price(trade, "stop_limit_price", stop_limit_price, "stopLimitPriceUnits")
        return await self._trade(trade)

    async def create_stop_limit_buy_order(
        self, symbol: str, volume: float, open_price: float, stop_limit_price: float,
        stop_loss: Stop | None = None, take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a buy stop-limit order: at ``open_price`` it becomes a buy limit at ``stop_limit_price``."""
        return await self._stop_limit("ORDER_TYPE_BUY_STOP_LIMIT", symbol, volume, open_price, stop_limit_price,
                                      stop_loss, take_profit, options)  # fmt: skip

    async def create_stop_limit_sell_order(
        self, symbol: str, volume: float, open_price: float, stop_limit_price: float,
        stop_loss: Stop | None = None, take_profit: Stop | None = None, options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Place a sell stop-limit order: at ``open_price`` it becomes a sell limit at ``stop_limit_price``."""
        return await self._stop_limit("ORDER_TYPE_SELL_STOP_LIMIT", symbol, volume, open_price, stop_limit_price,
                                      stop_loss, take_profit, options)  # fmt: skip

    async def modify_position(
        self, position_id: str, stop_loss: Stop | None = None, take_profit: Stop | None = None,
        trailing_stop_loss: dict[str, Any] | None = None, stop_price_base: str | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Change a position's stop loss, take profit or trailing stop (``POSITION_MODIFY``)."""
        trade: Trade = {"actionType": "POSITION_MODIFY", "positionId": ticket("position_id", position_id)}
        _stop(trade, "stopLoss", "stop_loss", stop_loss)
        _stop(trade, "takeProfit", "take_profit", take_profit)
        if trailing_stop_loss is not None:
            trade["trailingStopLoss"] = _trailing("trailing_stop_loss", trailing_stop_loss)
        if stop_price_base is not None:
            trade["stopPriceBase"] = checks.choice("stop_price_base", stop_price_base, STOP_PRICE_BASES)
        return await self._trade(trade, identify=False)

    async def close_position_partially(
        self, position_id: str, volume: float, options: MarketTradeOptions | None = None
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Close ``volume`` lots of a position (``POSITION_PARTIAL``)."""
        trade = {"actionType": "POSITION_PARTIAL", "positionId": ticket("position_id", position_id),
                 "volume": positive("volume", volume)}  # fmt: skip
        return await self._trade(merge_options(trade, options, CLOSE_OPTIONS))

    async def close_position(
        self, position_id: str, options: MarketTradeOptions | None = None
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Close a position (``POSITION_CLOSE_ID``)."""
        trade = {"actionType": "POSITION_CLOSE_ID", "positionId": ticket("position_id", position_id)}
        return await self._trade(merge_options(trade, options, CLOSE_OPTIONS))

    async def close_by(
        self, position_id: str, opposite_position_id: str, options: MarketTradeOptions | None = None
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Close a position by an opposite one (``POSITION_CLOSE_BY``)."""
        trade = {"actionType": "POSITION_CLOSE_BY", "positionId": ticket("position_id", position_id),
                 "closeByPositionId": ticket("opposite_position_id", opposite_position_id)}  # fmt: skip
        return await self._trade(merge_options(trade, options, CLOSE_OPTIONS))

    async def close_positions_by_symbol(
        self, symbol: str, options: MarketTradeOptions | None = None
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Close every position on ``symbol`` (``POSITIONS_CLOSE_SYMBOL``)."""
        trade = {"actionType": "POSITIONS_CLOSE_SYMBOL", "symbol": self._check_symbol("symbol", symbol)}
        return await self._trade(merge_options(trade, options, CLOSE_OPTIONS))

    async def modify_order(
        self, order_id: str, open_price: float, stop_loss: Stop | None = None, take_profit: Stop | None = None,
        options: PendingTradeOptions | None = None,
    ) -> MetatraderTradeResponse:  # fmt: skip
        """Change a pending order's price and stops (``ORDER_MODIFY``)."""
        trade: Trade = {"actionType": "ORDER_MODIFY", "orderId": ticket("order_id", order_id)}
        _stop(trade, "stopLoss", "stop_loss", stop_loss)
        _stop(trade, "takeProfit", "take_profit", take_profit)
        merge_options(trade, options, MODIFY_ORDER_OPTIONS)
        trade["openPrice"] = _open_price(trade, "open_price", open_price, "openPriceUnits")
        return await self._trade(trade, identify=False)

    async def cancel_order(self, order_id: str) -> MetatraderTradeResponse:
        """Cancel a pending order (``ORDER_CANCEL``)."""
        return await self._trade({"actionType": "ORDER_CANCEL", "orderId": ticket("order_id", order_id)}, False)


__all__ = ["TradingApi", "merge_options", "new_client_id", "positive", "ticket", "with_client_id"]
