"""The seeded price process: daily anchors, M1 bars per broker day, ticks per UTC hour, in integer points.

Everything is a pure function of (seed, symbol, day or hour), so any range is computed on demand and the
same seed gives the same prices on every machine. Daily closes follow a mean-reverting log walk (crosses
multiply the walks of their USD legs); each
broker day's M1 closes are a Brownian bridge between two daily closes over the symbol's open minutes;
ticks of a minute are a bridge from its open to its close that touches exactly its high and low.
Candles are bid-based; a bar's ``spread`` is the minimum spread of its ticks and ``vol`` the sum of theirs.
"""

from __future__ import annotations

import math
import threading
import zlib
from typing import NamedTuple

import numpy as np

from . import market_clock as clock
from .symbols import UNIVERSE, SymbolInfo, session_table


class Bars(NamedTuple):
    """Columns of bars: UTC open ms, bid OHLC in points, tick count, minimum spread (points), real volume."""

    t: np.ndarray
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    tv: np.ndarray
    spread: np.ndarray
    vol: np.ndarray

    def take(self, index: slice | np.ndarray) -> Bars:
        """The rows selected by a slice, mask or index array."""
        return Bars(*(column[index] for column in self))


class Ticks(NamedTuple):
    """Columns of ticks: UTC ms, bid and ask in points, real volume."""

    t: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    vol: np.ndarray

    def take(self, index: slice | np.ndarray) -> Ticks:
        """The rows selected by a slice, mask or index array."""
        return Ticks(*(column[index] for column in self))


_I = np.int64


def empty_bars() -> Bars:
    """Bars with no rows."""
    return Bars(*(np.empty(0, _I) for _ in range(7)), np.empty(0))


def empty_ticks() -> Ticks:
    """Ticks with no rows."""
    return Ticks(np.empty(0, _I), np.empty(0, _I), np.empty(0, _I), np.empty(0))


