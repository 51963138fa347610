"""Bars and ticks as MT5's numpy structured arrays: ``copy_rates_from/_from_pos/_range``, ``copy_ticks_from/_range``.

They run on :meth:`mtdata.Session.candles` and :meth:`~mtdata.Session.ticks` (the fast, paged downloader and its
cache), then lay the frame out with MT5's exact fields and dtypes (:data:`~mtdata.mt5.types.RATES_DTYPE`,
:data:`~mtdata.mt5.types.TICKS_DTYPE`). ``time`` is MetaTrader's (broker wall clock as epoch seconds, from each
bar's ``broker_time``), and date arguments are read on that clock (:mod:`mtdata.mt5.times`). Ranges are MT5's:
``copy_rates_range`` and ``copy_ticks_range`` include both ``date_from`` and ``date_to``; ``copy_rates_from`` gives
the ``count`` bars opened at or before ``date_from``; ``copy_ticks_from`` the ``count`` ticks from ``date_from``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from .. import arguments
from . import constants as C
from .connection import MAX_BARS, STATE, invalid, mt5_function, not_found, session
from .times import seconds
from .types import RATES_DTYPE, TICKS_DTYPE

#: MT5 timeframe -> mtdata's timeframe name (``TIMEFRAME_M1`` -> ``"1m"``, ``TIMEFRAME_MN1`` -> ``"1mn"``).
TIMEFRAMES: dict[int, str] = {
    value: "1mn" if name == "TIMEFRAME_MN1" else ("1" if name[10] in "DW" else name[11:]) + name[10].lower()
    for name, value in C.names("TIMEFRAME_").items()
}
#: How far ``copy_ticks_from`` looks ahead at most for ``count`` ticks.
TICKS_AHEAD = timedelta(days=arguments.MAX_TICK_DAYS)


def check_symbol(symbol: Any) -> str:
    """``symbol`` as one of the account's symbols: invalid params when not a string, not found when unknown."""
    if not isinstance(symbol, str):
        raise invalid(f"symbol must be a string, not {type(symbol).__name__}")
    if session().connection().terminal_state.specification(symbol) is None:
        raise not_found(f"Terminal: Unknown symbol {symbol!r}")
    return symbol


