"""Symbols and market depth: ``symbols_total``, ``symbols_get``, ``symbol_info``, ``symbol_info_tick``,
``symbol_select`` and ``market_book_add/get/release``.

``symbol_select`` is the market-data subscription (MT5's Market Watch): ``symbol_info`` of a selected symbol
carries its current bid and ask, of another the last ones the connection saw (0.0 before any), as in MT5.
"""

from __future__ import annotations

from typing import Any

from . import constants as C
from .connection import STATE, invalid, mt5_function, session
from .market import check_symbol
from .records import check_group, in_group, mt5_time
from .types import BookInfo, SymbolInfo, Tick, blank

#: MQL5's flag values of a symbol's expiration, filling and order modes (bitmasks of SymbolInfo).
EXPIRATION_FLAGS = {"SYMBOL_EXPIRATION_GTC": 1, "SYMBOL_EXPIRATION_DAY": 2, "SYMBOL_EXPIRATION_SPECIFIED": 4,
                    "SYMBOL_EXPIRATION_SPECIFIED_DAY": 8}  # fmt: skip
FILLING_FLAGS = {"SYMBOL_FILLING_FOK": 1, "SYMBOL_FILLING_IOC": 2, "SYMBOL_FILLING_BOC": 4}
ORDER_FLAGS = {"SYMBOL_ORDER_MARKET": 1, "SYMBOL_ORDER_LIMIT": 2, "SYMBOL_ORDER_STOP": 4,
               "SYMBOL_ORDER_STOP_LIMIT": 8, "SYMBOL_ORDER_SL": 16, "SYMBOL_ORDER_TP": 32,
               "SYMBOL_ORDER_CLOSEBY": 64}  # fmt: skip


def _mask(names: Any, flags: dict[str, int]) -> int:
    return sum(flags.get(name, 0) for name in names or ())


def _seconds(price: dict[str, Any] | None) -> tuple[int, int]:
    """A quote's MetaTrader time (seconds, milliseconds); zeros before any quote."""
    return mt5_time(price) if price else (0, 0)


def info(spec: dict[str, Any], price: dict[str, Any] | None, selected: bool) -> SymbolInfo:
    """A specification (and the last quote) as MT5's ``SymbolInfo``; what the wire lacks is 0 or ``""``."""
    fields = blank(SymbolInfo)
    bid, ask = (float(price["bid"]), float(price["ask"])) if price else (0.0, 0.0)
    point = float(spec.get("point") or spec.get("tickSize") or 0)
    fields.update(
        select=selected, visible=selected, time=_seconds(price)[0], digits=int(spec.get("digits", 0)),
        spread=round((ask - bid) / point) if price and point else 0, spread_float=True,
        trade_calc_mode=C.code(spec.get("priceCalculationMode")), trade_mode=C.code(spec.get("tradeMode")),
        trade_stops_level=int(spec.get("stopsLevel") or 0), trade_freeze_level=int(spec.get("freezeLevel") or 0),
        trade_exemode=C.code(spec.get("executionMode")), swap_mode=C.code(spec.get("swapMode")),
        swap_rollover3days=C.code(f"DAY_OF_WEEK_{spec.get('swapRollover3Days')}"),
        expiration_mode=_mask(spec.get("allowedExpirationModes"), EXPIRATION_FLAGS),
        filling_mode=_mask(spec.get("fillingModes"), FILLING_FLAGS),
        order_mode=_mask(spec.get("allowedOrderTypes"), ORDER_FLAGS), bid=bid, ask=ask, point=point,
        trade_tick_value=float((price or {}).get("profitTickValue") or 0),
        trade_tick_value_profit=float((price or {}).get("profitTickValue") or 0),
        trade_tick_value_loss=float((price or {}).get("lossTickValue") or 0),
        trade_tick_size=float(spec.get("tickSize") or 0), trade_contract_size=float(spec.get("contractSize") or 0),
        volume_min=float(spec.get("minVolume") or 0), volume_max=float(spec.get("maxVolume") or 0),
        volume_step=float(spec.get("volumeStep") or 0), swap_long=float(spec.get("swapLong") or 0),
        swap_short=float(spec.get("swapShort") or 0), margin_initial=float(spec.get("initialMargin") or 0),
        margin_maintenance=float(spec.get("maintenanceMargin") or 0),
        margin_hedged=float(spec.get("hedgedMargin") or 0), currency_base=spec.get("baseCurrency") or "",
        currency_profit=spec.get("profitCurrency") or "", currency_margin=spec.get("marginCurrency") or "",
        description=spec.get("description") or "", name=spec["symbol"], path=spec.get("path") or "",
    )  # fmt: skip
    return SymbolInfo(**fields)


