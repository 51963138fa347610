"""Orders from notebook cells: ``s.buy``, ``s.sell``, pending orders, ``close_position``, ``modify``, ``cancel``.

Each helper checks the trade against the symbol's specification (volume min/max/step, stops level,
trade sessions by the broker clock) and the current price before anything is sent, and explains a
problem in one sentence in a :class:`~mtdata.errors.ValidationException` naming the argument;
``s.preview`` runs the same checks and sends nothing (an :class:`OrderPreview`, one sentence). Trades go
through the session's streaming connection; the answer is a :class:`TradeResult`, a rejection raises
:class:`~mtdata.errors.TradeException` with MetaTrader's code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import arguments
from .client import checks
from .client.connections.trading import ticket
from .order_checks import (
    MARKET,
    PENDING,
    UNITS,
    OrderPreview,
    check_pending_price,
    check_session,
    check_stops,
    check_volume,
    refuse,
    to_price,
    unknown_symbol,
)
from .trade_result import FillWatch, TradeResult

if TYPE_CHECKING:
    from ._loop import LoopThread

#: What a missing position / order usually is, said when None is passed for one.
_NONE_HINTS = {"position": "; a pending order's TradeResult has position_id None: cancel its order_id instead"}


def _ticket(name: str, value: Any) -> str:
    """An id from an id, a record dict or a row of ``positions()`` / ``orders()``; None is refused by name."""
    if value is None:
        sentence = f"{name} is None: pass the {name}'s id, record or row of s.{name}s(){_NONE_HINTS.get(name, '')}."
        raise refuse(name, sentence, value)
    if not isinstance(value, str | int) and hasattr(value, "get"):
        value = value.get("id")
    return ticket(name, value)


def _options(comment: Any, client_id: Any, magic: Any, slippage: Any) -> dict[str, Any]:
    raw = {"comment": comment, "clientId": client_id, "magic": magic, "slippage": slippage}
    return {key: value for key, value in raw.items() if value is not None}


def _expiration(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"type": "ORDER_TIME_SPECIFIED", "time": arguments.moment("expiration", value)}


class Orders:
    """The order helpers of :class:`~mtdata.session.Session` (a base class, not used alone)."""

    _loop: LoopThread

    async def _run(self, coro: Any) -> Any:  # provided by Session
        raise NotImplementedError

    async def _connection(self) -> Any:  # provided by AccountFrames
        raise NotImplementedError

    # -- checks against the terminal state ------------------------------------------------------------

    async def _market(self, symbol: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        """The connection, the specification of ``symbol`` (refused when unknown or closed) and its price."""
        checks.text("symbol", symbol)
        connection = await self._connection()
        state = connection.terminal_state
        spec = state.specification(symbol)
        if spec is None:
            raise unknown_symbol(symbol)
        await self._check_open(connection, [spec])
        if symbol not in connection.subscribed_symbols():
            await connection.subscribe_to_market_data(symbol)
        price = state.price(symbol) or await state.wait_for_price(symbol)
        return connection, spec, price

    async def _check_open(self, connection: Any, specs: list[dict[str, Any]]) -> None:
        """Refuse when a symbol of ``specs`` is outside its trade sessions by the broker clock (the server's time:
        the last quote's time says nothing of a weekend)."""
        if specs:
            broker_time = (await connection.get_server_time())["brokerTime"]
            for spec in specs:
                check_session(spec, broker_time)

    async def _send(self, coro: Any) -> TradeResult:
        return TradeResult.from_response(await coro)

    async def _send_fill(self, connection: Any, coro: Any) -> TradeResult:
        """Send a trade that fills (a market order, a close): its result carries the fill read from its deals."""
        watch = FillWatch(connection)
        connection.add_synchronization_listener(watch)  # before sending: the deal may come before the response
        try:
            return await watch.fill(TradeResult.from_response(await coro))
        finally:
            connection.remove_synchronization_listener(watch)

    # -- checks of a new order -------------------------------------------------------------------------

    async def _check(
        self, kind: str, symbol: Any, volume: Any, price: Any, sl: Any, tp: Any, units: Any
    ) -> tuple[Any, OrderPreview]:
        """The connection and the checked order of ``kind`` (``buy``, ``sell`` or a pending kind); nothing sent."""
        checks.choice("units", units, UNITS)
        pending, buy = kind in PENDING, kind.startswith("buy")
        if pending:
            checks.number("price", price, minimum=0)
        elif price is not None:
            raise refuse("price", f"a {kind} at market takes no price; use a limit or stop order for one.", price)
        connection, spec, quote = await self._market(symbol)
        volume = check_volume(spec, volume)
        now = float(quote["ask"] if buy else quote["bid"])
        if pending:
            check_pending_price(spec, kind, float(price), float(quote["bid"]), float(quote["ask"]))
        entry = float(price) if pending else now
        sl_price, tp_price = to_price(spec, "sl", sl, entry, buy, units), to_price(spec, "tp", tp, entry, buy, units)
        check_stops(spec, sl_price, tp_price, entry, buy, kind)
        away = units != "price"
        preview = OrderPreview(
            kind, symbol, volume, entry if pending else None, now, sl_price, tp_price, int(spec["digits"]), units,
            sl if away else None, tp if away else None,
        )  # fmt: skip
        return connection, preview

    async def preview_async(
        self, kind: str, symbol: str, volume: float, price: float | None = None, sl: float | None = None,
        tp: float | None = None, *, units: str = "price",
    ) -> OrderPreview:  # fmt: skip
        """Check an order of ``kind`` (``buy``, ``sell``, ``buy limit`` ...) as its helper would, without sending it:
        the :class:`~mtdata.order_checks.OrderPreview` (its ``str`` is one sentence), or the ValidationException the
        helper would raise."""
        checks.choice("kind", kind, (*MARKET, *PENDING))
        return (await self._run(self._check(kind, symbol, volume, price, sl, tp, units)))[1]

    def preview(self, kind: str, symbol: str, volume: float, *args: Any, **kw: Any) -> OrderPreview:
        """Blocking :meth:`preview_async`."""
        return self._loop.run(self.preview_async(kind, symbol, volume, *args, **kw))

    # -- market orders ---------------------------------------------------------------------------------

    async def _market_order(
        self, buy: bool, symbol: Any, volume: Any, sl: Any, tp: Any, units: Any, options: dict[str, Any]
    ) -> TradeResult:
        connection, order = await self._check("buy" if buy else "sell", symbol, volume, None, sl, tp, units)
        helper = connection.create_market_buy_order if buy else connection.create_market_sell_order
        return await self._send_fill(connection, helper(symbol, order.volume, *order.stops_sent(), options))

    async def buy_async(
        self, symbol: str, volume: float, sl: float | None = None, tp: float | None = None, *,
        comment: str | None = None, client_id: str | None = None, magic: int | None = None,
        slippage: int | None = None, units: str = "price",
    ) -> TradeResult:  # fmt: skip
        """Buy ``volume`` lots of ``symbol`` at market; ``sl`` / ``tp`` are prices, or distances in ``units`` (from
        the fill: :meth:`~mtdata.order_checks.OrderPreview.stops_sent`)."""
        options = _options(comment, client_id, magic, slippage)
        return await self._run(self._market_order(True, symbol, volume, sl, tp, units, options))

    def buy(
        self, symbol: str, volume: float, sl: float | None = None, tp: float | None = None, **kw: Any
    ) -> TradeResult:
        """Blocking :meth:`buy_async`."""
        return self._loop.run(self.buy_async(symbol, volume, sl, tp, **kw))

    async def sell_async(
        self, symbol: str, volume: float, sl: float | None = None, tp: float | None = None, *,
        comment: str | None = None, client_id: str | None = None, magic: int | None = None,
        slippage: int | None = None, units: str = "price",
    ) -> TradeResult:  # fmt: skip
        """Sell ``volume`` lots of ``symbol`` at market; ``sl`` / ``tp`` are prices, or distances in ``units`` (from
        the fill: :meth:`~mtdata.order_checks.OrderPreview.stops_sent`)."""
        options = _options(comment, client_id, magic, slippage)
        return await self._run(self._market_order(False, symbol, volume, sl, tp, units, options))

    def sell(
        self, symbol: str, volume: float, sl: float | None = None, tp: float | None = None, **kw: Any
    ) -> TradeResult:
        """Blocking :meth:`sell_async`."""
        return self._loop.run(self.sell_async(symbol, volume, sl, tp, **kw))

    # -- pending orders --------------------------------------------------------------------------------

    async def _pending_order(
        self, kind: str, symbol: Any, volume: Any, price: Any, sl: Any, tp: Any, expiration: Any, units: Any,
        options: dict[str, Any],
    ) -> TradeResult:  # fmt: skip
        if expiration is not None:
            options["expiration"] = _expiration(expiration)
        connection, order = await self._check(kind, symbol, volume, price, sl, tp, units)
        helper = getattr(connection, PENDING[kind][0])
        return await self._send(helper(symbol, order.volume, price, order.sl, order.tp, options))

    async def pending_async(
        self, kind: str, symbol: str, volume: float, price: float, sl: float | None = None, tp: float | None = None,
        expiration: Any = None, *, comment: str | None = None, client_id: str | None = None, magic: int | None = None,
        slippage: int | None = None, units: str = "price",
    ) -> TradeResult:  # fmt: skip
        """A pending order of ``kind`` (``buy limit``, ``sell limit``, ``buy stop``, ``sell stop``) at ``price``;
        ``expiration`` (a time) ends it; ``sl`` / ``tp`` are prices, or distances from ``price`` in ``units``."""
        checks.choice("kind", kind, PENDING)
        options = _options(comment, client_id, magic, slippage)
        return await self._run(self._pending_order(kind, symbol, volume, price, sl, tp, expiration, units, options))

    def pending(self, kind: str, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """Blocking :meth:`pending_async`."""
        return self._loop.run(self.pending_async(kind, symbol, volume, price, *args, **kw))

    async def buy_limit_async(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """A buy limit at ``price`` (below the ask): see :meth:`pending_async`."""
        return await self.pending_async("buy limit", symbol, volume, price, *args, **kw)

    def buy_limit(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """Blocking :meth:`buy_limit_async`."""
        return self._loop.run(self.buy_limit_async(symbol, volume, price, *args, **kw))

    async def sell_limit_async(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """A sell limit at ``price`` (above the bid): see :meth:`pending_async`."""
        return await self.pending_async("sell limit", symbol, volume, price, *args, **kw)

    def sell_limit(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """Blocking :meth:`sell_limit_async`."""
        return self._loop.run(self.sell_limit_async(symbol, volume, price, *args, **kw))

    async def buy_stop_async(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """A buy stop at ``price`` (above the ask): see :meth:`pending_async`."""
        return await self.pending_async("buy stop", symbol, volume, price, *args, **kw)

    def buy_stop(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """Blocking :meth:`buy_stop_async`."""
        return self._loop.run(self.buy_stop_async(symbol, volume, price, *args, **kw))

    async def sell_stop_async(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """A sell stop at ``price`` (below the bid): see :meth:`pending_async`."""
        return await self.pending_async("sell stop", symbol, volume, price, *args, **kw)

    def sell_stop(self, symbol: str, volume: float, price: float, *args: Any, **kw: Any) -> TradeResult:
        """Blocking :meth:`sell_stop_async`."""
        return self._loop.run(self.sell_stop_async(symbol, volume, price, *args, **kw))

    # -- positions and orders --------------------------------------------------------------------------

    async def _open_position(self, position: Any) -> tuple[Any, dict[str, Any]]:
        position_id = _ticket("position", position)
        connection = await self._connection()
        record = next((p for p in connection.terminal_state.positions if p.get("id") == position_id), None)
        if record is None:
            raise refuse("position", f"position {position_id} is not open on this account.", position_id)
        return connection, record

    async def _close_one(self, position: Any) -> TradeResult:
        connection, record = await self._open_position(position)
        await self._check_open(connection, [connection.terminal_state.specification(record["symbol"])])
        return await self._send_fill(connection, connection.close_position(record["id"]))

    async def close_position_async(self, position: Any) -> TradeResult:
        """Close a position at market: its id, its record dict, or a row of :meth:`positions`. ``None`` is refused
        (a ValidationException naming ``position``): the session is closed by :meth:`close`, never by this."""
        return await self._run(self._close_one(position))

    def close_position(self, position: Any) -> TradeResult:
        """Blocking :meth:`close_position_async`."""
        return self._loop.run(self.close_position_async(position))

    async def _close_all(self, symbol: Any) -> list[TradeResult]:
        checks.text("symbol", symbol, optional=True)
        connection = await self._connection()
        state = connection.terminal_state
        chosen = [p for p in state.positions if symbol in (None, p.get("symbol"))]
        await self._check_open(connection, [state.specification(name) for name in {p["symbol"] for p in chosen}])
        ids = [p["id"] for p in chosen]
        return [await self._send_fill(connection, connection.close_position(position_id)) for position_id in ids]

    async def close_all_async(self, symbol: str | None = None) -> list[TradeResult]:
        """Close every open position (of ``symbol`` when given), one by one; their results in order."""
        return await self._run(self._close_all(symbol))

    def close_all(self, symbol: str | None = None) -> list[TradeResult]:
        """Blocking :meth:`close_all_async`."""
        return self._loop.run(self.close_all_async(symbol))

    async def _modify(self, position: Any, sl: Any, tp: Any) -> TradeResult:
        connection, record = await self._open_position(position)
        checks.number("sl", sl, minimum=0, optional=True)
        checks.number("tp", tp, minimum=0, optional=True)
        if sl is None and tp is None:
            raise refuse("sl", "modify needs a new sl or tp.", None)
        _, spec, price = await self._market(record["symbol"])
        buy = record["type"] == "POSITION_TYPE_BUY"
        check_stops(spec, sl, tp, float(price["bid"] if buy else price["ask"]), buy, "buy" if buy else "sell")
        return await self._send(connection.modify_position(record["id"], sl, tp))

    async def modify_async(self, position: Any, sl: float | None = None, tp: float | None = None) -> TradeResult:
        """Set a position's stop loss and / or take profit (prices; checked against the current price)."""
        return await self._run(self._modify(position, sl, tp))

    def modify(self, position: Any, sl: float | None = None, tp: float | None = None) -> TradeResult:
        """Blocking :meth:`modify_async`."""
        return self._loop.run(self.modify_async(position, sl, tp))

    async def _cancel(self, order: Any) -> TradeResult:
        order_id = _ticket("order", order)
        connection = await self._connection()
        state = connection.terminal_state
        record = next((o for o in state.orders if o.get("id") == order_id), None)
        if record is None:
            raise refuse("order", f"order {order_id} is not a pending order of this account.", order_id)
        await self._check_open(connection, [state.specification(record["symbol"])])
        return await self._send(connection.cancel_order(order_id))

    async def cancel_async(self, order: Any) -> TradeResult:
        """Cancel a pending order: its id, its record dict, or a row of :meth:`orders`."""
        return await self._run(self._cancel(order))

    def cancel(self, order: Any) -> TradeResult:
        """Blocking :meth:`cancel_async`."""
        return self._loop.run(self.cancel_async(order))


__all__ = ["Orders"]
