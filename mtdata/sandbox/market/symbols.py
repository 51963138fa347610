"""The sandbox's symbol universe: wire specifications (protocol §9.6) and the parameters of each price process.

Sessions are in broker time (see :mod:`clock`). FX trades Monday 00:00 to Friday 23:55, metals and
indices have daily breaks, crypto trades around the clock every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DAYS = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")

#: Session templates: per weekday (Sunday first) a list of (from, to) broker wall-clock strings.
_FULL = ("00:00:00.000", "23:59:59.999")
_SESSIONS: dict[str, tuple[tuple[tuple[str, str], ...], ...]] = {
    "fx": ((), (_FULL,), (_FULL,), (_FULL,), (_FULL,), (("00:00:00.000", "23:55:00.000"),), ()),
    "metal": ((),) + ((("01:00:00.000", "23:59:59.999"),),) * 4 + ((("01:00:00.000", "23:55:00.000"),), ()),
    "us_index": ((),)
    + ((("01:00:00.000", "23:15:00.000"), ("23:30:00.000", "23:59:59.999")),) * 4
    + ((("01:00:00.000", "23:15:00.000"),), ()),
    "eu_index": ((),) + ((("03:15:00.000", "23:00:00.000"),),) * 5 + ((),),
    "crypto": ((_FULL,),) * 7,
}

_ALL_FILLING = ["SYMBOL_FILLING_FOK", "SYMBOL_FILLING_IOC"]
_ALL_EXPIRATION = ["SYMBOL_EXPIRATION_GTC", "SYMBOL_EXPIRATION_DAY", "SYMBOL_EXPIRATION_SPECIFIED",
                   "SYMBOL_EXPIRATION_SPECIFIED_DAY"]  # fmt: skip
_ALL_ORDER_TYPES = ["SYMBOL_ORDER_MARKET", "SYMBOL_ORDER_LIMIT", "SYMBOL_ORDER_STOP", "SYMBOL_ORDER_STOP_LIMIT",
                    "SYMBOL_ORDER_SL", "SYMBOL_ORDER_TP", "SYMBOL_ORDER_CLOSEBY"]  # fmt: skip


@dataclass(frozen=True)
class SymbolInfo:
    """One symbol: wire facts plus the parameters of its simulated price process.

    ``start`` is the price at the origin and the level prices revert to, ``vol`` the annual volatility,
    ``spread`` the typical spread in points and ``tick_rate`` the ticks per second in busy hours.
    A cross's ``start`` is the ratio of its legs' (EURJPY = EURUSD x USDJPY) and its ``vol`` what the factor
    model gives it (see :mod:`factors`): crosses are ratios of currencies at every instant.
    """

    name: str
    kind: str
    digits: int
    base: str
    profit: str
    contract_size: float
    start: float
    vol: float
    spread: int
    tick_rate: float
    description: str
    path: str
    min_volume: float = 0.01
    max_volume: float = 100.0
    volume_step: float = 0.01
    swap_long: float = -5.0
    swap_short: float = 1.0

    @property
    def point(self) -> float:
        """Size of one point (the tick size), exact as a decimal."""
        return 1 / 10**self.digits

    @property
    def scale(self) -> int:
        """Points per unit of price (10**digits)."""
        return 10**self.digits

    @property
    def sessions(self) -> str:
        """Name of the session template of this symbol."""
        return {"fx": "fx", "metal": "metal", "crypto": "crypto"}.get(self.kind) or (
            "us_index" if self.profit == "USD" else "eu_index"
        )


_MAJORS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD")
_NAMES = {"EUR": "Euro", "USD": "US Dollar", "GBP": "Great Britain Pound", "JPY": "Japanese Yen",
          "CHF": "Swiss Franc", "AUD": "Australian Dollar", "CAD": "Canadian Dollar",
          "NZD": "New Zealand Dollar"}  # fmt: skip


_MAJOR_STARTS = {"EURUSD": 1.1200, "GBPUSD": 1.3100, "USDJPY": 108.70, "USDCHF": 0.9700, "AUDUSD": 0.7000,
                 "USDCAD": 1.3000, "NZDUSD": 0.6700}  # fmt: skip


def _in_usd(ccy: str) -> float:
    """Start value of one unit of ``ccy`` in USD, from the majors."""
    if ccy == "USD":
        return 1.0
    return _MAJOR_STARTS[ccy + "USD"] if ccy + "USD" in _MAJOR_STARTS else 1 / _MAJOR_STARTS["USD" + ccy]


def _pair(name: str, vol: float, spread: int) -> SymbolInfo:
    """A currency pair; a cross (no USD) starts at the ratio of its legs' start prices."""
    major = name in _MAJORS
    start = _in_usd(name[:3]) / _in_usd(name[3:])
    return SymbolInfo(name, "fx", 3 if name.endswith("JPY") else 5, name[:3], name[3:], 100000, start, vol, spread,
                      3.0 if major else 1.2, f"{_NAMES[name[:3]]} vs {_NAMES[name[3:]]}",
                      f"Forex\\{'Majors' if major else 'Crosses'}\\{name}")  # fmt: skip


