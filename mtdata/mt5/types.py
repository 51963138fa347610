"""The MetaTrader5 package's return types: named tuples with its field names in its order, and numpy dtypes.

Every time field is MetaTrader's: the broker's wall clock as epoch seconds (``*_msc``: milliseconds), see
:mod:`mtdata.mt5.times`. Ids (``ticket``, ``order``, ``position_id`` …) are ints, enumerations MT5's ints
(:mod:`mtdata.mt5.constants`), missing prices 0.0 and missing strings ``""``, as the terminal gives them.
"""

from __future__ import annotations

import typing
from typing import NamedTuple

import numpy as np

#: ``copy_rates_*``: one row per bar.
RATES_DTYPE = np.dtype([
    ("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
    ("tick_volume", "<u8"), ("spread", "<i4"), ("real_volume", "<u8"),
])  # fmt: skip
#: ``copy_ticks_*``: one row per tick.
TICKS_DTYPE = np.dtype([
    ("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<u8"), ("time_msc", "<i8"),
    ("flags", "<u4"), ("volume_real", "<f8"),
])  # fmt: skip


class TradeRequest(NamedTuple):
    """An ``order_send`` / ``order_check`` request as the result echoes it (absent keys are 0 or ``""``)."""

    action: int = 0
    magic: int = 0
    order: int = 0
    symbol: str = ""
    volume: float = 0.0
    price: float = 0.0
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    deviation: int = 0
    type: int = 0
    type_filling: int = 0
    type_time: int = 0
    expiration: int = 0
    comment: str = ""
    position: int = 0
    position_by: int = 0


class OrderSendResult(NamedTuple):
    """``order_send``'s answer: ``retcode`` (``TRADE_RETCODE_*``), the deal and order it made, the fill."""

    retcode: int
    deal: int
    order: int
    volume: float
    price: float
    bid: float
    ask: float
    comment: str
    request_id: int
    retcode_external: int
    request: TradeRequest


class OrderCheckResult(NamedTuple):
    """``order_check``'s answer: ``retcode`` 0 when the request would pass, and the account after it."""

    retcode: int
    balance: float
    equity: float
    profit: float
    margin: float
    margin_free: float
    margin_level: float
    comment: str
    request: TradeRequest


class TradePosition(NamedTuple):
    """An open position (``positions_get``)."""

    ticket: int
    time: int
    time_msc: int
    time_update: int
    time_update_msc: int
    type: int
    magic: int
    identifier: int
    reason: int
    volume: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    swap: float
    profit: float
    symbol: str
    comment: str
    external_id: str


class TradeOrder(NamedTuple):
    """A pending order (``orders_get``) or a history order (``history_orders_get``)."""

    ticket: int
    time_setup: int
    time_setup_msc: int
    time_done: int
    time_done_msc: int
    time_expiration: int
    type: int
    type_time: int
    type_filling: int
    state: int
    magic: int
    position_id: int
    position_by_id: int
    reason: int
    volume_initial: float
    volume_current: float
    price_open: float
    sl: float
    tp: float
    price_current: float
    price_stoplimit: float
    symbol: str
    comment: str
    external_id: str


class TradeDeal(NamedTuple):
    """A deal of the history (``history_deals_get``)."""

    ticket: int
    order: int
    time: int
    time_msc: int
    type: int
    entry: int
    magic: int
    position_id: int
    reason: int
    volume: float
    price: float
    commission: float
    swap: float
    profit: float
    fee: float
    symbol: str
    comment: str
    external_id: str


class Tick(NamedTuple):
    """The last tick of a symbol (``symbol_info_tick``)."""

    time: int
    bid: float
    ask: float
    last: float
    volume: int
    time_msc: int
    flags: int
    volume_real: float


class BookInfo(NamedTuple):
    """One level of a market book (``market_book_get``): ``type`` is a ``BOOK_TYPE_*``."""

    type: int
    price: float
    volume: int
    volume_dbl: float


class TerminalInfo(NamedTuple):
    """The terminal's state and settings (``terminal_info``); mtdata has no terminal, so most are constants."""

    community_account: bool
    community_connection: bool
    connected: bool
    dlls_allowed: bool
    trade_allowed: bool
    tradeapi_disabled: bool
    email_enabled: bool
    ftp_enabled: bool
    notifications_enabled: bool
    mqid: bool
    build: int
    maxbars: int
    codepage: int
    ping_last: int
    community_balance: float
    retransmission: float
    company: str
    name: str
    language: str
    path: str
    data_path: str
    commondata_path: str


class AccountInfo(NamedTuple):
    """The trading account (``account_info``)."""

    login: int
    trade_mode: int
    leverage: int
    limit_orders: int
    margin_so_mode: int
    trade_allowed: bool
    trade_expert: bool
    margin_mode: int
    currency_digits: int
    fifo_close: bool
    balance: float
    credit: float
    profit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float
    margin_so_call: float
    margin_so_so: float
    margin_initial: float
    margin_maintenance: float
    assets: float
    liabilities: float
    commission_blocked: float
    name: str
    server: str
    currency: str
    company: str


#: SymbolInfo's 96 fields in MT5's order, with their types (the terminal's symbol properties).
SYMBOL_FIELDS: list[tuple[str, type]] = [
    *((name, bool) for name in ("custom",)), ("chart_mode", int), ("select", bool), ("visible", bool),
    *((name, int) for name in ("session_deals", "session_buy_orders", "session_sell_orders", "volume", "volumehigh",
                               "volumelow", "time", "digits", "spread")),
    ("spread_float", bool),
    *((name, int) for name in ("ticks_bookdepth", "trade_calc_mode", "trade_mode", "start_time", "expiration_time",
                               "trade_stops_level", "trade_freeze_level", "trade_exemode", "swap_mode",
                               "swap_rollover3days")),
    ("margin_hedged_use_leg", bool),
    *((name, int) for name in ("expiration_mode", "filling_mode", "order_mode", "order_gtc_mode", "option_mode",
                               "option_right")),
    *((name, float) for name in (
        "bid", "bidhigh", "bidlow", "ask", "askhigh", "asklow", "last", "lasthigh", "lastlow", "volume_real",
        "volumehigh_real", "volumelow_real", "option_strike", "point", "trade_tick_value", "trade_tick_value_profit",
        "trade_tick_value_loss", "trade_tick_size", "trade_contract_size", "trade_accrued_interest",
        "trade_face_value", "trade_liquidity_rate", "volume_min", "volume_max", "volume_step", "volume_limit",
        "swap_long", "swap_short", "margin_initial", "margin_maintenance", "session_volume", "session_turnover",
        "session_interest", "session_buy_orders_volume", "session_sell_orders_volume", "session_open",
        "session_close", "session_aw", "session_price_settlement", "session_price_limit_min",
        "session_price_limit_max", "margin_hedged", "price_change", "price_volatility", "price_theoretical",
        "price_greeks_delta", "price_greeks_theta", "price_greeks_gamma", "price_greeks_vega", "price_greeks_rho",
        "price_greeks_omega", "price_sensitivity")),
    *((name, str) for name in ("basis", "category", "currency_base", "currency_profit", "currency_margin", "bank",
                               "description", "exchange", "formula", "isin", "name", "page", "path")),
]  # fmt: skip
#: A symbol's properties (``symbol_info``, ``symbols_get``).
SymbolInfo = NamedTuple("SymbolInfo", SYMBOL_FIELDS)  # type: ignore[misc]


def blank(kind: type[tuple]) -> dict[str, object]:
    """Every field of the named tuple class ``kind`` at its type's zero (0, 0.0, False, ``""``)."""
    hints = typing.get_type_hints(kind)
    return {name: hints[name]() for name in kind._fields}  # type: ignore[attr-defined]
