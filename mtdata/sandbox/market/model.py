"""Unit paths of the factor model (:mod:`factors`) on demand: stochastic volatility, anchors, M1 bridges.

Everything is a pure function of (seed, unit, time): any range is computed on demand, with no state carried
from one request to the next, and the same time always gets the same value whatever range asked for it.

* **Stochastic volatility.** Each volatility group (``fx``, ``risk``, ``crypto``) has a log-volatility that is
  the sum of components at several time scales (about two months, ten days, two days, eight hours). A component
  is the linear interpolation of independent N(0, sd²) knots at its spacing, drawn from the seed in chunks of
  1024 knots: its value at any hour needs only the two knots around it, never the history before. The
  volatility is held within each UTC hour, bent softly between about a third and three and a half times its
  usual level (no frozen market, no endless panic) and normalised so that its mean square is 1 (the symbols'
  annual volatilities hold on average). The slow components
  make volatility cluster over days and weeks; all of them, with the jumps below, make returns fat-tailed.
* **Daily anchors.** A unit's log value at each broker midnight follows a mean-reverting walk (AR(1) with a
  half-life of about a year, so prices stay plausible for decades); each day's shock has that day's variance:
  the unit's annual variance times the activity of each quarter of the day times its squared volatility. One
  seeded stream per chunk of 1024 days, computed in closed form (vectorised) when a day of it is first needed.
* **Within a day.** A unit's M1 path is a bridge between its two anchors: normal minute shocks times the
  minute's volatility (activity profile times the hour's stochastic volatility), plus a few jumps (about one
  every two or three days per path, each worth a couple of ordinary hours), cumulated, with the drift that lands the
  path on the next anchor. Minute shocks come in seeded streams of ``_BLOCK`` days per unit.

Not modelled: news (scheduled releases, announced jumps), order-book impact of trades, interest-rate carry.
"""

from __future__ import annotations

import functools
import math
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np

from . import clock
from .factors import PROFILE, PROFILES, UNITS, Unit, yearly_variance

_CHUNK = 1024  # days per stream of anchors, knots per stream of a volatility component
_BLOCK = 8  # days per stream of minute shocks
_PHI = math.exp(-1 / 500)  # daily mean reversion of log values (a half-life of about a year)
_JUMPS = {"fx": 0.4, "risk": 0.4, "crypto": 0.6}  # expected jumps per unit and broker day
_JUMP_SIZE = 18.0  # a jump's standard deviation in minute standard deviations at calm volatility
#: Log-volatility components of each group: (knot spacing in hours, standard deviation).
VOL_SCALES = {
    "fx": ((1440, 0.5), (240, 0.45), (48, 0.25), (8, 0.3)),
    "risk": ((1440, 0.5), (240, 0.45), (48, 0.25), (8, 0.3)),
    "crypto": ((1440, 0.55), (240, 0.5), (48, 0.25), (8, 0.3)),
}
_GROUPS = tuple(VOL_SCALES)
_VOL_BOUNDS = (0.9, 1.8)  # soft floor and ceiling of the log-volatility: no frozen market, no endless panic


def _shape(log_vol: np.ndarray) -> np.ndarray:
    """Bend the log-volatility softly into (-floor, ceiling)."""
    bound = np.where(log_vol < 0, _VOL_BOUNDS[0], _VOL_BOUNDS[1])
    return bound * np.tanh(log_vol / bound)


def _log_mean_square(scales: tuple[tuple[int, float], ...]) -> float:
    """log E[exp(2 shape(h))] for h the sum of the interpolated components (Gaussian, of variance
    sum(sd²) ((1-t)² + t²) at a fraction t between knots): subtracted, it makes the volatility's mean square 1."""
    z = np.linspace(-8, 8, 641)
    density = np.exp(-(z**2) / 2)
    t = (np.arange(64) + 0.5) / 64
    sd = np.sqrt(sum(s * s for _, s in scales) * ((1 - t) ** 2 + t**2))
    values = np.exp(2 * _shape(np.outer(sd, z))) @ density / density.sum()
    return float(np.log(values.mean()))


_LOG_MEAN_SQUARE = {group: _log_mean_square(scales) for group, scales in VOL_SCALES.items()}
_NORM = {name: yearly_variance(name) for name in PROFILES}
#: Variance of each quarter of each weekday for an annual volatility of 1 (times the squared vol), per profile.
_QUARTER_ACTIVITY = {name: (table**2).reshape(7, 4, 360).sum(axis=2) / _NORM[name] for name, table in PROFILES.items()}
#: Standard deviation of each broker minute of each weekday for an annual volatility of 1, per profile.
_MINUTE_SD = {name: table / math.sqrt(_NORM[name]) for name, table in PROFILES.items()}


