"""Wire dates (protocol §9.1): time-like strings of socket packets become aware UTC datetimes, in place.

Every string under a key containing ``time``/``Time`` (but not ``brokerTime``, ``BrokerTime`` or
``timeframe``) is parsed; every member of a ``timestamps`` object is parsed (numbers as epoch seconds).
Dates past 3000-01-01 (and extended years such as ``+275760-…``) are clamped to it. A value that does
not parse is left as it was and logged, so one bad field never loses the rest of a packet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ..hashing import iso_ms

__all__ = ["MAX_DATE", "convert_dates", "is_time_key", "iso_ms", "parse_date"]

log = logging.getLogger("mtdata.client")

#: The latest date the client represents (later ones are clamped to it).
MAX_DATE = datetime(3000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=512)
def is_time_key(key: str) -> bool:
    """True for keys whose string values are dates on the wire."""
    return ("time" in key or "Time" in key) and not ("brokerTime" in key or "BrokerTime" in key or "timeframe" in key)


def parse_date(value: str | float | int) -> datetime:
    """An ISO-8601 string (or epoch seconds) as an aware UTC datetime; raises ValueError if it does not parse."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    if value.startswith("+"):
        return MAX_DATE
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed if parsed < MAX_DATE else MAX_DATE


def _convert_timestamps(stamps: dict[str, Any]) -> None:
    for key, value in stamps.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            try:
                stamps[key] = parse_date(value)
            except (ValueError, OverflowError, OSError):
                log.warning("unparsable timestamp %s=%r left as it is", key, value)


def convert_dates(value: Any) -> Any:
    """Convert the dates of a packet or response in place (recursively) and return it."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if is_time_key(key):
                    try:
                        value[key] = parse_date(item)
                    except ValueError:
                        log.warning("unparsable date %s=%r left as it is", key, item)
            elif isinstance(item, dict):
                if key == "timestamps":
                    _convert_timestamps(item)
                else:
                    convert_dates(item)
            elif isinstance(item, list):
                convert_dates(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                convert_dates(item)
    return value