def concat_bars(parts: list[Bars]) -> Bars:
    """Rows of several Bars, in order."""
    if not parts:
        return empty_bars()
    return parts[0] if len(parts) == 1 else Bars(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


def concat_ticks(parts: list[Ticks]) -> Ticks:
    """Rows of several Ticks, in order."""
    if not parts:
        return empty_ticks()
    return parts[0] if len(parts) == 1 else Ticks(*(np.concatenate(columns) for columns in zip(*parts, strict=True)))


def _runs(keys: np.ndarray) -> np.ndarray:
    """Start index of each run of equal consecutive keys."""
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def aggregate(bars: Bars, keys: np.ndarray) -> Bars:
    """Merge runs of bars with equal keys: first open, last close, max high, min low, sums, min spread."""
    if len(keys) == 0:
        return bars
    starts = _runs(keys)
    ends = np.append(starts[1:], len(keys)) - 1
    return Bars(bars.t[starts], bars.o[starts], np.maximum.reduceat(bars.h, starts),
                np.minimum.reduceat(bars.l, starts), bars.c[ends], np.add.reduceat(bars.tv, starts),
                np.minimum.reduceat(bars.spread, starts), np.add.reduceat(bars.vol, starts))  # fmt: skip


def bars_from_ticks(ticks: Ticks) -> Bars:
    """M1 bars of ticks (bid-based): the exact inverse of :func:`ticks_from_bars`."""
    if len(ticks.t) == 0:
        return empty_bars()
    keys = ticks.t // clock.MINUTE
    starts = _runs(keys)
    ends = np.append(starts[1:], len(keys)) - 1
    return Bars(keys[starts] * clock.MINUTE, ticks.bid[starts], np.maximum.reduceat(ticks.bid, starts),
                np.minimum.reduceat(ticks.bid, starts), ticks.bid[ends], np.diff(np.append(starts, len(keys))),
                np.minimum.reduceat(ticks.ask - ticks.bid, starts), np.add.reduceat(ticks.vol, starts))  # fmt: skip


def ticks_from_bars(bars: Bars, rng: np.random.Generator) -> Ticks:
    """Ticks inside M1 bars: ``tv`` (>= 4) ticks per bar at irregular times, first = open, last = close,
    touching high and low, spreads >= the bar's spread with the first tick at exactly the bar's spread."""
    n = bars.tv
    total = int(n.sum())
    if total == 0:
        return empty_ticks()
    seg = np.repeat(np.arange(len(n)), n)
    starts = np.cumsum(n) - n
    last = starts + n - 1
    k = np.arange(total) - starts[seg]
    times = np.sort(bars.t[seg] + rng.integers(0, clock.MINUTE, total))
    walk = np.cumsum(rng.standard_normal(total))
    walk -= walk[starts][seg]
    frac = k / np.maximum(n - 1, 1)[seg]
    amp = ((bars.h - bars.l) * 0.5 / np.sqrt(n))[seg]
    path = bars.o[seg] + (bars.c - bars.o)[seg] * frac + (walk - frac * walk[last][seg]) * amp
    bid = np.clip(np.rint(path).astype(_I), bars.l[seg], bars.h[seg])
    r1 = rng.integers(0, n - 2)
    r2 = rng.integers(0, n - 3)
    bid[starts + 1 + r1] = bars.h
    bid[starts + 1 + (r1 + 1 + r2) % (n - 2)] = bars.l
    bid[starts] = bars.o
    bid[last] = bars.c
    extra = rng.geometric(0.6, total).astype(_I) - 1
    extra[starts] = 0
    vol = np.zeros(total)
    vol[last] = bars.vol
    return Ticks(times, bid, bid + bars.spread[seg] + extra, vol)


def seeded_rng(*key: int) -> np.random.Generator:
    """A generator keyed by stable integers (seed, crc32 of the symbol, purpose, index): the same everywhere."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([k % 2**64 for k in key])))


#: Relative volatility and tick activity by broker hour (UTC+2/+3: London opens ~10:00, New York ~15:30).
_HOURLY = np.array([0.45, 0.4, 0.45, 0.55, 0.6, 0.6, 0.6, 0.65, 0.75, 0.9, 1.2, 1.25, 1.15, 1.05, 1.1, 1.45,
                    1.55, 1.45, 1.3, 1.0, 0.8, 0.65, 0.55, 0.5])  # fmt: skip
_FLAT = np.full(24, 0.9)
_ROLLOVER = np.ones(1440)
_ROLLOVER[:15] = np.linspace(3.5, 1.2, 15)
_ROLLOVER[-5:] = np.linspace(1.5, 3.5, 5)
_CHUNK = 1024
_PHI = math.exp(-1 / 500)  # daily mean reversion of log prices (a half-life of about a year)


class SimProcess:
    """The simulated prices of one symbol for one seed; cheap to build, computes days and hours on demand."""

    first_day = 0

    def __init__(self, info: SymbolInfo, seed: int, broker_clock: clock.BrokerClock) -> None:
        self.info = info
        self.clock = broker_clock
        self._key = (seed, zlib.crc32(info.name.encode()))
        self._table = session_table(info)
        self._open_fraction = self._table.mean(axis=1)
        self._daily_sigma = info.vol / math.sqrt(self._open_fraction.sum() * 52.18)
        self._anchors: list[float] = [math.log(info.start)]
        self._legs = [(SimProcess(UNIVERSE[leg], seed, broker_clock), sign) for leg, sign in info.legs]
        profile = _FLAT if info.kind == "crypto" else _HOURLY
        self._weight = np.repeat(profile, 60)
        self._layouts: dict[int, tuple[np.ndarray, ...]] = {}
        self._lock = threading.Lock()

    def _anchor(self, index: int) -> float:
        """Log close of broker day ``index - 1`` (index 0 is the origin price)."""
        if self._legs:
            return sum(sign * leg._anchor(index) for leg, sign in self._legs)
        with self._lock:  # a server thread and a test thread may extend the walk at once
            while index >= len(self._anchors):
                self._extend()
        return self._anchors[index]

    def _layout(self, day: int) -> tuple[np.ndarray, ...]:
        """Open minutes of a broker day (offsets from its start), their weights and derived constants."""
        start = self.clock.day_start(day)
        length = self.clock.day_start(day + 1) - start
        regular = length == clock.DAY
        if regular and day % 7 in self._layouts:
            return self._layouts[day % 7]
        offsets = np.arange(0, length, clock.MINUTE, dtype=_I)
        minute = self.clock.local_minutes(start + offsets)
        mask = self._table[clock.weekday(day), minute]
        offsets, minute = offsets[mask], minute[mask]
        weight = self._weight[minute]
        var = np.cumsum(weight**2)
        layout = (offsets, weight, var / var[-1] if len(var) else var, var[-1:],
                  self.info.spread * _ROLLOVER[minute], self.info.tick_rate * 60 * weight)  # fmt: skip
        if regular:
            self._layouts[day % 7] = layout
        return layout

    def _extend(self) -> None:
        """Append the next chunk of daily log closes (one seeded stream per chunk of days)."""
        chunk = (len(self._anchors) - 1) // _CHUNK
        shocks = seeded_rng(*self._key, 0, chunk).standard_normal(_CHUNK)
        mean, value = math.log(self.info.start), self._anchors[-1]
        for i, shock in enumerate(shocks.tolist()):
            scale = math.sqrt(self._open_fraction[clock.weekday(chunk * _CHUNK + i)] + 0.03) * self._daily_sigma
            value = mean + _PHI * (value - mean) + shock * scale
            self._anchors.append(value)

    def day_bars(self, day: int) -> Bars:
        """M1 bars of a broker day (only minutes inside the symbol's sessions)."""
        if day < 0:
            return empty_bars()
        offsets, weight, share, total, spread_base, tick_rate = self._layout(day)
        count = len(offsets)
        if count == 0:
            return empty_bars()
        scale = self.info.scale
        first, last = math.exp(self._anchor(day)) * scale, math.exp(self._anchor(day + 1)) * scale
        rng = seeded_rng(*self._key, 1, day)
        noise = rng.standard_normal((2, count))
        walk = np.cumsum(noise[0] * weight)
        unit = first * self._daily_sigma / math.sqrt(total[0])
        close = np.rint(first + (last - first) * share + (walk - share * walk[-1]) * unit).astype(_I)
        opens = np.empty_like(close)
        opens[0], opens[1:] = round(first), close[:-1]
        wicks = np.floor(rng.exponential(1.0, (2, count)) * (unit * 0.6 * weight)).astype(_I)
        high = np.maximum(opens, close) + wicks[0]
        low = np.maximum(np.minimum(opens, close) - wicks[1], 1)
        ticks = np.maximum(rng.poisson(tick_rate), 4).astype(_I)
        spread = np.maximum(np.rint(spread_base * np.exp(0.25 * noise[1])), 1).astype(_I)
        return Bars(self.clock.day_start(day) + offsets, opens, high, low, close, ticks, spread, np.zeros(count))

    @staticmethod
    def previous_day(day: int) -> int:
        """The broker day before ``day`` (simulated history has no gaps but weekends)."""
        return day - 1

    def hour_ticks(self, hour: int, bars: Bars) -> Ticks:
        """Ticks of UTC hour ``hour`` (epoch hours) given that hour's M1 bars."""
        return ticks_from_bars(bars, seeded_rng(*self._key, 2, hour))
