"""The checks an order passes before it is sent, and the :class:`OrderPreview` they give.

Against the symbol's specification (volume min/max/step, stops level, digits), its trade sessions by the broker
clock and the current price: each problem is one sentence in a :class:`~mtdata.errors.ValidationException`
naming the argument. The order helpers (:mod:`mtdata.orders`), the order ticket and ``mtdata.mt5`` share them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .client import checks
from .errors import ValidationException

UNITS = ("price", "pips", "points")
#: Market order kinds (the pending ones are the keys of PENDING).
MARKET = ("buy", "sell")
_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Pending order kind -> (trade helper, is a buy, where its price lies: below / above the market).
PENDING = {
    "buy limit": ("create_limit_buy_order", True, "below"),
    "sell limit": ("create_limit_sell_order", False, "above"),
    "buy stop": ("create_stop_buy_order", True, "above"),
    "sell stop": ("create_stop_sell_order", False, "below"),
}


@dataclass(frozen=True)
class OrderPreview:
    """A trade checked against the symbol's specification, trade sessions and price, not sent: what it would send.

    ``price`` is a pending order's price (None at market), ``quote`` the ask (buys) or bid (sells) when checked,
    ``sl`` / ``tp`` absolute prices; ``sl_away`` / ``tp_away`` the distances given in ``units`` (pips, points). A
    market order's ``sl`` / ``tp`` are the levels at ``quote``; it sends the distances (:meth:`stops_sent`), which
    the broker measures from the fill.
    """

    kind: str
    symbol: str
    volume: float
    price: float | None
    quote: float
    sl: float | None
    tp: float | None
    digits: int
    units: str = "price"
    sl_away: float | None = None
    tp_away: float | None = None

    def __str__(self) -> str:
        """The trade in one sentence, e.g. ``Buy 0.1 lots of EURUSD at market (the ask is 1.08180 now), SL ...``."""
        quote = f"the {'ask' if self.kind.startswith('buy') else 'bid'} is {_fmt(self.quote, self.digits)} now"
        where = "market" if self.price is None else _fmt(self.price, self.digits)
        head = f"{self.kind.capitalize()} {self.volume:g} lots of {self.symbol} at {where} ({quote})"
        return f"{head}, {self._stop('SL', self.sl, self.sl_away)} and {self._stop('TP', self.tp, self.tp_away)}."

    def _stop(self, name: str, value: float | None, away: float | None) -> str:
        if value is None:
            return f"no {name}"
        at = _fmt(value, self.digits)
        if away is None:
            return f"{name} {at}"
        if self.price is None:
            buy = self.kind.startswith("buy")
            side = "below" if buy == (name == "SL") else "above"
            return f"{name} {away:g} {self.units} {side} the {'ask' if buy else 'bid'} ({at})"
        return f"{name} {away:g} {self.units} away ({at})"

    def _repr_html_(self) -> str:
        return f"<p><b>OrderPreview</b>: {html.escape(str(self))}</p>"

    def stops_sent(self) -> tuple[float | dict[str, Any] | None, float | dict[str, Any] | None]:
        """The stop loss and take profit as the trade sends them: prices, except a market order's stops given as
        distances, sent as ``{value, units: "RELATIVE_PRICE"}`` for the broker to measure from the fill (protocol
        §6.2): a stop 50 pips away is then 50 pips from the open price, however the price moved since the check."""
        return self._sent(self.sl, self.sl_away), self._sent(self.tp, self.tp_away)

    def _sent(self, level: float | None, away: float | None) -> float | dict[str, Any] | None:
        if level is None or away is None or self.price is not None:
            return level
        return {"value": round(abs(level - self.quote), self.digits), "units": "RELATIVE_PRICE"}


def refuse(name: str, sentence: str, value: Any = None) -> ValidationException:
    """A ValidationException whose message is ``sentence`` and whose details name argument ``name``."""
    return ValidationException(sentence, [{"parameter": name, "value": repr(value), "message": sentence}], None)


def unknown_symbol(symbol: Any) -> ValidationException:
    """The refusal of a symbol the account does not have."""
    return refuse("symbol", f"{symbol} is not a symbol of this account.", symbol)


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def check_volume(spec: dict[str, Any], volume: Any) -> float:
    """``volume`` within the symbol's minimum, maximum and step."""
    checks.number("volume", volume)
    symbol, low, high, step = spec["symbol"], float(spec["minVolume"]), float(spec["maxVolume"]), spec["volumeStep"]
    if volume < low - 1e-9:
        raise refuse("volume", f"volume {volume:g} is below the minimum of {low:g} lots for {symbol}.", volume)
    if volume > high + 1e-9:
        raise refuse("volume", f"volume {volume:g} is above the maximum of {high:g} lots for {symbol}.", volume)
    steps = volume / float(step)
    if abs(steps - round(steps)) > 1e-6:
        raise refuse("volume", f"volume {volume:g} is not a multiple of the {step:g} lot step of {symbol}.", volume)
    return round(round(steps) * float(step), 8)