def _connection() -> Any:
    return session().connection()


@mt5_function(0)
def symbols_total() -> int:
    """The number of the account's symbols."""
    return len(_connection().terminal_state.specifications)


@mt5_function()
def symbols_get(group: str | None = None) -> tuple:
    """The account's symbols (those passing MT5's ``group`` mask, e.g. ``"*,!*USD*"``) as ``SymbolInfo`` tuples."""
    pattern = check_group(group)
    connection = _connection()
    state, selected = connection.terminal_state, set(connection.subscribed_symbols())
    return tuple(
        info(spec, state.price(spec["symbol"]), spec["symbol"] in selected)
        for spec in state.specifications
        if pattern is None or in_group(spec["symbol"], pattern)
    )


@mt5_function()
def symbol_info(symbol: str) -> SymbolInfo:
    """The properties of ``symbol`` as MT5's ``SymbolInfo`` (None and ``RES_E_NOT_FOUND`` when unknown)."""
    connection = _connection()
    state = connection.terminal_state
    name = check_symbol(symbol)
    return info(state.specification(name), state.price(name), name in connection.subscribed_symbols())


@mt5_function()
def symbol_info_tick(symbol: str) -> Tick:
    """The last tick of ``symbol`` (selecting it, as a terminal shows only selected symbols' ticks)."""
    opened, connection = session(), _connection()
    name = check_symbol(symbol)
    if name not in connection.subscribed_symbols():
        opened.run(connection.subscribe_to_market_data(name))
    state = connection.terminal_state
    price = state.price(name) or opened.run(state.wait_for_price(name))
    when, msc = _seconds(price)
    return Tick(when, float(price["bid"]), float(price["ask"]), 0.0, 0, msc, C.TICK_FLAG_BID | C.TICK_FLAG_ASK, 0.0)


@mt5_function(False)
def symbol_select(symbol: str, enable: bool = True) -> bool:
    """Subscribe to ``symbol``'s quotes (``enable``), or unsubscribe; False when a position or order holds it."""
    if not isinstance(enable, bool):
        raise invalid(f"enable must be a bool, not {type(enable).__name__}")
    opened, connection = session(), _connection()
    name = check_symbol(symbol)
    subscribed, state = name in connection.subscribed_symbols(), connection.terminal_state
    if not enable and any(record.get("symbol") == name for record in (*state.positions, *state.orders)):
        return False
    if enable and not subscribed:
        opened.run(connection.subscribe_to_market_data(name))
    elif not enable and subscribed:
        opened.run(connection.unsubscribe_from_market_data(name))
    return True


@mt5_function(False)
def market_book_add(symbol: str) -> bool:
    """Start reading ``symbol``'s market depth (needed before :func:`market_book_get`)."""
    STATE.books.add(check_symbol(symbol))
    return True


@mt5_function()
def market_book_get(symbol: str) -> tuple:
    """``symbol``'s market depth as ``BookInfo`` levels, highest price first (sells, then buys), as MT5 lists it."""
    name = check_symbol(symbol)
    if name not in STATE.books:
        raise invalid(f"call market_book_add({name!r}) first")
    opened = session()
    book = opened.run(_connection().get_book(name))
    levels = sorted(book.get("book") or (), key=lambda level: -float(level["price"]))
    return tuple(
        BookInfo(C.code(level["type"]), float(level["price"]), int(level["volume"]), float(level["volume"]))
        for level in levels
    )


@mt5_function(False)
def market_book_release(symbol: str) -> bool:
    """Stop reading ``symbol``'s market depth."""
    name = check_symbol(symbol)
    STATE.books.discard(name)
    return True


__all__ = [
    "info", "market_book_add", "market_book_get", "market_book_release", "symbol_info", "symbol_info_tick",
    "symbol_select", "symbols_get", "symbols_total",
]  # fmt: skip
