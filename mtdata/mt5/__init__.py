"""The MetaTrader5 package's API over mtdata: ``import mtdata.mt5 as mt5`` instead of ``import MetaTrader5 as mt5``.

Scripts written for the MetaTrader5 package run unchanged on Linux, macOS, Jupyter and Binder, over the MetaApi
cloud or the sandbox (no terminal)::

    import mtdata.mt5 as mt5
    mt5.initialize()                                   # the embedded sandbox; token=, account_id= for the cloud
    rates = mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_H1, 0, 100)
    mt5.shutdown()

Same functions, constants (:mod:`~mtdata.mt5.constants`), named tuples and numpy dtypes
(:mod:`~mtdata.mt5.types`), and MT5's error convention: a failed call returns None (False, 0) and
:func:`last_error` gives ``(code, message)``. Times are MetaTrader's, the broker's wall clock as epoch seconds
(:mod:`~mtdata.mt5.times`: :func:`to_utc` / :func:`from_utc` convert). Built on :class:`mtdata.Session`
(``mt5.session()`` is the one in use), so a trade made here is the trade the rest of mtdata sees.
"""

from __future__ import annotations

from typing import Any

from ..extras import needs

with needs("mtdata.mt5 (the MetaTrader5 package's API)"):  # pandas: the notebook extra
    from .connection import (
        PACKAGE_VERSION as __version__,
    )
    from .connection import (
        STATE,
        account_info,
        initialize,
        last_error,
        login,
        session,
        shutdown,
        terminal_info,
        version,
    )
    from .constants import *  # noqa: F403 (every constant of the package)
    from .constants import names
    from .market import copy_rates_from, copy_rates_from_pos, copy_rates_range, copy_ticks_from, copy_ticks_range
    from .records import (
        history_deals_get,
        history_deals_total,
        history_orders_get,
        history_orders_total,
        orders_get,
        orders_total,
        positions_get,
        positions_total,
    )
    from .symbols import (
        market_book_add,
        market_book_get,
        market_book_release,
        symbol_info,
        symbol_info_tick,
        symbol_select,
        symbols_get,
        symbols_total,
    )
    from .times import BrokerClock, to_datetime
    from .trading import order_calc_margin, order_calc_profit, order_check, order_send
    from .types import (
        RATES_DTYPE,
        TICKS_DTYPE,
        AccountInfo,
        BookInfo,
        OrderCheckResult,
        OrderSendResult,
        SymbolInfo,
        TerminalInfo,
        Tick,
        TradeDeal,
        TradeOrder,
        TradePosition,
        TradeRequest,
    )

def to_utc(time: Any) -> Any:
    """MetaTrader seconds (a number, or an array such as ``rates["time"]``) as UTC, on the broker clock
    :func:`initialize` checked: an aware Timestamp or DatetimeIndex."""
    return STATE.clock.to_utc(time)


def from_utc(moment: Any) -> Any:
    """An aware datetime (or DatetimeIndex) as MetaTrader seconds on the broker clock, for time arguments."""
    return STATE.clock.from_utc(moment)


__all__ = [
    "RATES_DTYPE",
    "TICKS_DTYPE",
    "AccountInfo",
    "BookInfo",
    "BrokerClock",
    "OrderCheckResult",
    "OrderSendResult",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
    "__version__",
    "account_info",
    "copy_rates_from",
    "copy_rates_from_pos",
    "copy_rates_range",
    "copy_ticks_from",
    "copy_ticks_range",
    "from_utc",
    "history_deals_get",
    "history_deals_total",
    "history_orders_get",
    "history_orders_total",
    "initialize",
    "last_error",
    "login",
    "market_book_add",
    "market_book_get",
    "market_book_release",
    "order_calc_margin",
    "order_calc_profit",
    "order_check",
    "order_send",
    "orders_get",
    "orders_total",
    "positions_get",
    "positions_total",
    "session",
    "shutdown",
    "symbol_info",
    "symbol_info_tick",
    "symbol_select",
    "symbols_get",
    "symbols_total",
    "terminal_info",
    "to_datetime",
    "to_utc",
    "version",
]  # fmt: skip
__all__ += list(names(""))  # every constant of the package
