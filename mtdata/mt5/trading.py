"""Trading: ``order_send``, ``order_check``, ``order_calc_margin``, ``order_calc_profit``.

``order_send`` takes MT5's request dict and runs it through the session's order helpers
(:mod:`mtdata.orders`: the same checks of volume, stops, trade sessions and price, and the same trades the
rest of mtdata sees). A refusal is MT5's: an :class:`OrderSendResult` whose ``retcode`` says why
(``TRADE_RETCODE_INVALID_VOLUME``, ``…_MARKET_CLOSED``, the server's own code …); a request that is not a valid
dict returns None with ``RES_E_INVALID_PARAMS``. ``type_filling`` FOK and IOC are sent, RETURN leaves the
choice to the server; ``sl``/``tp`` of 0 mean none (``TRADE_ACTION_SLTP`` removes that stop).
"""

from __future__ import annotations

from typing import Any

from ..errors import TradeException, ValidationException
from ..order_checks import check_stops, check_volume
from ..trade_result import TradeResult
from . import constants as C
from .connection import STATE, invalid, mt5_function, session
from .market import check_symbol
from .records import ticket_of
from .times import seconds
from .types import OrderCheckResult, OrderSendResult, TradeRequest

_ACTIONS = {C.TRADE_ACTION_DEAL, C.TRADE_ACTION_PENDING, C.TRADE_ACTION_SLTP, C.TRADE_ACTION_MODIFY,
            C.TRADE_ACTION_REMOVE, C.TRADE_ACTION_CLOSE_BY}  # fmt: skip
#: Pending order types -> the kind :meth:`mtdata.Session.pending` takes.
PENDING_KINDS = {C.ORDER_TYPE_BUY_LIMIT: "buy limit", C.ORDER_TYPE_SELL_LIMIT: "sell limit",
                 C.ORDER_TYPE_BUY_STOP: "buy stop", C.ORDER_TYPE_SELL_STOP: "sell stop"}  # fmt: skip
_STOP_LIMITS = {C.ORDER_TYPE_BUY_STOP_LIMIT: "create_stop_limit_buy_order",
                C.ORDER_TYPE_SELL_STOP_LIMIT: "create_stop_limit_sell_order"}  # fmt: skip
#: The argument a refusal of mtdata's order checks names -> MT5's retcode.
REFUSALS = {"volume": C.TRADE_RETCODE_INVALID_VOLUME, "price": C.TRADE_RETCODE_INVALID_PRICE,
            "sl": C.TRADE_RETCODE_INVALID_STOPS, "tp": C.TRADE_RETCODE_INVALID_STOPS,
            "position": C.TRADE_RETCODE_POSITION_CLOSED, "order": C.TRADE_RETCODE_INVALID_ORDER}  # fmt: skip
_FILLINGS = {C.ORDER_FILLING_FOK: "ORDER_FILLING_FOK", C.ORDER_FILLING_IOC: "ORDER_FILLING_IOC"}


def request_of(request: Any) -> TradeRequest:
    """MT5's request dict as a :class:`TradeRequest`, each field of its type (else MT5's invalid params)."""
    if not isinstance(request, dict):
        raise invalid(f"request must be a dict, not {type(request).__name__}")
    unknown = sorted(set(request) - set(TradeRequest._fields))
    if unknown:
        raise invalid(f"unknown request fields {unknown}")
    hints = {name: type(default) for name, default in TradeRequest._field_defaults.items()}
    for name, value in request.items():
        kind = hints[name]
        ok = isinstance(value, str) if kind is str else (
            isinstance(value, int | float) if kind is float else isinstance(value, int)
        ) and not isinstance(value, bool)  # fmt: skip
        if not ok:
            raise invalid(f"request['{name}'] must be {kind.__name__}, not {type(value).__name__}")
    if request.get("action") not in _ACTIONS:
        raise invalid(f"request['action'] must be a TRADE_ACTION_* constant, not {request.get('action')!r}")
    return TradeRequest(**request)


def _options(req: TradeRequest) -> dict[str, Any]:
    options: dict[str, Any] = {"magic": req.magic} if req.magic else {}
    if req.comment:
        options["comment"] = req.comment
    if req.deviation:
        options["slippage"] = req.deviation
    return options


