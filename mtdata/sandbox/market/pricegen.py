"""Bars and ticks of the simulated prices: M1 bars per broker day, ticks per UTC hour, in integer points.

Everything is a pure function of (seed, symbol, day or hour), so any range is computed on demand and the
same seed gives the same prices on every machine. A symbol's mid price at each minute's end is its path in
the factor model (:mod:`factors`, :mod:`model`: currency factors, stochastic volatility,
fat tails), so crosses are the ratios of their legs at every M1 close. Its M1 bars are those minutes inside
its sessions: the close is the mid less half the minute's spread (which widens at rollover and with
volatility), rounded to a point; wicks and tick counts grow with the minute's volatility. Ticks of a minute
are a bridge from its open to its close that touches exactly its high and low. Candles are bid-based; a bar's
``spread`` is the minimum spread of its ticks and ``vol`` the sum of theirs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import clock
from .factors import PROFILES, annual_vol, group_variances, weights, yearly_variance
from .model import crc, model_for, seeded_rng
from .symbols import SymbolInfo, session_table


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
    touching high and low, spreads >= the bar's spread with the first and last ticks at exactly the bar's."""
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
    extra[starts] = extra[last] = 0  # the close's ask is bid + spread: its mid is the model's
    vol = np.zeros(total)
    vol[last] = bars.vol
    return Ticks(times, bid, bid + bars.spread[seg] + extra, vol)


_ROLLOVER = np.ones(1440)
_ROLLOVER[:15] = np.linspace(3.5, 1.2, 15)
_ROLLOVER[-5:] = np.linspace(1.5, 3.5, 5)


class SimProcess:
    """The simulated prices of one symbol for one seed: its factor-model path (:mod:`model`) as bars."""

    first_day = 0

    def __init__(self, info: SymbolInfo, seed: int, broker_clock: clock.BrokerClock) -> None:
        self.info = info
        self.clock = broker_clock
        self._key = (seed, crc(info.name))
        self._model = model_for(seed, broker_clock)
        self._weights = weights(info)
        self._variances = group_variances(info)
        self._log_start = math.log(info.start * info.scale)
        self._table = session_table(info)
        profile = "crypto" if info.kind == "crypto" else "fx"
        self._activity = PROFILES[profile]
        self._typical = annual_vol(info) / math.sqrt(yearly_variance(profile))  # minute sd at activity 1
        self._layouts: dict[int, tuple[np.ndarray, ...]] = {}

    def _layout(self, day: int) -> tuple[np.ndarray, ...]:
        """Open minutes of a broker day (index in the day), their activity and base spreads."""
        start = self.clock.day_start(day)
        length = self.clock.day_start(day + 1) - start
        regular = length == clock.DAY
        if regular and day % 7 in self._layouts:
            return self._layouts[day % 7]
        index = np.arange(length // clock.MINUTE)
        minute = index if regular else self.clock.local_minutes(start + index * clock.MINUTE)
        mask = self._table[clock.weekday(day), minute]
        index, minute = index[mask], minute[mask]
        layout = (index, self._activity[clock.weekday(day), minute], self.info.spread * _ROLLOVER[minute])
        if regular:
            self._layouts[day % 7] = layout
        return layout

    def day_bars(self, day: int) -> Bars:
        """M1 bars of a broker day (only minutes inside the symbol's sessions), bid-based: each close is the
        model's mid at the minute's end less half the minute's spread, rounded to a point."""
        if day < 0:
            return empty_bars()
        index, activity, spread_base = self._layout(day)
        count = len(index)
        if count == 0:
            return empty_bars()
        path, first = self._model.path(self._weights, day)
        sd = self._model.path_sd(self._variances, day)[index]
        busy = sd / self._typical  # activity x stochastic volatility
        draws = seeded_rng(*self._key, 1, day).exponential(1.0, (2, count))
        noise = draws[0] + draws[1]  # wicks, spread and tick count vary together: a busy minute is wider
        spread = np.maximum(np.rint(spread_base * np.sqrt(busy / activity) * (0.8 + 0.1 * noise)), 1).astype(_I)
        mid = np.exp(self._log_start + path[index])
        close = np.rint(mid - spread / 2).astype(_I)
        opens = np.empty_like(close)
        opens[0] = round(math.exp(self._log_start + (path[index[0] - 1] if index[0] else first)) - spread[0] / 2)
        opens[1:] = close[:-1]
        wicks = np.floor(draws * (0.6 * sd * mid)).astype(_I)
        high = np.maximum(opens, close) + wicks[0]
        low = np.maximum(np.minimum(opens, close) - wicks[1], 1)
        calm = np.sqrt(busy * activity)  # tick activity grows with volatility, less than in proportion
        ticks = np.maximum(np.rint(self.info.tick_rate * 60 * calm * (0.4 + 0.3 * noise)), 4).astype(_I)
        offsets = index * clock.MINUTE
        return Bars(self.clock.day_start(day) + offsets, opens, high, low, close, ticks, spread, np.zeros(count))

    @staticmethod
    def previous_day(day: int) -> int:
        """The broker day before ``day`` (simulated history has no gaps but weekends)."""
        return day - 1

    def hour_ticks(self, hour: int, bars: Bars) -> Ticks:
        """Ticks of UTC hour ``hour`` (epoch hours) given that hour's M1 bars."""
        return ticks_from_bars(bars, seeded_rng(*self._key, 2, hour))