def check_session(spec: dict[str, Any], broker_time: str) -> None:
    """Refuse a trade when ``broker_time`` (``YYYY-MM-DD HH:MM:SS.mmm``) is outside the symbol's trade sessions."""
    sessions = spec.get("tradeSessions")
    if not sessions:
        return
    moment = datetime.fromisoformat(broker_time)
    day, clock = moment.weekday(), moment.strftime("%H:%M:%S.%f")[:12]
    if any(s["from"] <= clock <= s["to"] for s in sessions.get(_DAYS[day], [])):
        return
    symbol = spec["symbol"]
    for ahead in range(8):
        name = _DAYS[(day + ahead) % 7]
        starts = sorted(s["from"] for s in sessions.get(name, []) if ahead or s["from"] > clock)
        if starts:
            when = f"{name.title()} {starts[0][:5]}"
            raise refuse("symbol", f"{symbol} is closed for trading until {when} broker time.", symbol)
    raise refuse("symbol", f"{symbol} has no trading session.", symbol)


def to_price(spec: dict[str, Any], name: str, value: Any, entry: float, buy: bool, units: str) -> float | None:
    """A stop loss / take profit as an absolute price; ``pips`` / ``points`` are distances from ``entry``."""
    if value is None:
        return None
    checks.number(name, value, minimum=0)
    if units == "price":
        return float(value)
    size = float(spec.get("pipSize") or float(spec["point"]) * 10) if units == "pips" else float(spec["point"])
    away = -1 if buy == (name == "sl") else 1
    return round(entry + away * value * size, int(spec["digits"]))


def check_stops(spec: dict[str, Any], sl: float | None, tp: float | None, entry: float, buy: bool, kind: str) -> None:
    """SL below and TP above ``entry`` for a buy (the opposite for a sell), at least ``stopsLevel`` points away."""
    digits, gap = int(spec["digits"]), float(spec.get("stopsLevel") or 0) * float(spec["point"])
    shown = _fmt(entry, digits)
    for name, value, below in (("sl", sl, buy), ("tp", tp, not buy)):
        if value is None:
            continue
        side, at = "below" if below else "above", _fmt(value, digits)
        distance = entry - value if below else value - entry
        if distance <= 0:
            raise refuse(name, f"{name} {at} must be {side} the entry price {shown} of a {kind}.", value)
        if distance < gap - 1e-12:
            raise refuse(
                name,
                f"{name} {at} is closer to the entry price {shown} than the stops level of {spec['stopsLevel']} "
                f"points of {spec['symbol']}.",
                value,
            )


def check_pending_price(spec: dict[str, Any], kind: str, price: float, bid: float, ask: float) -> None:
    """A pending price on the right side of the market for ``kind``, at least ``stopsLevel`` points away."""
    _, buy, where = PENDING[kind]
    digits, gap = int(spec["digits"]), float(spec.get("stopsLevel") or 0) * float(spec["point"])
    market, quote = (ask, "ask") if buy else (bid, "bid")
    at = _fmt(price, digits)
    distance = market - price if where == "below" else price - market
    if distance <= 0:
        raise refuse(
            "price", f"price {at} of a {kind} must be {where} the current {quote} {_fmt(market, digits)}.", price
        )
    if distance < gap - 1e-12:
        raise refuse(
            "price",
            f"price {at} of a {kind} is closer to the {quote} {_fmt(market, digits)} than the stops level of "
            f"{spec['stopsLevel']} points of {spec['symbol']}.",
            price,
        )