def seeded_rng(*key: int) -> np.random.Generator:
    """A generator keyed by stable integers (seed, crc32 of the symbol, purpose, index): the same everywhere."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([k % 2**64 for k in key])))


def crc(name: str) -> int:
    """A stable integer for a name (part of a seeded stream's key)."""
    return zlib.crc32(name.encode())


class LRU:
    """A bounded least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value of ``key``, computed by ``make`` on a miss (safe to share between threads)."""
        data = self._data
        try:
            value = data[key]
            data.move_to_end(key)
            return value
        except KeyError:
            pass
        value = data[key] = make()
        while len(data) > self._size:
            try:
                data.popitem(last=False)
            except KeyError:  # emptied by another thread meanwhile
                break
        return value


class DayPath(NamedTuple):
    """A unit's path over one broker day: log value at each minute's end and at the day's start."""

    x: np.ndarray
    first: float


class FactorModel:
    """The unit paths of one seed on one broker clock (shared by every symbol; see :func:`model_for`)."""

    def __init__(self, seed: int, broker_clock: clock.BrokerClock) -> None:
        self.seed = seed
        self.clock = broker_clock
        self._knots_cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._day_var: dict[tuple[str, int], np.ndarray] = {}
        self._anchors: dict[str, list[np.ndarray]] = {name: [] for name in UNITS}
        self._days = LRU(128)
        self._shock_cache = LRU(24)
        self._lock = threading.Lock()

    # -- stochastic volatility --------------------------------------------------------------------------

    def _knots(self, group: int, scale: int, lo: int, hi: int) -> np.ndarray:
        """Knots ``lo`` to ``hi`` (inclusive) of one component of a group's log-volatility."""

        def chunk(index: int) -> np.ndarray:
            key = (group, scale, index)
            knots = self._knots_cache.get(key)
            if knots is None:
                knots = self._knots_cache[key] = seeded_rng(self.seed, 3, group, scale, index).standard_normal(_CHUNK)
            return knots

        first, last = lo // _CHUNK, hi // _CHUNK
        knots = chunk(first) if first == last else np.concatenate([chunk(c) for c in range(first, last + 1)])
        return knots[lo - first * _CHUNK : hi - first * _CHUNK + 1]

    def vol(self, group: str, hours: np.ndarray) -> np.ndarray:
        """Volatility multiplier (mean square about 1) of a group at ascending hours since the origin."""
        g = _GROUPS.index(group)
        log_vol = np.zeros(len(hours))
        for s, (spacing, sd) in enumerate(VOL_SCALES[group]):
            lo, hi = int(hours[0]) // spacing, int(hours[-1]) // spacing + 1
            log_vol += sd * np.interp(hours, np.arange(lo, hi + 1) * spacing, self._knots(g, s, lo, hi))
        return np.exp(_shape(log_vol) - _LOG_MEAN_SQUARE[group] / 2)

    # -- daily anchors ------------------------------------------------------------------------------------

    def _hours_of(self, day: int) -> int:
        """Hours from the origin to the start of a broker day."""
        return (self.clock.day_start(day) - clock.ORIGIN_MS) // clock.HOUR

    def _day_variance(self, group: str, chunk: int) -> np.ndarray:
        """Each day's variance in a chunk of days for a unit of annual variance 1: the activity of each quarter
        of the day times the squared volatility at its middle hour."""
        found = self._day_var.get((group, chunk))
        if found is None:
            days = chunk * _CHUNK + np.arange(_CHUNK)
            starts = self.clock.utc_of(clock.ORIGIN_LOCAL_MS + days * clock.DAY)
            hours = ((starts - clock.ORIGIN_MS) // clock.HOUR)[:, None] + np.arange(3, 24, 6)
            vol = self.vol(group, hours.ravel()).reshape(_CHUNK, 4)
            activity = _QUARTER_ACTIVITY[PROFILE[group]][(3 + days) % 7]
            found = self._day_var[group, chunk] = (vol * vol * activity).sum(axis=1)
        return found

    def _anchor_chunk(self, unit: Unit, chunk: int, start: float) -> np.ndarray:
        """Log values at the ends of a chunk's days, from ``start`` at its first midnight (AR(1), closed form)."""
        shocks = seeded_rng(self.seed, 0, crc(unit.name), chunk).standard_normal(_CHUNK)
        shocks *= np.sqrt(self._day_variance(unit.group, chunk)) * unit.vol
        powers = _PHI ** np.arange(_CHUNK)
        return powers * (_PHI * start + np.cumsum(shocks / powers))

    def anchors(self, name: str, day: int) -> tuple[float, float]:
        """A unit's log values at the start and end of broker day ``day`` (0 at the origin)."""
        chunks = self._anchors[name]
        with self._lock:  # a server thread and a test thread may extend the walk at once
            while len(chunks) <= day // _CHUNK:
                start = float(chunks[-1][-1]) if chunks else 0.0
                chunks.append(self._anchor_chunk(UNITS[name], len(chunks), start))
        chunk, i = divmod(day, _CHUNK)
        first = float(chunks[chunk][i - 1]) if i else (float(chunks[chunk - 1][-1]) if chunk else 0.0)
        return first, float(chunks[chunk][i])

    # -- paths within a day -------------------------------------------------------------------------------

    def _minutes(self, day: int) -> int:
        return (self.clock.day_start(day + 1) - self.clock.day_start(day)) // clock.MINUTE

    def minute_sd(self, group: str, day: int) -> tuple[np.ndarray, np.ndarray]:
        """For a unit of annual volatility 1 in ``group``: the standard deviation of each minute of broker day
        ``day`` (activity times the hour's stochastic volatility) and the share of the day's variance so far."""

        def make() -> tuple[np.ndarray, np.ndarray]:
            count = self._minutes(day)
            vol = self.vol(group, self._hours_of(day) + np.arange((count + 59) // 60))
            weights = _MINUTE_SD[PROFILE[group]][clock.weekday(day)]
            if count == 1440:
                sd = weights * np.repeat(vol, 60)
            else:  # a clock change: the broker minute of each UTC minute
                minutes = self.clock.local_minutes(self.clock.day_start(day) + np.arange(count) * clock.MINUTE)
                sd = weights[minutes] * vol[np.arange(count) // 60]
            share = np.cumsum(sd * sd)
            return sd, share / share[-1]

        return self._days.get((group, day), make)

    def unit_day(self, name: str, day: int) -> DayPath:
        """A unit's path over broker day ``day`` (every minute, open or not)."""
        return self._days.get((name, day), lambda: self._unit_day(UNITS[name], day))

    def _shocks(self, unit: Unit, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Minute shocks of a unit for a block of ``_BLOCK`` days (one seeded stream): standard normals, and
        jumps as (day in the block, minute, size in minute standard deviations)."""

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rng = seeded_rng(self.seed, 1, crc(unit.name), block)
            normals = rng.standard_normal((_BLOCK, 1500))
            days = np.repeat(np.arange(_BLOCK), rng.poisson(_JUMPS[unit.group], _BLOCK))
            return normals, np.stack([days, rng.integers(0, 1380, len(days))]), rng.standard_normal(len(days))

        return self._shock_cache.get((unit.name, block), make)

    def _unit_day(self, unit: Unit, day: int) -> DayPath:
        sd, share = self.minute_sd(unit.group, day)
        normals, (days, minutes), sizes = self._shocks(unit, day // _BLOCK)
        steps = normals[day % _BLOCK, : len(sd)] * sd
        jumps = days == day % _BLOCK
        if jumps.any():  # a few minutes move as much as a couple of ordinary hours do, whatever the volatility
            at = minutes[jumps]
            steps[at] += sizes[jumps] * _MINUTE_SD[PROFILE[unit.group]][clock.weekday(day), at] * _JUMP_SIZE
        walk = np.cumsum(steps)
        walk *= unit.vol
        first, last = self.anchors(unit.name, day)
        return DayPath(first + (last - first - walk[-1]) * share + walk, first)

    def path(self, weights: dict[str, float], day: int) -> tuple[np.ndarray, float]:
        """A weighted sum of unit paths over broker day ``day``: log value at each minute's end and at its start."""
        total: np.ndarray | float = 0.0
        first = 0.0
        for name, weight in weights.items():  # fixed order, element-wise: the same sums on every machine
            path = self.unit_day(name, day)
            total = total + weight * path.x
            first += weight * path.first
        return np.asarray(total), first

    def path_sd(self, variances: dict[str, float], day: int) -> np.ndarray:
        """Each minute's standard deviation of a combination with these annual variances per group."""
        total: np.ndarray | float = 0.0
        for group, variance in variances.items():
            sd = self.minute_sd(group, day)[0]
            total = total + variance * (sd * sd)
        return np.sqrt(total)


@functools.lru_cache(maxsize=8)
def model_for(seed: int, broker_clock: clock.BrokerClock) -> FactorModel:
    """The factor model of a seed and clock, shared by every market of the process with them."""
    return FactorModel(seed, broker_clock)