def _timeframe(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value not in TIMEFRAMES:
        raise invalid(f"timeframe must be a TIMEFRAME_* constant, not {value!r}")
    return TIMEFRAMES[value]


def _count(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= MAX_BARS:
        raise invalid(f"{name} must be an int in [{low}, {MAX_BARS}], not {value!r}")
    return int(value)


def _flags(value: Any) -> int:
    if value not in (C.COPY_TICKS_ALL, C.COPY_TICKS_INFO, C.COPY_TICKS_TRADE) or isinstance(value, bool):
        raise invalid(f"flags must be COPY_TICKS_ALL, COPY_TICKS_INFO or COPY_TICKS_TRADE, not {value!r}")
    return int(value)


def wall_ms(frame: pd.DataFrame) -> np.ndarray:
    """MetaTrader milliseconds of a frame's rows: its ``broker_time``, else its UTC index on the broker clock."""
    if len(frame) and not frame["broker_time"].isna().any():
        return frame["broker_time"].to_numpy("datetime64[ms]").astype("int64")
    return np.asarray(STATE.clock.from_utc(frame.index), dtype="int64") * 1000 if len(frame) else np.zeros(0, "int64")


def rates(frame: pd.DataFrame) -> np.ndarray:
    """A candle frame of :meth:`mtdata.Session.candles` as MT5's rates array."""
    out = np.zeros(len(frame), RATES_DTYPE)
    out["time"] = wall_ms(frame) // 1000
    for name in ("open", "high", "low", "close"):
        out[name] = frame[name].to_numpy("float64")
    out["tick_volume"] = frame["tick_volume"].fillna(0).to_numpy("int64")
    out["spread"] = frame["spread"].fillna(0).to_numpy("int64")
    out["real_volume"] = np.rint(frame["real_volume"].fillna(0).to_numpy("float64"))
    return out


def ticks(frame: pd.DataFrame, flags: int) -> np.ndarray:
    """A tick frame of :meth:`mtdata.Session.ticks` as MT5's ticks array, ``flags`` computed from what changed
    (the first tick's bid and ask count as changed), kept by ``COPY_TICKS_*``."""
    out = np.zeros(len(frame), TICKS_DTYPE)
    msc = wall_ms(frame)
    out["time_msc"], out["time"] = msc, msc // 1000
    for name in ("bid", "ask", "last"):
        out[name] = frame[name].fillna(0).to_numpy("float64")
    out["volume_real"] = frame["volume"].fillna(0).to_numpy("float64")
    out["volume"] = np.floor(out["volume_real"])
    changed = {name: np.diff(out[name], prepend=np.nan) != 0 for name in ("bid", "ask", "last")}
    side = frame["side"].astype(str).to_numpy()
    out["flags"] = (
        (changed["bid"] & (out["bid"] > 0)) * C.TICK_FLAG_BID + (changed["ask"] & (out["ask"] > 0)) * C.TICK_FLAG_ASK
        + (changed["last"] & (out["last"] > 0)) * C.TICK_FLAG_LAST + (out["volume_real"] > 0) * C.TICK_FLAG_VOLUME
        + (side == "buy") * C.TICK_FLAG_BUY + (side == "sell") * C.TICK_FLAG_SELL
    )  # fmt: skip
    if flags == C.COPY_TICKS_INFO:
        return out[(out["flags"] & (C.TICK_FLAG_BID | C.TICK_FLAG_ASK)) != 0]
    if flags == C.COPY_TICKS_TRADE:
        return out[(out["flags"] & (C.TICK_FLAG_LAST | C.TICK_FLAG_VOLUME)) != 0]
    return out


def _utc(name: str, value: Any) -> Any:
    """A time argument (broker clock) as the UTC instant it names."""
    return STATE.clock.to_utc(seconds(name, value)).to_pydatetime()


@mt5_function()
def copy_rates_from(symbol: str, timeframe: int, date_from: Any, count: int) -> np.ndarray:
    """The ``count`` bars opened at or before ``date_from``, oldest first."""
    tf, count = _timeframe(timeframe), _count("count", count)
    end = _utc("date_from", date_from) + timedelta(seconds=1)
    frame = session().candles(check_symbol(symbol), tf, end=end, limit=count)
    return rates(frame)


@mt5_function()
def copy_rates_from_pos(symbol: str, timeframe: int, start_pos: int, count: int) -> np.ndarray:
    """``count`` bars from bar ``start_pos`` back (0 is the bar in progress), oldest first."""
    tf, start, count = _timeframe(timeframe), _count("start_pos", start_pos, 0), _count("count", count)
    if start + count > MAX_BARS:
        raise invalid(f"start_pos + count must be at most {MAX_BARS}")
    frame = session().candles(check_symbol(symbol), tf, limit=start + count)
    return rates(frame.iloc[: len(frame) - start])


@mt5_function()
def copy_rates_range(symbol: str, timeframe: int, date_from: Any, date_to: Any) -> np.ndarray:
    """The bars opened in [date_from, date_to] (both included), oldest first."""
    tf = _timeframe(timeframe)
    low, high = _utc("date_from", date_from), _utc("date_to", date_to)
    if low > high:
        raise invalid("date_from must not be after date_to")
    frame = session().candles(check_symbol(symbol), tf, start=low, end=high + timedelta(seconds=1))
    return rates(frame)


@mt5_function()
def copy_ticks_from(symbol: str, date_from: Any, count: int, flags: int) -> np.ndarray:
    """The first ``count`` ticks at or after ``date_from`` (looking at most :data:`~mtdata.mt5.market.TICKS_AHEAD`
    ahead)."""
    count, flags = _count("count", count), _flags(flags)
    opened, start = session(), _utc("date_from", date_from)
    symbol = check_symbol(symbol)
    stop = min(opened.run(opened.connection().get_server_time())["time"], start + TICKS_AHEAD)
    found, window = [opened.ticks(symbol, start, start)], timedelta(hours=1)
    kept = ticks(found[0], flags)
    while len(kept) < count and start < stop:  # windows of 1 hour, 4 hours ... 7 days, until count are found
        end = min(start + window, stop)
        found.append(opened.ticks(symbol, start, end))
        kept = ticks(pd.concat(found), flags)  # flags across windows: a window's first tick is no new quote
        start, window = end, min(window * 4, timedelta(days=7))
    return kept[:count]


@mt5_function()
def copy_ticks_range(symbol: str, date_from: Any, date_to: Any, flags: int) -> np.ndarray:
    """The ticks in [date_from, date_to], both included by the second (MT5's times are seconds: the ticks of
    ``date_to``'s second are in); at most 31 days."""
    flags = _flags(flags)
    low, high = _utc("date_from", date_from), _utc("date_to", date_to)
    if low > high:
        raise invalid("date_from must not be after date_to")
    return ticks(session().ticks(check_symbol(symbol), low, high + timedelta(seconds=1)), flags)


__all__ = [
    "TIMEFRAMES", "check_symbol", "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "rates", "ticks", "wall_ms",
]  # fmt: skip
