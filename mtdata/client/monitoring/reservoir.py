"""Sliding-window statistics for the latency monitor and the health monitor (protocol §8).

:class:`Reservoir` keeps running statistics (count, sum, min, max, average, sum of squares, deviations)
in ``size`` time buckets spanning a storage period; :class:`StatisticalReservoir` keeps a random sample
of at most ``size`` recent measurements for percentiles; :class:`WindowedMetric` feeds one stream into
both kinds for several windows at once (the latency monitor's 1h/1d/1w). All take a ``clock`` (seconds,
any epoch; default :func:`time.monotonic`) so tests can move time without sleeping. Pushing is O(1) amortized.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable

from .. import checks
from ..models.monitoring import ReservoirStatistics

Clock = Callable[[], float]


class _Bucket:
    """Running statistics of one time bucket (Welford's mean and squared deviations, for stability)."""

    __slots__ = ("count", "index", "m2", "max", "mean", "min", "sum", "sum_sq")

    def __init__(self, index: int) -> None:
        self.index = index
        self.count = 0
        self.sum = 0.0
        self.sum_sq = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        self.sum += value
        self.sum_sq += value * value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)

    def merge(self, other: _Bucket) -> None:
        """Fold ``other`` into this one (Chan et al.'s parallel variance formula)."""
        count = self.count + other.count
        delta = other.mean - self.mean
        self.mean += delta * other.count / count
        self.m2 += other.m2 + delta * delta * self.count * other.count / count
        self.count = count
        self.sum += other.sum
        self.sum_sq += other.sum_sq
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)


