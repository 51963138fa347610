"""MetaTrader's times: the broker's wall clock written as epoch seconds, and the conversions to and from UTC.

The terminal stamps bars, ticks, deals and orders with the trade server's clock, then writes that wall-clock
reading as if it were UTC: a bar opened at 10:00 broker time (08:00 UTC on a UTC+2 broker) has ``time`` =
the epoch seconds of 10:00 UTC. So ``pd.to_datetime(rates["time"], unit="s")`` shows the broker's clock, as
MetaTrader does, and is *not* UTC. Time arguments follow the same rule: an aware datetime's UTC fields, a
naive datetime's fields, or epoch seconds, all read as the broker's wall clock (as the MetaTrader5 package does
on a machine set to UTC; on other machines it reads a naive datetime in the local zone).

:class:`BrokerClock` converts: ``"ny"`` ("New York close": UTC+2, UTC+3 while the US is on daylight saving;
the sandbox's clock and most FX brokers'), ``"eu"`` (UTC+2/+3 with EU summer time), or a fixed offset in
hours. :func:`mtdata.mt5.initialize` checks the chosen clock against the server's current offset.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

#: Named clocks: a tz database zone and the hours the broker runs ahead of it.
CLOCKS: dict[str, tuple[str, int]] = {"ny": ("America/New_York", 7), "eu": ("Europe/Helsinki", 0)}


class TimeArgumentError(ValueError):
    """A time argument that is neither epoch seconds nor a datetime (MT5's invalid-params case)."""


def seconds(name: str, value: Any) -> int:
    """A time argument as broker epoch seconds: int/float seconds, or a datetime whose fields (UTC fields when
    aware) are the broker's wall clock; a fraction of a second is dropped, as MT5 takes whole seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating | datetime):
        raise TimeArgumentError(f"{name} must be a datetime or epoch seconds, not {type(value).__name__}")
    if isinstance(value, datetime):
        wall = value.astimezone(UTC) if value.tzinfo is not None else value
        return calendar.timegm(wall.timetuple())
    if not np.isfinite(value) or not 0 <= value < 4_102_444_800:
        raise TimeArgumentError(f"{name} must be epoch seconds between 1970 and 2100, not {value!r}")
    return int(value)


def to_datetime(value: Any) -> Any:
    """MetaTrader seconds as the broker's wall clock: a naive Timestamp, or a DatetimeIndex for arrays
    (what ``pd.to_datetime(value, unit="s")`` gives)."""
    return pd.to_datetime(value, unit="s")


class BrokerClock:
    """A broker's clock: its offset from UTC at any instant, and the conversions of MetaTrader seconds."""

    def __init__(self, clock: str | float = "ny") -> None:
        if isinstance(clock, str) and clock in CLOCKS:
            self.zone, self.ahead = CLOCKS[clock]
        elif isinstance(clock, int | float) and not isinstance(clock, bool) and -14 <= clock <= 14:
            self.zone, self.ahead = "UTC", clock
        else:
            raise ValueError(f"broker_clock must be 'ny', 'eu' or hours ahead of UTC (-14..14), not {clock!r}")
        self.name = clock

    def __repr__(self) -> str:
        return f"BrokerClock({self.name!r})"

    def offset(self, utc: datetime) -> timedelta:
        """How far the broker's wall clock runs ahead of UTC at ``utc`` (an aware datetime)."""
        local = pd.Timestamp(utc).tz_convert(self.zone)
        return local.utcoffset() + timedelta(hours=self.ahead)

    def to_utc(self, value: Any) -> Any:
        """MetaTrader seconds (a number or an array) as UTC: an aware Timestamp or DatetimeIndex. A wall-clock
        reading the clock skips or repeats (a daylight-saving change) raises ValueError rather than guessing."""
        wall = pd.to_datetime(value, unit="s") - pd.Timedelta(hours=self.ahead)
        try:
            return wall.tz_localize(self.zone).tz_convert("UTC")
        except (pd.errors.OutOfBoundsDatetime, ValueError) as error:
            raise ValueError(f"{value!r} is not one instant on the {self.name!r} broker clock ({error})") from None

    def from_utc(self, value: Any) -> Any:
        """An aware datetime (or DatetimeIndex) as MetaTrader seconds on this clock (an int, or an int64 array)."""
        stamp = pd.to_datetime(value)
        if getattr(stamp, "tz", None) is None:
            raise ValueError("from_utc needs aware datetimes (UTC or any zone)")
        wall = stamp.tz_convert(self.zone).tz_localize(None) + pd.Timedelta(hours=self.ahead)
        return wall.value // 10**9 if isinstance(wall, pd.Timestamp) else wall.asi8 // 10**9

    def wall(self, utc: datetime) -> datetime:
        """The broker's wall clock at ``utc``, naive."""
        return (pd.Timestamp(utc).tz_convert("UTC") + self.offset(utc)).tz_localize(None).to_pydatetime()


__all__ = ["CLOCKS", "BrokerClock", "TimeArgumentError", "seconds", "to_datetime"]