UNIVERSE: dict[str, SymbolInfo] = {
    info.name: info
    for info in (
        _pair("EURUSD", 0.07, 8),
        _pair("GBPUSD", 0.08, 12),
        _pair("USDJPY", 0.08, 10),
        _pair("USDCHF", 0.07, 14),
        _pair("AUDUSD", 0.10, 12),
        _pair("USDCAD", 0.06, 15),
        _pair("NZDUSD", 0.10, 18),
        _pair("EURGBP", 0.062, 15),
        _pair("EURJPY", 0.079, 18),
        _pair("GBPJPY", 0.088, 25),
        _pair("EURCHF", 0.044, 18),
        _pair("AUDJPY", 0.115, 20),
        _pair("EURAUD", 0.1, 25),
        _pair("GBPCHF", 0.07, 28),
        _pair("CADJPY", 0.091, 22),
        SymbolInfo("XAUUSD", "metal", 2, "XAU", "USD", 100, 1520.0, 0.15, 25, 2.5, "Gold vs US Dollar",
                   "Metals\\XAUUSD", swap_long=-30.0, swap_short=5.0),
        SymbolInfo("XAGUSD", "metal", 3, "XAG", "USD", 5000, 17.90, 0.25, 25, 1.5, "Silver vs US Dollar",
                   "Metals\\XAGUSD", swap_long=-8.0, swap_short=2.0),
        SymbolInfo("US30", "index", 2, "USD", "USD", 1, 28500.0, 0.18, 200, 2.0, "Dow Jones Industrial Average",
                   "Indices\\US30", max_volume=50.0),
        SymbolInfo("US500", "index", 2, "USD", "USD", 1, 3230.0, 0.18, 50, 2.0, "S&P 500 Index",
                   "Indices\\US500", max_volume=50.0),
        SymbolInfo("NAS100", "index", 2, "USD", "USD", 1, 8730.0, 0.22, 150, 2.0, "Nasdaq 100 Index",
                   "Indices\\NAS100", max_volume=50.0),
        SymbolInfo("GER40", "index", 2, "EUR", "EUR", 1, 13250.0, 0.18, 150, 1.5, "Germany 40 Index",
                   "Indices\\GER40", max_volume=50.0),
        SymbolInfo("UK100", "index", 2, "GBP", "GBP", 1, 7540.0, 0.15, 120, 1.2, "UK 100 Index",
                   "Indices\\UK100", max_volume=50.0),
        SymbolInfo("BTCUSD", "crypto", 2, "BTC", "USD", 1, 7200.0, 0.65, 3000, 1.5, "Bitcoin vs US Dollar",
                   "Crypto\\BTCUSD", max_volume=10.0, swap_long=-20.0, swap_short=-20.0),
        SymbolInfo("ETHUSD", "crypto", 2, "ETH", "USD", 1, 130.0, 0.80, 200, 1.5, "Ethereum vs US Dollar",
                   "Crypto\\ETHUSD", max_volume=50.0, swap_long=-20.0, swap_short=-20.0),
    )
}  # fmt: skip


def _minutes(clock: str) -> int:
    """Minute of day at or after a ``HH:MM:SS.mmm`` string (``23:59:59.999`` -> 1440)."""
    hours, minutes, rest = clock.split(":")
    return int(hours) * 60 + int(minutes) + (1 if float(rest) > 0 else 0)


def session_table(info: SymbolInfo) -> np.ndarray:
    """A (7, 1440) boolean table, Sunday first, of the broker minutes in which the symbol quotes and trades."""
    table = np.zeros((7, 1440), dtype=bool)
    for day, intervals in enumerate(_SESSIONS[info.sessions]):
        for start, end in intervals:
            table[day, _minutes(start) : _minutes(end)] = True
    return table


def _sessions_wire(info: SymbolInfo) -> dict[str, list[dict[str, str]]]:
    return {
        DAYS[day]: [{"from": start, "to": end} for start, end in intervals]
        for day, intervals in enumerate(_SESSIONS[info.sessions])
    }


def _num(value: float) -> float | int:
    """Whole numbers as ints on the wire (``100000`` rather than ``100000.0``)."""
    return int(value) if float(value).is_integer() else value


def specification(info: SymbolInfo) -> dict[str, Any]:
    """The wire specification of a symbol, with a stable key order (clients hash it)."""
    fx = info.kind == "fx"
    sessions = _sessions_wire(info)
    pip = info.point * 10 if info.kind in ("fx", "metal") else 1.0
    return {
        "symbol": info.name,
        "tickSize": info.point,
        "minVolume": info.min_volume,
        "maxVolume": _num(info.max_volume),
        "volumeStep": info.volume_step,
        "fillingModes": list(_ALL_FILLING),
        "executionMode": "SYMBOL_TRADE_EXECUTION_MARKET",
        "contractSize": _num(info.contract_size),
        "quoteSessions": sessions,
        "tradeSessions": {day: [dict(item) for item in items] for day, items in sessions.items()},
        "tradeMode": "SYMBOL_TRADE_MODE_FULL",
        "initialMargin": 0,
        "maintenanceMargin": 0,
        "hedgedMargin": _num(info.contract_size / 2),
        "marginCurrency": info.base if fx or info.kind == "metal" else info.profit,
        "baseCurrency": info.base,
        "profitCurrency": info.profit,
        "priceCalculationMode": "SYMBOL_CALC_MODE_FOREX" if fx else "SYMBOL_CALC_MODE_CFDLEVERAGE",
        "swapMode": "SYMBOL_SWAP_MODE_POINTS",
        "swapLong": info.swap_long,
        "swapShort": info.swap_short,
        "swapRollover3Days": "WEDNESDAY" if fx or info.kind == "metal" else "FRIDAY",
        "allowedExpirationModes": list(_ALL_EXPIRATION),
        "allowedOrderTypes": list(_ALL_ORDER_TYPES),
        "digits": int(info.digits),
        "point": info.point,
        "path": info.path,
        "description": info.description,
        "pipSize": _num(round(pip, info.digits)),
        "stopsLevel": 0,
        "freezeLevel": 0,
    }