async def _execute(opened: Any, req: TradeRequest) -> TradeResult:
    """Run ``req`` through the session's order helpers (on the session's loop)."""
    sl, tp, options = req.sl or None, req.tp or None, _options(req)
    if req.action == C.TRADE_ACTION_DEAL and not req.position:
        if req.type not in (C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL):
            raise invalid("a TRADE_ACTION_DEAL opens with type ORDER_TYPE_BUY or ORDER_TYPE_SELL")
        if req.type_filling in _FILLINGS:
            options["fillingModes"] = [_FILLINGS[req.type_filling]]
        return await opened._market_order(req.type == C.ORDER_TYPE_BUY, req.symbol, req.volume, sl, tp, "price",
                                          options)  # fmt: skip
    if req.action == C.TRADE_ACTION_DEAL:
        connection, record = await opened._open_position(str(req.position))
        if req.type != (C.ORDER_TYPE_SELL if record["type"] == "POSITION_TYPE_BUY" else C.ORDER_TYPE_BUY):
            raise invalid("closing a position takes the opposite type (ORDER_TYPE_SELL closes a buy)")
        spec = connection.terminal_state.specification(record["symbol"])
        await opened._check_open(connection, [spec])
        if req.volume and req.volume < float(record["volume"]) - 1e-9:
            volume = check_volume(spec, req.volume)
            return await opened._send_fill(connection, connection.close_position_partially(record["id"], volume))
        return await opened._send_fill(connection, connection.close_position(record["id"]))
    if req.action == C.TRADE_ACTION_PENDING:
        expiration = None
        if req.type_time == C.ORDER_TIME_SPECIFIED:
            expiration = STATE.clock.to_utc(seconds("expiration", req.expiration)).to_pydatetime()
        if req.type in _STOP_LIMITS:
            connection, spec, _ = await opened._market(req.symbol)
            helper = getattr(connection, _STOP_LIMITS[req.type])
            return await opened._send(helper(req.symbol, check_volume(spec, req.volume), req.price, req.stoplimit,
                                             sl, tp, options))  # fmt: skip
        if req.type not in PENDING_KINDS:
            raise invalid("a TRADE_ACTION_PENDING takes a limit, stop or stop-limit ORDER_TYPE_*")
        return await opened._pending_order(PENDING_KINDS[req.type], req.symbol, req.volume, req.price, sl, tp,
                                           expiration, "price", options)  # fmt: skip
    if req.action == C.TRADE_ACTION_SLTP:
        return await _sltp(opened, req)
    if req.action == C.TRADE_ACTION_MODIFY:
        connection = await opened._connection()
        return await opened._send(connection.modify_order(str(req.order), req.price, sl, tp))
    if req.action == C.TRADE_ACTION_REMOVE:
        return await opened._cancel(str(req.order))
    connection, record = await opened._open_position(str(req.position))
    await opened._open_position(str(req.position_by))
    await opened._check_open(connection, [connection.terminal_state.specification(record["symbol"])])
    return await opened._send_fill(connection, connection.close_by(record["id"], str(req.position_by)))


async def _sltp(opened: Any, req: TradeRequest) -> TradeResult:
    """MT5's ``TRADE_ACTION_SLTP``: the position's stops become ``sl`` and ``tp`` (0 removes one), each checked
    against the current price as ``Session.modify`` checks them."""
    connection, record = await opened._open_position(str(req.position))
    _, spec, quote = await opened._market(record["symbol"])
    buy = record["type"] == "POSITION_TYPE_BUY"
    exit_price = float(quote["bid"] if buy else quote["ask"])
    check_stops(spec, req.sl or None, req.tp or None, exit_price, buy, "buy" if buy else "sell")
    return await opened._send(connection.modify_position(record["id"], float(req.sl), float(req.tp)))


def _refusal(error: ValidationException) -> int:
    """MT5's retcode for a refusal of mtdata's order checks."""
    name = (error.details or [{}])[0].get("parameter", "")
    if name == "symbol" and "closed" in str(error):
        return C.TRADE_RETCODE_MARKET_CLOSED
    return REFUSALS.get(name, C.TRADE_RETCODE_INVALID)


def _quote(opened: Any, symbol: str) -> tuple[float, float]:
    price = opened.connection().terminal_state.price(symbol) if symbol else None
    return (float(price["bid"]), float(price["ask"])) if price else (0.0, 0.0)


