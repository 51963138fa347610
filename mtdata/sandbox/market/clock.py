"""Broker clocks: UTC+2 in winter, UTC+3 in summer time; broker days and timeframe buckets.

Two clocks, as MetaTrader FX brokers run them: ``"ny"`` (the default, "New York close") switches with **US**
daylight saving, so broker midnight is always 17:00 in New York and a week has five daily candles; ``"eu"``
(EET-like) switches with EU summer time (last Sunday of March / October, 01:00 UTC). Broker day 0 is
2020-01-01 (broker time), the origin of the simulated history. Candles of a timeframe are grouped by broker
wall-clock time: intraday ones from broker midnight, ``1d`` from broker midnight, ``1w`` from Monday 00:00
broker time, ``1mn`` from the 1st of the broker month, each opening at the offset in force at its start.
Buckets follow the wall clock: on the autumn change the repeated broker hour makes one two-hour ``1h``
candle (its M1 candles keep distinct UTC times), and on the spring change the skipped hour does not exist.
"""

from __future__ import annotations

import bisect
import calendar
import functools

import numpy as np

from ...timeframes import MT5_TIMEFRAMES

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WINTER = 2 * HOUR
#: Broker midnight of 2020-01-01 as if it were UTC (local ms) and as a real UTC instant (winter on both clocks).
ORIGIN_LOCAL_MS = 1_577_836_800_000
ORIGIN_MS = ORIGIN_LOCAL_MS - WINTER


