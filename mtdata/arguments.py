"""The arguments of the notebook layer's history calls: symbols, timeframes, times and ranges, one rule each.

``Session``, the CLI, ``mtdata.mt5``, the Dask path and the live panels read their arguments here, so a time
means the same everywhere (:data:`ZONE_RULE`), every range is half-open, [start, end), and a refusal names the
argument. Times are aware UTC datetimes inside, converted exactly to and from epoch milliseconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from .client import checks
from .timeframes import MT5_TIMEFRAMES

#: The most candles one symbol's range may span.
MAX_CANDLES = 10_000_000
#: The most days of ticks one call may ask for.
MAX_TICK_DAYS = 31
#: MetaTrader's own names of timeframes, accepted as aliases of the wire names.
ALIASES = {f"{p}{n}": f"{n}{s}" for p, s in (("M", "m"), ("H", "h")) for n in range(1, 31)} | {
    "D1": "1d", "W1": "1w", "MN1": "1mn"}  # fmt: skip
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def symbol_list(name: str, value: Any) -> list[str]:
    """One symbol, a comma-separated string or a list of symbols, as a list without repeats."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise checks.fail(name, "must be a symbol or a list of symbols", value)
    result = [checks.text(name, item).strip() for item in items]  # type: ignore[union-attr]
    return list(dict.fromkeys(result))


def timeframe(value: Any) -> str:
    """A wire timeframe (``1m`` … ``1mn``); MetaTrader's names (``M1``, ``H4``, ``D1``) are accepted too."""
    if isinstance(value, str) and value in ALIASES and ALIASES[value] in MT5_TIMEFRAMES:
        return ALIASES[value]
    return checks.choice("timeframe", value, MT5_TIMEFRAMES)


#: The one rule of time arguments, quoted by every refusal.
ZONE_RULE = ("a time of day must say its zone ('2026-11-17T10:00Z', '+02:00', or an aware datetime); a date "
             "alone ('2026-11-17' or a date) is that day's midnight")  # fmt: skip


def moment(name: str, value: Any, optional: bool = True) -> datetime | None:
    """A time argument as an aware UTC datetime, one rule for strings and datetimes (:data:`ZONE_RULE`): an aware
    datetime or an ISO string with an offset, or a date alone (``date`` or ``"2026-11-17"``: midnight UTC, which
    ``Session.candles`` moves to the broker's midnight for 1d/1w/1mn). A time
    of day without a zone, string or datetime, is refused: taking a local ``datetime.now()`` as UTC is wrong."""
    if value is None and optional:
        return None
    given = value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise checks.fail(name, f"must be an ISO 8601 date or time ({ZONE_RULE})", value) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise checks.fail(name, f"must be a datetime, a date or an ISO 8601 string ({ZONE_RULE})", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise checks.fail(name, f"has no time zone: {ZONE_RULE}", given)
    value = value.astimezone(UTC)
    if not _EARLIEST <= value < _LATEST:
        raise checks.fail(name, "must be between 1970 and 2100", value)
    return value


def ordered(start: datetime | None, end: datetime | None) -> None:
    """Refuse a range whose start is after its end (``start == end`` is the empty range)."""
    if start is not None and end is not None and start > end:
        raise checks.fail("start", f"must not be after end ({end.isoformat()})", start.isoformat())


def last_ms(end: datetime | None) -> datetime | None:
    """The last millisecond of a range ending before ``end``: every range of the notebook layer and the CLI is
    half-open, [start, end), and runs on inclusive millisecond bounds inside (times are whole milliseconds)."""
    return None if end is None else end - _MS


def step_ms(tf: str) -> int:
    """The shortest length of one candle of ``tf`` in milliseconds (28 days for ``1mn``)."""
    return (28 * 1440 if tf == "1mn" else MT5_TIMEFRAMES[tf]) * 60_000


def check_span(tf: str, start: datetime, end: datetime) -> None:
    """Refuse ranges of more than :data:`MAX_CANDLES` candles per symbol."""
    count = (end - start) / timedelta(milliseconds=step_ms(tf))
    if count > MAX_CANDLES:
        raise checks.fail("start", f"is too far back: over {MAX_CANDLES:,} {tf} candles per symbol", start.isoformat())


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact: integer arithmetic, sub-millisecond parts dropped)."""
    return (moment - _EARLIEST) // _MS


def at_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (exact)."""
    return _EARLIEST + ms * _MS
