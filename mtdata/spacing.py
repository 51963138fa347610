"""The timeframe a frame's rows show by themselves: ticks or candles by their columns, a candle timeframe by the
spacing of one symbol's open times. Exports partition by it and never by ``attrs["timeframe"]`` alone, which
pandas keeps through a ``resample`` (wrong) and drops in a ``concat`` (lost).

Intraday candles (1m … 12h) open on a grid of their length, never closer than it; gaps (weekends, quiet
markets) are multiples of it. Candles of more than an hour open on the broker's clock, so a
daylight saving change moves the grid by an hour once. D1, W1 and MN1 open at broker midnight (the UTC instant
moves by an hour with daylight saving) and months differ in length: they are told by their broker dates
(one a day; the same weekday; the first of the month).
"""

from __future__ import annotations

import numpy as np

from .timeframes import MT5_TIMEFRAMES

_HOUR = 3_600_000
_DAY = 24 * _HOUR
#: The closest two opens of a calendar timeframe can be (ms): daylight saving takes an hour off a day.
_LONG = {"1d": _DAY - _HOUR, "1w": 7 * _DAY - _HOUR, "1mn": 28 * _DAY - _HOUR}
#: Daylight saving changes are months apart (EU and US: about 5 and 7 months): a grid that moves sooner is no DST.
_DST_APART = 120 * _DAY
_LONGEST_FIRST = sorted(MT5_TIMEFRAMES, key=MT5_TIMEFRAMES.__getitem__, reverse=True)


def kind(columns: object) -> str | None:
    """``"candles"`` (open, high, low, close), ``"ticks"`` (bid, ask) or None for any other frame's columns."""
    names = set(columns)  # type: ignore[call-overload]
    if {"open", "high", "low", "close"} <= names:
        return "candles"
    return "ticks" if {"bid", "ask"} <= names else None


def shown(opens: np.ndarray) -> str | None:
    """The longest timeframe whose candles ascending distinct open times (epoch ms) can all be, None for a single
    open or when none can (mixed timeframes, irregular times). Sparse rows show a longer one than they may be."""
    if len(opens) < 2:
        return None
    closest = int(np.diff(opens).min())
    return next((tf for tf in _LONGEST_FIRST if _may_fit(tf, closest) and fits(tf, opens)), None)


def agrees(tf: str, opens: np.ndarray) -> bool:
    """Whether a claimed ``tf`` (a hint such as ``attrs["timeframe"]``) agrees with the open times: they fit it
    and are that far apart somewhere (or are what :func:`shown` finds): 5m bars claimed as 1m do not agree."""
    if not fits(tf, opens):
        return False
    if len(opens) < 2 or shown(opens) == tf:
        return True
    return tf not in _LONG and bool((np.diff(opens) == MT5_TIMEFRAMES[tf] * 60_000).any())


def describe(step: int) -> str:
    """A spacing for an error message: ``"7 min"``, ``"2.5 h"``, ``"3 days"``."""
    if step < _HOUR:
        return f"{step / 60_000:g} min"
    return f"{step / _HOUR:g} h" if step < _DAY else f"{step / _DAY:g} days"


def _may_fit(tf: str, closest: int) -> bool:
    """Whether opens at best ``closest`` ms apart may be ``tf`` candles (a cheap test before :func:`fits`)."""
    if tf in _LONG:
        return closest >= _LONG[tf]
    step = MT5_TIMEFRAMES[tf] * 60_000
    return closest >= step - (_HOUR if step > _HOUR else 0)


def fits(tf: str, opens: np.ndarray) -> bool:
    """Whether ascending distinct open times (epoch ms) can all be opens of ``tf`` candles (gaps allowed)."""
    if tf in _LONG:
        return _fits_calendar(tf, opens)
    step = MT5_TIMEFRAMES[tf] * 60_000
    if len(opens) > 1 and not _may_fit(tf, int(np.diff(opens).min())):
        return False
    shifts = opens % step
    grids = np.unique(shifts)
    if step <= _HOUR:  # whole-hour (or half-hour) time zones: one grid, the UTC one up to M15
        return len(grids) <= 1 and (step > 900_000 or not grids.any())
    if len(grids) <= 1:
        return True
    # the broker's clock moved by daylight saving's hour: two grids an hour apart, switched months apart
    switches = opens[1:][np.diff(shifts) != 0]
    return bool(len(grids) == 2 and (grids[1] - grids[0]) in (_HOUR, step - _HOUR)
                and (len(switches) < 2 or np.diff(switches).min() >= _DST_APART))  # fmt: skip


def _fits_calendar(tf: str, opens: np.ndarray) -> bool:
    """D1/W1/MN1: one open per broker date (the date of the nearest midnight: any UTC offset within 12 h), all at
    the same time of day give or take daylight saving's hour, on one weekday (W1) or on the 1st (MN1)."""
    days = (opens + _DAY // 2) // _DAY
    offsets = opens - days * _DAY
    if len(opens) and (offsets.max() - offsets.min() > _HOUR or len(np.unique(days)) < len(days)):
        return False
    if tf == "1w":
        return len(np.unique(days % 7)) == 1
    if tf == "1mn":
        dates = days.astype("datetime64[D]")
        return bool((dates == dates.astype("datetime64[M]").astype("datetime64[D]")).all())
    return True