def _sunday(year: int, month: int, nth: int, hour: int) -> int:
    """UTC ms of the ``nth`` Sunday of a month (-1: the last) at ``hour`` UTC."""
    first = (6 - calendar.weekday(year, month, 1)) % 7 + 1
    day = first + 7 * (nth - 1) if nth > 0 else first + 7 * ((calendar.monthrange(year, month)[1] - first) // 7)
    return calendar.timegm((year, month, day, hour, 0, 0)) * 1000


def _us(year: int) -> tuple[int, int]:
    """US daylight saving (2:00 local: 07:00 UTC on, 06:00 UTC off), by the rules of 2007, 1987 and 1967."""
    if year >= 2007:
        return _sunday(year, 3, 2, 7), _sunday(year, 11, 1, 6)
    return _sunday(year, 4, 1 if year >= 1987 else -1, 7), _sunday(year, 10, -1, 6)


def _eu(year: int) -> tuple[int, int]:
    """EU summer time: the last Sundays of March and October, 01:00 UTC."""
    return _sunday(year, 3, -1, 1), _sunday(year, 10, -1, 1)


def weekday(day: int) -> int:
    """Weekday of a broker day, Sunday = 0 (2020-01-01 was a Wednesday)."""
    return (3 + day) % 7


def timeframe_ms(timeframe: str) -> int:
    """Nominal length of a timeframe in ms (``1mn`` is 30 days; use :meth:`BrokerClock.bucket_keys` to group)."""
    return MT5_TIMEFRAMES[timeframe] * MINUTE


class BrokerClock:
    """A broker's wall clock (``name``: ``"ny"`` or ``"eu"``): offsets, broker days, bucket open times."""

    def __init__(self, name: str, transitions: list[int]) -> None:
        self.name = name
        self._transitions = transitions
        self._transitions_np = np.array(transitions, dtype=np.int64)

    def __repr__(self) -> str:
        return f"BrokerClock({self.name!r})"

    def offset(self, ms: int) -> int:
        """Broker offset from UTC in ms at a UTC instant."""
        return WINTER + HOUR * (bisect.bisect_right(self._transitions, ms) % 2)

    def offsets(self, ms: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`offset`."""
        return WINTER + HOUR * (np.searchsorted(self._transitions_np, ms, side="right") % 2)

    def day_of(self, ms: int) -> int:
        """Broker day index (0 = 2020-01-01) of a UTC instant."""
        return (ms + self.offset(ms) - ORIGIN_LOCAL_MS) // DAY

    def day_start(self, day: int) -> int:
        """UTC instant of broker midnight starting broker day ``day``."""
        local = ORIGIN_LOCAL_MS + day * DAY
        return local - self.offset(local - WINTER - HOUR)  # scalar twin of utc_of: called per day, bisect is faster

    def utc_of(self, local: np.ndarray) -> np.ndarray:
        """UTC instants of broker wall-clock times (as if UTC, ms); a repeated autumn hour maps to its first pass.

        The offset is the one in force at the wall-clock time itself, not at some later element: ``local - 3h``
        is in summer time exactly when the local time is (or is the first pass of the repeated hour).
        """
        return local - self.offsets(local - WINTER - HOUR)

    def broker_time(self, ms: int) -> str:
        """``YYYY-MM-DD HH:mm:ss.SSS`` on the broker clock."""
        return str(np.datetime64(ms + self.offset(ms), "ms")).replace("T", " ")

    def broker_times(self, ms: np.ndarray) -> list[str]:
        """Vectorised :meth:`broker_time`."""
        return _strings(ms, self)

    def bucket_keys(self, ms: np.ndarray, timeframe: str) -> np.ndarray:
        """The broker-clock bucket of each UTC instant for a timeframe (equal keys = same candle)."""
        local = ms + self.offsets(ms)
        if timeframe == "1mn":
            return local.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
        if timeframe == "1w":
            return (local // DAY + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Monday
        return local // timeframe_ms(timeframe)

    def bucket_open(self, keys: np.ndarray, timeframe: str) -> np.ndarray:
        """UTC open time of buckets given their keys: broker wall-clock start, at the offset in force then."""
        if timeframe == "1mn":
            local = keys.astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
        elif timeframe == "1w":
            local = (keys * 7 - 3) * DAY
        else:
            local = keys * timeframe_ms(timeframe)
        return self.utc_of(local)

    def local_minutes(self, ms: np.ndarray) -> np.ndarray:
        """Broker minute of day (0..1439) of UTC instants."""
        return ((ms + self.offsets(ms)) % DAY) // MINUTE


_YEARS = range(1970, 2200)
#: The clocks by name; ``"ny"`` is the default of every market.
CLOCKS = {
    "ny": BrokerClock("ny", [ms for year in _YEARS for ms in _us(year)]),
    "eu": BrokerClock("eu", [ms for year in _YEARS for ms in _eu(year)]),
}
DEFAULT_CLOCK = "ny"


_CLOCK_ISO = [f"T{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_CLOCK_BROKER = [f" {m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SECONDS = [f"{i // 1000:02d}.{i % 1000:03d}" for i in range(MINUTE)]


def _format(ms: np.ndarray, clocks: list[str], end: str) -> list[str]:
    """Date + clock strings from lookup tables: several times faster than formatting each value."""
    if len(ms) == 0:
        return []
    days = ms // DAY
    first = int(days.min())
    dates = np.datetime_as_string(np.arange(first, int(days.max()) + 1).astype("datetime64[D]")).tolist()
    rest = ms - days * DAY
    return [
        dates[day] + clocks[minute] + _SECONDS[milli] + end
        for day, minute, milli in zip((days - first).tolist(), (rest // MINUTE).tolist(), (rest % MINUTE).tolist(),
                                      strict=True)
    ]  # fmt: skip


_MINUTES_ISO = [f"{clock}00.000Z" for clock in _CLOCK_ISO]
_MINUTES_BROKER = [f"{clock}00.000" for clock in _CLOCK_BROKER]


def _date(utc_day: int) -> str:
    return str(np.datetime64(utc_day, "D"))


@functools.lru_cache(maxsize=128)
def _minute_table(utc_day: int, broker: BrokerClock | None) -> list[str]:
    """The ISO (or ``broker`` clock) strings of the 1440 minutes of a UTC day: a date prefix on fixed clocks."""
    start = utc_day * DAY
    if broker is None:
        date = _date(utc_day)
        return [date + clock for clock in _MINUTES_ISO]
    shift = broker.offset(start)
    if shift != broker.offset(start + DAY - MINUTE):  # a clock change inside the day: format each minute
        ms = start + np.arange(0, DAY, MINUTE, dtype=np.int64)
        return _format(ms + broker.offsets(ms), _CLOCK_BROKER, "")
    first = shift // MINUTE  # the broker clock's minute at 00:00 UTC; the broker date turns at 1440 - first
    today, tomorrow = _date(utc_day), _date(utc_day + 1)
    return [today + clock for clock in _MINUTES_BROKER[first:]] + [
        tomorrow + clock for clock in _MINUTES_BROKER[:first]
    ]


def _strings(ms: np.ndarray, broker: BrokerClock | None) -> list[str]:
    """ISO (or broker) strings of epoch ms; whole minutes (every candle) come from cached per-day tables."""
    days = ms // DAY
    bounds = np.flatnonzero(np.diff(days)).tolist()
    if len(ms) == 0 or len(bounds) >= len(ms) // 64 or (ms % MINUTE).any():  # sparse: format directly
        return _format(ms + broker.offsets(ms), _CLOCK_BROKER, "") if broker else _format(ms, _CLOCK_ISO, "Z")
    out: list[str] = []
    for lo, hi in zip([0, *(b + 1 for b in bounds)], [*(b + 1 for b in bounds), len(ms)], strict=True):
        table = _minute_table(int(days[lo]), broker)
        minutes = (ms[lo:hi] - days[lo] * DAY) // MINUTE
        first, count = int(minutes[0]), hi - lo
        if int(minutes[-1]) - first == count - 1:
            out += table[first : first + count]
        else:
            out += [table[m] for m in minutes.tolist()]
    return out


def iso_times(ms: np.ndarray) -> list[str]:
    """Wire ISO strings (``2024-03-01T12:00:05.123Z``) for an array of epoch ms."""
    return _strings(ms, None)