@mt5_function()
def order_send(request: dict[str, Any]) -> OrderSendResult:
    """Send a trade request (MT5's dict); the answer's ``retcode`` is ``TRADE_RETCODE_DONE`` (or ``PLACED``) when
    done, else why not. Returns None (``RES_E_INVALID_PARAMS``) for a malformed request."""
    req, opened = request_of(request), session()
    STATE.requests += 1
    try:
        result = opened.run(_execute(opened, req))
    except TradeException as error:
        code = error.numeric_code or C.TRADE_RETCODE_ERROR
        return OrderSendResult(code, 0, 0, 0.0, 0.0, *_quote(opened, req.symbol), str(error), STATE.requests, 0, req)
    except ValidationException as error:
        code = _refusal(error)
        return OrderSendResult(code, 0, 0, 0.0, 0.0, *_quote(opened, req.symbol), str(error), STATE.requests, 0, req)
    history = opened.connection().history_storage
    mine = history.get_deals_by_position(result.position_id) if result.position_id else []
    deals = [d for d in mine if d.get("orderId") == result.order_id]
    return OrderSendResult(
        result.code or 0, ticket_of(deals[-1]["id"]) if deals else 0, ticket_of(result.order_id),
        float(result.volume or (req.volume if req.action == C.TRADE_ACTION_PENDING else 0)),
        float(result.price or (req.price if req.action == C.TRADE_ACTION_PENDING else 0)), *_quote(opened, req.symbol),
        result.message or "", STATE.requests, 0, req,
    )  # fmt: skip


def _margin(opened: Any, order_type: int, symbol: str, volume: float, price: float) -> float:
    if order_type not in (C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL):
        raise invalid("action must be ORDER_TYPE_BUY or ORDER_TYPE_SELL")
    kind = "ORDER_TYPE_BUY" if order_type == C.ORDER_TYPE_BUY else "ORDER_TYPE_SELL"
    order = {"symbol": symbol, "type": kind, "volume": volume, "openPrice": price}
    return float(opened.run(opened.connection().calculate_margin(order))["margin"])


@mt5_function()
def order_calc_margin(action: int, symbol: str, volume: float, price: float, /) -> float:
    """The margin (account currency) ``volume`` lots of ``symbol`` bought / sold (``action``) at ``price`` need."""
    return _margin(session(), action, check_symbol(symbol), volume, price)


@mt5_function()
def order_calc_profit(action: int, symbol: str, volume: float, price_open: float, price_close: float, /) -> float:
    """The profit (account currency) of ``volume`` lots bought / sold at ``price_open`` and closed at
    ``price_close``, by the symbol's current tick values (as MT5)."""
    if action not in (C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL):
        raise invalid("action must be ORDER_TYPE_BUY or ORDER_TYPE_SELL")
    for name, value in (("volume", volume), ("price_open", price_open), ("price_close", price_close)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"{name} must be a number, not {type(value).__name__}")
    opened, name = session(), check_symbol(symbol)
    state = opened.connection().terminal_state
    spec, price = state.specification(name), state.price(name)
    if price is None:
        opened.run(opened.connection().subscribe_to_market_data(name))
        price = opened.run(state.wait_for_price(name))
    ticks = (price_close - price_open) * (1 if action == C.ORDER_TYPE_BUY else -1) / float(spec["tickSize"])
    value = float(price["profitTickValue"] if ticks >= 0 else price["lossTickValue"])
    return round(ticks * value * volume, 2)


@mt5_function()
def order_check(request: dict[str, Any]) -> OrderCheckResult:
    """Check a request without sending it: ``retcode`` 0 (``comment`` "Done") when mtdata's order checks pass and
    the free margin covers it, else MT5's retcode; the account figures as they would be after it."""
    req, opened = request_of(request), session()
    account = opened.connection().terminal_state.account_information or {}
    balance, equity = float(account.get("balance", 0)), float(account.get("equity", 0))
    margin, code, comment = float(account.get("margin") or 0), 0, "Done"
    try:
        if req.action == C.TRADE_ACTION_DEAL and not req.position:
            kind = "buy" if req.type == C.ORDER_TYPE_BUY else "sell"
            preview = opened.preview(kind, req.symbol, req.volume, None, req.sl or None, req.tp or None)
            margin += _margin(opened, req.type, req.symbol, preview.volume, preview.quote)
        elif req.action == C.TRADE_ACTION_PENDING and req.type in PENDING_KINDS:
            preview = opened.preview(PENDING_KINDS[req.type], req.symbol, req.volume, req.price, req.sl or None,
                                     req.tp or None)  # fmt: skip
            margin += _margin(opened, req.type % 2, req.symbol, preview.volume, req.price)
    except ValidationException as error:
        code, comment = _refusal(error), str(error)
    free = equity - margin
    if code == 0 and free < 0:
        code, comment = C.TRADE_RETCODE_NO_MONEY, "No money"
    level = round(equity / margin * 100, 2) if margin else 0.0
    return OrderCheckResult(code, balance, equity, round(equity - balance, 2), round(margin, 2), round(free, 2), level,
                            comment, req)  # fmt: skip


__all__ = ["PENDING_KINDS", "REFUSALS", "order_calc_margin", "order_calc_profit", "order_check", "order_send",
           "request_of"]  # fmt: skip
