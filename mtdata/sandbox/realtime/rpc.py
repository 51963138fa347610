"""RPC requests (§5.3): terminal state, history, symbols, quotes, server time and margin."""

from __future__ import annotations

from typing import Any

from ..broker.money import margin_for
from ..errors import NotFoundError, ValidationError
from ..timeutil import iso_ms
from . import fields
from .calls import EITHER, RPC, Call, route

#: Default and largest page of the time-range history requests.
HISTORY_LIMIT = 1000


@route("getAccountInformation", RPC)
async def get_account_information(call: Call) -> dict[str, Any]:
    fields.flag(call.request, "refreshTerminalState")
    return {"accountInformation": call.account_information()}


@route("getPositions", RPC)
async def get_positions(call: Call) -> dict[str, Any]:
    fields.flag(call.request, "refreshTerminalState")
    return {"positions": call.terminal.positions(call.doc)}


def _one(call: Call, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``{kind: item}`` answer for the item whose id the request names in ``{kind}Id``."""
    wanted = fields.ticket(call.request, f"{kind}Id")
    fields.flag(call.request, "refreshTerminalState")
    for item in items:
        if str(item.get("id")) == wanted:
            return {kind: item}
    raise NotFoundError(f"{kind.capitalize()} {wanted} not found")


@route("getPosition", RPC)
async def get_position(call: Call) -> dict[str, Any]:
    return _one(call, "position", call.terminal.positions(call.doc))


@route("getOrders", RPC)
async def get_orders(call: Call) -> dict[str, Any]:
    fields.flag(call.request, "refreshTerminalState")
    return {"orders": call.terminal.orders(call.doc)}


@route("getOrder", RPC)
async def get_order(call: Call) -> dict[str, Any]:
    return _one(call, "order", call.terminal.orders(call.doc))


def _page(call: Call) -> tuple[int, int, int, int]:
    request = call.request
    start = fields.date_ms(request, "startTime")
    end = fields.date_ms(request, "endTime")
    assert start is not None and end is not None
    if end < start:
        raise ValidationError.field("endTime", "must not be before startTime", request.get("endTime"))
    offset = fields.integer(request, "offset", 0, maximum=10**9)
    limit = fields.integer(request, "limit", HISTORY_LIMIT, maximum=HISTORY_LIMIT)
    return start, end, offset, limit


@route("getHistoryOrdersByTicket", RPC)
async def history_orders_by_ticket(call: Call) -> dict[str, Any]:
    ticket = fields.ticket(call.request, "ticket")
    return {"historyOrders": call.terminal.history_orders_by(call.doc, "id", ticket), "synchronizing": False}


@route("getHistoryOrdersByPosition", RPC)
async def history_orders_by_position(call: Call) -> dict[str, Any]:
    position_id = fields.ticket(call.request, "positionId")
    orders = call.terminal.history_orders_by(call.doc, "positionId", position_id)
    return {"historyOrders": orders, "synchronizing": False}


@route("getHistoryOrdersByTimeRange", RPC)
async def history_orders_by_time_range(call: Call) -> dict[str, Any]:
    start, end, offset, limit = _page(call)
    orders = call.terminal.history_orders(call.doc, start, end, offset, limit)
    return {"historyOrders": orders, "synchronizing": False}


@route("getDealsByTicket", RPC)
async def deals_by_ticket(call: Call) -> dict[str, Any]:
    ticket = fields.ticket(call.request, "ticket")
    return {"deals": call.terminal.deals_by(call.doc, "id", ticket), "synchronizing": False}


@route("getDealsByPosition", RPC)
async def deals_by_position(call: Call) -> dict[str, Any]:
    position_id = fields.ticket(call.request, "positionId")
    return {"deals": call.terminal.deals_by(call.doc, "positionId", position_id), "synchronizing": False}


@route("getDealsByTimeRange", RPC)
async def deals_by_time_range(call: Call) -> dict[str, Any]:
    start, end, offset, limit = _page(call)
    return {"deals": call.terminal.deals(call.doc, start, end, offset, limit), "synchronizing": False}


@route("getSymbols", RPC)
async def get_symbols(call: Call) -> dict[str, Any]:
    return {"symbols": call.market.symbols()}


@route("getSymbolSpecification", RPC)
async def get_symbol_specification(call: Call) -> dict[str, Any]:
    return {"specification": call.market.specification(fields.symbol(call.request, call.market))}


@route("getSymbolPrice", RPC)
async def get_symbol_price(call: Call) -> dict[str, Any]:
    symbol = fields.symbol(call.request, call.market)
    fields.flag(call.request, "keepSubscription")
    return {"price": call.market.price(symbol, None, call.currency)}


@route("getCandle", RPC)
async def get_candle(call: Call) -> dict[str, Any]:
    symbol = fields.symbol(call.request, call.market)
    timeframe = fields.timeframe(call.request)
    fields.flag(call.request, "keepSubscription")
    return {"candle": call.market.candle(symbol, timeframe)}


@route("getTick", RPC)
async def get_tick(call: Call) -> dict[str, Any]:
    symbol = fields.symbol(call.request, call.market)
    fields.flag(call.request, "keepSubscription")
    return {"tick": call.market.tick(symbol)}


@route("getBook", RPC)
async def get_book(call: Call) -> dict[str, Any]:
    symbol = fields.symbol(call.request, call.market)
    fields.flag(call.request, "keepSubscription")
    return {"book": call.market.book(symbol)}


@route("getServerTime", RPC)
async def get_server_time(call: Call) -> dict[str, Any]:
    market = call.market
    now = market.now_ms()
    symbols = market.symbols()
    server_time = {"time": iso_ms(now), "brokerTime": market.broker_time(now)}
    if symbols:
        quote_symbol = "EURUSD" if "EURUSD" in symbols else symbols[0]
        tick = market.tick(quote_symbol)
        server_time["lastQuoteTime"] = tick["time"]
        server_time["lastQuoteBrokerTime"] = tick["brokerTime"]
    return {"serverTime": server_time}


@route("refreshTerminalState", RPC)
async def refresh_terminal_state(call: Call) -> dict[str, Any]:
    """The symbols this socket streams for the account; fresh ``prices`` for them follow the response."""
    streams = call.conn.account_streams(call.account_id)
    symbols = sorted({symbol for stream in streams for symbol in stream.market})
    if symbols:
        call.after.append(lambda: call.hub.feed.push_prices(call.conn, streams, symbols))
    return {"symbols": symbols}


@route("refreshSymbolQuotes", EITHER)
async def refresh_symbol_quotes(call: Call) -> dict[str, Any]:
    symbols = fields.symbols(call.request, call.market)
    quotes = [call.market.price(symbol, None, call.currency) for symbol in symbols]
    figures = call.terminal.figures(call.doc)
    return {"refreshedQuotes": {"quotes": quotes, **figures, "accountCurrencyExchangeRate": 1}}


@route("calculateMargin", EITHER)
async def calculate_margin(call: Call) -> dict[str, Any]:
    order = fields.obj(call.request, "order")
    with fields.nested("order"):
        symbol = fields.symbol(order, call.market)
        order_type = fields.text(order, "type", max_length=64)
        volume = fields.number(order, "volume", positive=True)
        price = fields.number(order, "openPrice", positive=True)
    if order_type not in ("ORDER_TYPE_BUY", "ORDER_TYPE_SELL"):
        raise ValidationError.field("order.type", "must be ORDER_TYPE_BUY or ORDER_TYPE_SELL", order_type)
    trading = call.doc.get("_trading", {})
    spec = call.market.specification(symbol)
    margin = margin_for(call.market, spec, volume, price, trading.get("leverage", 100), call.currency)
    return {"margin": {"margin": margin}}