class Reservoir:
    """Running statistics of the measurements of the last ``storage_period_in_milliseconds``, in ``size`` buckets.

    A measurement stays in the window until its bucket is ``size`` buckets old, so the window spans
    between ``(size - 1) / size`` and one full storage period.
    """

    def __init__(self, size: int, storage_period_in_milliseconds: float = 60000, *, clock: Clock = time.monotonic):
        self.size = checks.integer("size", size, minimum=1)
        """How many buckets the window is split into, as constructed: a measurement leaves it with its bucket."""
        self.storage_period_in_milliseconds = checks.number(
            "storage_period_in_milliseconds", storage_period_in_milliseconds, minimum=1e-9
        )
        """The window's length (ms), as constructed: the statistics cover about the measurements this recent."""
        self._bucket_seconds = storage_period_in_milliseconds / 1000 / size
        self._clock = clock
        self._buckets: deque[_Bucket] = deque()

    def push_measurement(self, data: float) -> None:
        """Add one measurement at the clock's current time."""
        self._bucket_at(self._clock()).add(data)

    def _bucket_at(self, now: float) -> _Bucket:
        index = int(now // self._bucket_seconds)
        buckets = self._buckets
        if buckets and index <= buckets[-1].index:
            return buckets[-1]
        bucket = _Bucket(index)
        buckets.append(bucket)
        self._expire(index)
        return bucket

    def get_statistics(self) -> ReservoirStatistics:
        """The statistics of the window: ``msdev`` is the population, ``stddev`` the sample standard deviation."""
        self._expire(int(self._clock() // self._bucket_seconds))
        total = _Bucket(0)
        for bucket in self._buckets:
            total.merge(bucket)
        count = total.count
        if not count:
            return ReservoirStatistics(count=0, sum=0.0, max=None, min=None, average=None, sumOfSquares=0.0,
                                       msdev=None, stddev=None)  # fmt: skip
        m2 = max(total.m2, 0.0)
        return ReservoirStatistics(
            count=count,
            sum=total.sum,
            max=total.max,
            min=total.min,
            average=total.sum / count,
            sumOfSquares=total.sum_sq,
            msdev=math.sqrt(m2 / count),
            stddev=math.sqrt(m2 / (count - 1)) if count > 1 else None,
        )

    def _expire(self, index: int) -> None:
        oldest = index - self.size
        buckets = self._buckets
        while buckets and buckets[0].index <= oldest:
            buckets.popleft()


class StatisticalReservoir:
    """A random sample (at most ``size``) of the measurements of the last ``interval`` milliseconds.

    Sampling is Vitter's algorithm R over the measurements still in the window: once the sample is
    full, the n-th measurement of the window replaces a random one with probability size / n. Expired
    measurements leave the sample. ``random_number_gen`` returns floats in [0, 1) (default
    :func:`random.random`).
    """

    #: Slices of the window used to count the measurements it holds (the n of algorithm R).
    _SLICES = 100

    def __init__(
        self,
        size: int,
        interval: float,
        random_number_gen: Callable[[], float] | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.size = checks.integer("size", size, minimum=1)
        """The most measurements the sample keeps (algorithm R's reservoir), as constructed."""
        self.interval = checks.number("interval", interval, minimum=1e-9)
        """The window's length (ms), as constructed: older measurements leave the sample."""
        self._interval_seconds = interval / 1000
        self._slice_seconds = self._interval_seconds / self._SLICES
        self._random = random_number_gen or random.random
        self._clock = clock
        self._values: list[float] = []
        self._times: list[float] = []
        self._oldest = math.inf
        self._slices: deque[list[int]] = deque()  # [slice index, measurements pushed in it]
        self._current = [0, 0]  # the latest slice
        self._slice_end = -math.inf
        self._seen = 0  # measurements pushed in the window (the n of algorithm R)

    def __len__(self) -> int:
        self._expire(self._clock())
        return len(self._values)

    def push_measurement(self, data: float) -> None:
        """Offer one measurement to the sample."""
        self._offer(data, self._clock())

    def _offer(self, data: float, now: float) -> None:
        if now >= self._slice_end:
            self._next_slice(now)
        self._current[1] += 1
        self._seen += 1
        values = self._values
        if len(values) < self.size:
            values.append(data)
            self._times.append(now)
            if now < self._oldest:
                self._oldest = now
            return
        slot = int(self._random() * self._seen)
        if slot < self.size:
            values[slot] = data
            self._times[slot] = now

    def get_percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0..100) of the sample, interpolated linearly at (n-1)·p/100; None if empty."""
        return self.get_percentiles((p,))[0]

    def get_percentiles(self, ps: Iterable[float]) -> list[float | None]:
        """Several percentiles with one sort of the sample."""
        ps = [checks.number("p", p, minimum=0, maximum=100) for p in ps]
        self._expire(self._clock())
        ordered = sorted(self._values)
        return [_interpolate(ordered, p) for p in ps]

    def _next_slice(self, now: float) -> None:
        """Time reached a new slice of the window: forget the counts and samples that left the window."""
        index = int(now // self._slice_seconds)
        self._slice_end = (index + 1) * self._slice_seconds
        slices = self._slices
        self._current = [index, 0]
        slices.append(self._current)
        while slices[0][0] <= index - self._SLICES:
            self._seen -= slices.popleft()[1]
        self._expire(now)

    def _expire(self, now: float) -> None:
        cutoff = now - self._interval_seconds
        if cutoff < self._oldest:
            return
        kept = [(v, t) for v, t in zip(self._values, self._times, strict=True) if t > cutoff]
        self._values = [v for v, _ in kept]
        self._times = [t for _, t in kept]
        self._oldest = min(self._times, default=math.inf)


class WindowedMetric:
    """One measurement stream over several windows, each a :class:`StatisticalReservoir` and a :class:`Reservoir`.

    Cheaper than pushing into every reservoir: one clock read per measurement, and measurements are summed
    in a bucket of the finest window's grid that is folded into the windows' reservoirs when time moves on
    (so every window's bucket length must be a multiple of the finest one).
    """

    __slots__ = ("_clock", "_pending", "_step", "_windows")

    def __init__(
        self,
        windows: dict[str, float],
        sample_size: int,
        buckets: int,
        random_number_gen: Callable[[], float] | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._clock = clock
        self._windows = {
            name: (StatisticalReservoir(sample_size, span, random_number_gen, clock=clock),
                   Reservoir(buckets, span, clock=clock))
            for name, span in windows.items()
        }  # fmt: skip
        self._step = min(stats._bucket_seconds for _, stats in self._windows.values())
        if any(stats._bucket_seconds % self._step for _, stats in self._windows.values()):
            raise checks.fail("windows", "must have bucket lengths that are multiples of the finest one", windows)
        self._pending = _Bucket(-1)

    def push(self, data: float) -> None:
        """Record one measurement in every window."""
        now = self._clock()
        index = int(now // self._step)
        if index != self._pending.index:
            self._fold()
            self._pending = _Bucket(index)
        self._pending.add(data)
        for sample, _ in self._windows.values():
            sample._offer(data, now)

    def statistics(self, percentiles: Iterable[float]) -> dict[str, tuple[list[float | None], ReservoirStatistics]]:
        """``{window: (the percentiles of its sample, its running statistics)}``."""
        self._fold()
        self._pending = _Bucket(self._pending.index)
        percentiles = tuple(percentiles)
        return {
            name: (sample.get_percentiles(percentiles), stats.get_statistics())
            for name, (sample, stats) in self._windows.items()
        }

    def _fold(self) -> None:
        pending = self._pending
        if pending.count:
            at = pending.index * self._step
            for _, stats in self._windows.values():
                stats._bucket_at(at).merge(pending)


def _interpolate(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
