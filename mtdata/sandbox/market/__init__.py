"""The simulated market: deterministic prices for every symbol of :mod:`symbols`.

:class:`Market` is this package's one entry point. Its parts: :mod:`symbols` (the universe and each symbol's
parameters), :mod:`clock` (the broker clock), :mod:`factors` and :mod:`model` (the factor model and its paths
on demand), :mod:`pricegen` (bars and ticks of a seeded symbol), :mod:`replay` (user files instead),
:mod:`forced` (test paths), :mod:`series` (per-symbol caches) and :mod:`wire` (wire records).

Contract (all times are epoch milliseconds UTC; every returned record is in wire form,
with ``time`` as an ISO string and ``brokerTime`` as the broker's wall clock):

* ``now_ms()``: simulated now; advances ``speed`` simulated ms per wall-clock ms.
* ``symbols()``, ``specification(symbol)``: the universe; unknown symbol -> NotFoundError.
* ``candles(symbol, timeframe, end_ms, limit)``: up to ``limit`` candles whose open time
  is <= ``end_ms`` (None = now), newest ones, returned in ascending time order.
* ``ticks(symbol, start_ms, offset, limit)``: ticks with time >= ``start_ms`` in ascending
  order, skipping the first ``offset``; never beyond now.
* ``ticks_between(symbol, after_ms, until_ms)``: ticks in (after, until], ascending.
* ``price(symbol, at_ms=None, account_currency="USD")``: the quote at that time (last tick).
* ``candle(symbol, timeframe, at_ms=None)``: the candle containing ``at_ms`` so far.
* ``tick(symbol, at_ms=None)``, ``book(symbol, at_ms=None)``: last tick; order book.
* ``in_quote_session(symbol, ms)``, ``in_trade_session(symbol, ms)``.
* ``rate(from_ccy, to_ccy, at_ms=None)``: conversion rate from the market's own quotes.
* ``broker_time(ms)``: ``YYYY-MM-DD HH:mm:ss.SSS`` on the broker clock.
* ``fingerprint``: the market's identity (equal fingerprints, same history), sent as ``marketRevision``.
* ``force_path(symbol, points)``, ``clear_forced(symbol)``: test hooks, see :mod:`forced`.

History starts at broker midnight 2020-01-01 (:data:`clock.ORIGIN_MS`) and is computed on demand
(:mod:`pricegen` over the factor model of :mod:`factors` and :mod:`model`: crosses are the ratios
of their legs, returns fat-tailed with clustered volatility); live prices are the same process read at
``now_ms()``. Candles are bid-based; a candle's ``spread`` is the minimum spread of its ticks and ``volume``
the sum of theirs (0 for the simulated CFD symbols, which have no exchange volume). Nothing exists after now:
the newest candle is the one in progress. Replayed symbols: see :mod:`replay`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from ...errors import ValidationException
from ...timeframes import MT5_TIMEFRAMES
from ..config import ReplaySource
from ..errors import NotFoundError, ValidationError
from . import clock, wire
from .forced import ForcedProcess, PriceProcess
from .pricegen import SimProcess, Ticks
from .replay import ReplayProcess, infer_digits
from .series import LRU, SymbolSeries
from .symbols import UNIVERSE, SymbolInfo, session_table, specification

MAX_COUNT = 1_000_000
#: Caches shared by every market of the process: simulated prices depend only on (seed, symbol), so
#: servers and tests with the same seed reuse each other's work. Other processes get unique keys.
_CACHES = {"1m": LRU(768), "intraday": LRU(8192), "1d": LRU(32768), "ticks": LRU(256)}
_VERSIONS = itertools.count()
#: Version of the price generator and of the history rules: bump it whenever the same seed or replay file
#: gives other candles, so candle caches keyed on :attr:`Market.fingerprint` stop serving the old ones.
GENERATOR_VERSION = 3


def _count(name: str, value: object, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= maximum:
        raise ValidationError.field(name, f"must be an integer between 0 and {maximum}", value)
    return int(value)


def _time(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError.field(name, "must be epoch milliseconds", value)
    return int(value)


class Market:
    """Prices of the sandbox's symbols, the same for the same seed on every machine."""

    def __init__(
        self,
        seed: int = 0,
        speed: float = 1.0,
        replay: Sequence[ReplaySource] = (),
        wall_clock: Callable[[], float] = time.time,
        start_ms: int | None = None,
        broker_clock: str = clock.DEFAULT_CLOCK,
    ) -> None:
        if broker_clock not in clock.CLOCKS:
            known = ", ".join(map(repr, clock.CLOCKS))
            raise ValidationException(f"broker_clock must be one of {known}, got {broker_clock!r}", [
                {"parameter": "broker_clock", "value": str(broker_clock), "message": f"must be one of {known}"}])
        self.clock = clock.CLOCKS[broker_clock]
        self.seed = seed
        self.speed = speed
        self._wall = wall_clock
        self._origin_wall = wall_clock()
        self._origin_ms = int(self._origin_wall * 1000) if start_ms is None else start_ms
        self._infos: dict[str, SymbolInfo] = dict(UNIVERSE)
        self._base: dict[str, tuple[Hashable, PriceProcess]] = {}
        self._series: dict[str, SymbolSeries] = {}
        self._tables: dict[str, np.ndarray] = {}
        for source in replay:
            info = self._infos.get(source.symbol) or SymbolInfo(
                source.symbol, "crypto", infer_digits(source.path), "USD", "USD", 1, 1.0, 0.0, 10, 1.0,
                f"Replayed {source.symbol}", f"Replay\\{source.symbol}")  # fmt: skip
            self._infos[source.symbol] = info
            process = ReplayProcess(info, source.path, seed, self._origin_ms, self.clock)
            self._base[source.symbol] = (("replay", next(_VERSIONS)), process)
        self._pairs = {(i.base, i.profit): i.name for i in UNIVERSE.values() if i.base != i.profit}
        self.fingerprint = self._fingerprint(replay)

    def _fingerprint(self, replay: Sequence[ReplaySource]) -> str:
        """The market's identity: generator version, seed, broker clock, replay files' contents and, with replays,
        the clock's start (live play loops a file from then on); equal fingerprints mean the same history."""
        digest = hashlib.sha256(f"mtdata-market {GENERATOR_VERSION} {self.seed} {self.clock.name}".encode())
        for source in replay:
            with open(source.path, "rb") as file:
                digest.update(f" {source.symbol} {hashlib.file_digest(file, 'sha256').hexdigest()}".encode())
        if replay:
            digest.update(f" {self._origin_ms}".encode())
        return digest.hexdigest()[:20]

    # -- clock and universe -------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Simulated now: the start (``start_ms``, default the wall clock at start) + elapsed wall time x speed."""
        elapsed = (self._wall() - self._origin_wall) * self.speed
        return self._origin_ms + int(elapsed * 1000)

    def wall_ms(self, market_ms: int) -> int:
        """The wall-clock instant (epoch ms) at which the simulated clock showed ``market_ms``.

        Latency stamps are wall-clock; a tick's ``eventGenerated`` uses this so broker latency stays
        meaningful when the market clock is pinned or sped up.
        """
        return int(self._origin_wall * 1000 + (market_ms - self._origin_ms) / self.speed)

    def broker_time(self, ms: int) -> str:
        """``YYYY-MM-DD HH:mm:ss.SSS`` on the market's broker clock (see :mod:`clock`)."""
        return self.clock.broker_time(ms)

    def symbols(self) -> list[str]:
        """Every symbol of the market (the universe and replayed extras)."""
        return list(self._infos)

    def _info(self, symbol: str) -> SymbolInfo:
        try:
            return self._infos[symbol]
        except (KeyError, TypeError):
            raise NotFoundError(f"Symbol {symbol} not found") from None

    def revision(self, symbol: str) -> Hashable:
        """Identifies the symbol's current price process; changes when a path is forced or cleared."""
        return self._get(symbol).key

    def specification(self, symbol: str) -> dict[str, Any]:
        """The wire specification of a symbol (a fresh dict)."""
        return specification(self._info(symbol))

    def _get(self, symbol: str) -> SymbolSeries:
        series = self._series.get(symbol)
        if series is None:
            info = self._info(symbol)
            if symbol not in self._base:
                process = SimProcess(info, self.seed, self.clock)
                self._base[symbol] = (("sim", self.seed, symbol, self.clock.name), process)
            series = self._series[symbol] = SymbolSeries(*self._base[symbol], _CACHES)
        return series

    def _at(self, at_ms: int | None, name: str = "time") -> int:
        now = self.now_ms()
        return now if at_ms is None else min(_time(name, at_ms), now)

    @staticmethod
    def _check_timeframe(timeframe: str) -> None:
        if not isinstance(timeframe, str) or timeframe not in MT5_TIMEFRAMES:
            raise ValidationError.field("timeframe", "is not a known timeframe", timeframe)

    # -- candles and ticks ----------------------------------------------------------------------------

    def candles(self, symbol: str, timeframe: str, end_ms: int | None, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` newest candles with open time <= ``end_ms`` (None = now), ascending."""
        series = self._get(symbol)
        self._check_timeframe(timeframe)
        limit = _count("limit", limit)
        now = self.now_ms()
        end = now if end_ms is None else min(_time("startTime", end_ms), now)
        if limit == 0:
            return []
        bars = series.candles(timeframe, end, now, limit)
        return wire.candles(symbol, timeframe, bars, self._infos[symbol].scale, self.clock)

    def candle(self, symbol: str, timeframe: str, at_ms: int | None = None) -> dict[str, Any]:
        """The candle containing ``at_ms`` (None = now) made of the ticks up to then."""
        series = self._get(symbol)
        self._check_timeframe(timeframe)
        at = self._at(at_ms)
        bars = series.candles(timeframe, at, at, 1)
        if len(bars.t) == 0:
            raise NotFoundError(f"No {timeframe} candle of {symbol} at {self.clock.broker_time(at)}")
        return wire.candles(symbol, timeframe, bars, self._infos[symbol].scale, self.clock)[0]

    def ticks(self, symbol: str, start_ms: int, offset: int, limit: int) -> list[dict[str, Any]]:
        """Ticks with time >= ``start_ms``, ascending, skipping the first ``offset``; never beyond now."""
        series = self._get(symbol)
        start, offset, limit = _time("startTime", start_ms), _count("offset", offset), _count("limit", limit)
        if limit == 0:
            return []
        ticks, up = series.ticks(start, self.now_ms(), offset + limit)
        return wire.ticks(symbol, ticks.take(slice(offset, None)), up[offset:], self._infos[symbol].scale, self.clock)

    def ticks_between(self, symbol: str, after_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Ticks with after < time <= until (until capped at now), ascending."""
        series = self._get(symbol)
        until = min(_time("until", until_ms), self.now_ms())
        ticks, up = series.ticks(_time("after", after_ms) + 1, until, MAX_COUNT)
        return wire.ticks(symbol, ticks, up, self._infos[symbol].scale, self.clock)

    def _last(self, symbol: str, at_ms: int | None) -> tuple[Ticks, np.ndarray, int]:
        at = self._at(at_ms)
        found = self._get(symbol).last_tick(at)
        if found is None:
            raise NotFoundError(f"No quote of {symbol} at {self.clock.broker_time(at)}")
        return found

    def _quote(self, symbol: str, at_ms: int | None) -> tuple[int, int, int]:
        ticks, _, i = self._last(symbol, at_ms)
        return int(ticks.t[i]), int(ticks.bid[i]), int(ticks.ask[i])

    def tick(self, symbol: str, at_ms: int | None = None) -> dict[str, Any]:
        """The last tick at or before ``at_ms`` (None = now)."""
        ticks, up, i = self._last(symbol, at_ms)
        scale = self._infos[symbol].scale
        return wire.ticks(symbol, ticks.take(slice(i, i + 1)), up[i : i + 1], scale, self.clock)[0]

    def book(self, symbol: str, at_ms: int | None = None) -> dict[str, Any]:
        """The order book around the last quote at or before ``at_ms``."""
        return wire.book(self._info(symbol), self.seed, *self._quote(symbol, at_ms), self.clock)

    # -- prices and currencies ------------------------------------------------------------------------

    def price(self, symbol: str, at_ms: int | None = None, account_currency: str = "USD") -> dict[str, Any]:
        """The wire symbol price: last quote plus tick values of one lot in the account currency."""
        info = self._info(symbol)
        t, bid, ask = self._quote(symbol, at_ms)
        tick_value = info.point * info.contract_size * self.rate(info.profit, account_currency, t)
        exchange = 1.0 if account_currency == "USD" else self.rate(account_currency, "USD", t)
        return {"symbol": symbol, "bid": bid / info.scale, "ask": ask / info.scale,
                "profitTickValue": round(tick_value, 8), "lossTickValue": round(tick_value, 8),
                "accountCurrencyExchangeRate": exchange, "time": clock.iso_times(np.array([t]))[0],
                "brokerTime": self.clock.broker_time(t)}  # fmt: skip

    def _mid(self, symbol: str, at: int) -> float:
        _, bid, ask = self._quote(symbol, at)
        return (bid + ask) / 2 / self._infos[symbol].scale

    def rate(self, from_ccy: str, to_ccy: str, at_ms: int | None = None) -> float:
        """How many ``to_ccy`` one ``from_ccy`` buys: a direct, inverse or through-USD quote of the universe."""
        at = self._at(at_ms)
        if from_ccy == to_ccy:
            return 1.0
        if (from_ccy, to_ccy) in self._pairs:
            return self._mid(self._pairs[from_ccy, to_ccy], at)
        if (to_ccy, from_ccy) in self._pairs:
            return 1 / self._mid(self._pairs[to_ccy, from_ccy], at)
        known = {ccy for pair in self._pairs for ccy in pair}
        for name, ccy in (("from", from_ccy), ("to", to_ccy)):
            if ccy not in known:
                raise ValidationError.field(name, "is not a currency of the market", ccy)
        return self.rate(from_ccy, "USD", at) * self.rate("USD", to_ccy, at)

    # -- sessions ---------------------------------------------------------------------------------------

    def _open(self, symbol: str, ms: int) -> bool:
        table = self._tables.get(symbol)
        if table is None:
            table = self._tables[symbol] = session_table(self._info(symbol))
        minute = (ms + self.clock.offset(ms)) % clock.DAY // clock.MINUTE
        return bool(table[clock.weekday(self.clock.day_of(ms)), minute])

    def in_quote_session(self, symbol: str, ms: int) -> bool:
        """Whether the symbol quotes at ``ms`` (its ``quoteSessions``, broker time)."""
        return self._open(symbol, ms)

    def in_trade_session(self, symbol: str, ms: int) -> bool:
        """Whether the symbol trades at ``ms`` (its ``tradeSessions``, the same as its quote sessions)."""
        return self._open(symbol, ms)

    # -- test hooks -------------------------------------------------------------------------------------

    def force_path(self, symbol: str, points: Sequence[tuple[int, float, float]]) -> None:
        """Replace the symbol's prices from ``points[0]``'s time on by exactly these (ms, bid, ask) ticks."""
        self._get(symbol)
        info = self._infos[symbol]
        try:
            rows = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            rows = np.empty((0, 0))
        if rows.ndim != 2 or rows.shape[1] != 3 or len(rows) == 0 or not np.isfinite(rows).all():
            raise ValidationError.field("points", "must be a non-empty list of (ms, bid, ask)")
        t, bid, ask = rows[:, 0].astype(np.int64), rows[:, 1], rows[:, 2]
        if (np.diff(t) < 0).any() or (bid <= 0).any():
            raise ValidationError.field("points", "must be ascending in time with positive prices")
        bid_pts, ask_pts = np.rint(bid * info.scale).astype(np.int64), np.rint(ask * info.scale).astype(np.int64)
        if (ask_pts < bid_pts).any():
            raise ValidationError.field("points", "must have ask >= bid")
        ticks = Ticks(t, bid_pts, ask_pts, np.zeros(len(t)))
        process = ForcedProcess(self._base[symbol][1], ticks)
        self._series[symbol] = SymbolSeries((symbol, next(_VERSIONS)), process, _CACHES)

    def clear_forced(self, symbol: str) -> None:
        """Give the symbol back its own process."""
        self._info(symbol)
        self._series.pop(symbol, None)
