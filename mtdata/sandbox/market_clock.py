"""The broker clock: EET-like (UTC+2 in winter, UTC+3 in EU summer time), broker days and timeframe buckets.

Summer time follows the EU rule: from the last Sunday of March 01:00 UTC to the last Sunday of October
01:00 UTC. Broker day 0 is 2020-01-01 (broker time), the origin of the simulated history. Candles of a
timeframe are grouped by broker wall-clock time: intraday ones from broker midnight, ``1d`` from broker
midnight, ``1w`` from Monday 00:00 broker time, ``1mn`` from the 1st of the broker month. Buckets follow
the wall clock: on the autumn change the repeated broker hour 03:00 makes one two-hour ``1h`` candle
(its M1 candles keep distinct UTC times), and on the spring change broker 03:00 does not exist.
"""

from __future__ import annotations

import bisect
import calendar
import functools

import numpy as np

from ..timeframes import MT5_TIMEFRAMES

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WINTER = 2 * HOUR
#: Broker midnight of 2020-01-01 as if it were UTC (local ms) and as a real UTC instant.
ORIGIN_LOCAL_MS = 1_577_836_800_000
ORIGIN_MS = ORIGIN_LOCAL_MS - WINTER


def _last_sunday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = last - (calendar.weekday(year, month, last) + 1) % 7
    return calendar.timegm((year, month, day, 1, 0, 0)) * 1000


_TRANSITIONS = [ms for year in range(1970, 2200) for ms in (_last_sunday(year, 3), _last_sunday(year, 10))]
_TRANSITIONS_NP = np.array(_TRANSITIONS, dtype=np.int64)


def offset(ms: int) -> int:
    """Broker offset from UTC in ms at a UTC instant."""
    return WINTER + HOUR * (bisect.bisect_right(_TRANSITIONS, ms) % 2)


def offsets(ms: np.ndarray) -> np.ndarray:
    """Vectorised :func:`offset`."""
    return WINTER + HOUR * (np.searchsorted(_TRANSITIONS_NP, ms, side="right") % 2)


def day_of(ms: int) -> int:
    """Broker day index (0 = 2020-01-01) of a UTC instant."""
    return (ms + offset(ms) - ORIGIN_LOCAL_MS) // DAY


def day_start(day: int) -> int:
    """UTC instant of broker midnight starting broker day ``day``."""
    local = ORIGIN_LOCAL_MS + day * DAY
    return local - offset(local - WINTER - HOUR)  # scalar twin of utc_of: called per day, bisect is faster


def utc_of(local: np.ndarray) -> np.ndarray:
    """UTC instants of broker wall-clock times (as if UTC, ms); a repeated autumn hour maps to its first pass.

    The offset is the one in force at the wall-clock time itself, not at some later element: ``local - 3h``
    is in summer time exactly when the local time is (or is the first pass of the repeated hour).
    """
    return local - offsets(local - WINTER - HOUR)


def weekday(day: int) -> int:
    """Weekday of a broker day, Sunday = 0 (2020-01-01 was a Wednesday)."""
    return (3 + day) % 7


def broker_time(ms: int) -> str:
    """``YYYY-MM-DD HH:mm:ss.SSS`` on the broker clock."""
    return str(np.datetime64(ms + offset(ms), "ms")).replace("T", " ")


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
def _minute_table(utc_day: int, broker: bool) -> list[str]:
    """The ISO (or broker) strings of the 1440 minutes of a UTC day: a date prefix on precomputed clocks."""
    start = utc_day * DAY
    if not broker:
        date = _date(utc_day)
        return [date + clock for clock in _MINUTES_ISO]
    shift = offset(start)
    if shift != offset(start + DAY - MINUTE):  # a clock change inside the day: format each minute
        ms = start + np.arange(0, DAY, MINUTE, dtype=np.int64)
        return _format(ms + offsets(ms), _CLOCK_BROKER, "")
    first = shift // MINUTE  # the broker clock's minute at 00:00 UTC; the broker date turns at 1440 - first
    today, tomorrow = _date(utc_day), _date(utc_day + 1)
    return [today + clock for clock in _MINUTES_BROKER[first:]] + [
        tomorrow + clock for clock in _MINUTES_BROKER[:first]
    ]


def _strings(ms: np.ndarray, broker: bool) -> list[str]:
    """Strings of epoch ms; whole minutes (every candle) come from cached per-day tables, mostly as slices."""
    days = ms // DAY
    bounds = np.flatnonzero(np.diff(days)).tolist()
    if len(ms) == 0 or len(bounds) >= len(ms) // 64 or (ms % MINUTE).any():  # sparse: format directly
        return _format(ms + offsets(ms), _CLOCK_BROKER, "") if broker else _format(ms, _CLOCK_ISO, "Z")
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


def broker_times(ms: np.ndarray) -> list[str]:
    """Vectorised :func:`broker_time`."""
    return _strings(ms, True)


def iso_times(ms: np.ndarray) -> list[str]:
    """Wire ISO strings (``2024-03-01T12:00:05.123Z``) for an array of epoch ms."""
    return _strings(ms, False)


def timeframe_ms(timeframe: str) -> int:
    """Nominal length of a timeframe in ms (``1mn`` is 30 days; use :func:`bucket_keys` for grouping)."""
    return MT5_TIMEFRAMES[timeframe] * MINUTE


def bucket_keys(ms: np.ndarray, timeframe: str) -> np.ndarray:
    """The broker-clock bucket of each UTC instant for a timeframe (equal keys = same candle)."""
    local = ms + offsets(ms)
    if timeframe == "1mn":
        return local.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    if timeframe == "1w":
        return (local // DAY + 3) // 7  # 1970-01-01 was a Thursday: weeks start on Monday
    return local // timeframe_ms(timeframe)


def bucket_open(keys: np.ndarray, timeframe: str) -> np.ndarray:
    """UTC open time of buckets given their keys: broker wall-clock start, at the offset in force then."""
    if timeframe == "1mn":
        local = keys.astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
    elif timeframe == "1w":
        local = (keys * 7 - 3) * DAY
    else:
        local = keys * timeframe_ms(timeframe)
    return utc_of(local)


def local_minutes(ms: np.ndarray) -> np.ndarray:
    """Broker minute of day (0..1439) of UTC instants."""
    return ((ms + offsets(ms)) % DAY) // MINUTE
