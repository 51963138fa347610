"""Broker dates: a date alone as the ``start`` or ``end`` of a D1, W1 or MN1 request is the broker's date.

A daily candle opens at broker midnight, 21:00 or 22:00 UTC the evening before on a UTC+2/+3 broker: read as
midnight UTC, ``start="2026-11-02"`` would drop that day's candle and ``end="2026-11-06"`` keep the one of
November 6. For these timeframes a date alone (a ``date`` or ``"YYYY-MM-DD"``) selects candles by their
``broker_time``, ``[start, end)`` on the broker's calendar, as MetaTrader shows them. The download asks a day
more on each side (a broker's offset is within a day of UTC) and keeps the candles whose broker date is inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from .client import checks

#: Timeframes whose candles are named by their broker date.
DAILY = frozenset({"1d", "1w", "1mn"})


def date_only(value: Any) -> date | None:
    """The date of a date-only argument (a ``date`` or an ISO ``"YYYY-MM-DD"``), else None."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None  # arguments.moment refuses it, naming the argument
    return None


@dataclass(frozen=True)
class BrokerDates:
    """The broker dates a D1/W1/MN1 request asked for: ``[start, end)``, either side None when not a date alone."""

    start: date | None
    end: date | None

    def widen(self, first: datetime | None, last: datetime | None) -> tuple[datetime | None, datetime | None]:
        """The UTC range to download: a day more on each side given as a date."""
        day = timedelta(days=1)
        return (first - day if self.start and first else first), (last + day if self.end and last else last)

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The candles of ``frame`` whose broker date is in ``[start, end)``."""
        if frame.empty:
            return frame
        wall = frame["broker_time"]
        if wall.isna().any():
            name, value = ("start", self.start) if self.start else ("end", self.end)
            raise checks.fail(name, "is a date alone, which for D1/W1/MN1 means the broker's date, but the server "
                              "sent candles without brokerTime; pass a time with its zone", str(value))  # fmt: skip
        keep = (wall >= pd.Timestamp(self.start or date.min)) & (wall < pd.Timestamp(self.end or date.max))
        return frame[keep.to_numpy()]

    def bounds(self, frame: pd.DataFrame, first: datetime | None, last: datetime | None) -> tuple[Any, Any]:
        """The UTC instants of broker midnight of ``start`` and ``end`` (by the offset of the frame's first and last
        candle; midnight UTC for an empty frame), for the gaps at the edges; ``first``/``last`` where not dates."""
        if frame.empty:
            return (pd.Timestamp(self.start, tz="UTC") if self.start else first,
                    pd.Timestamp(self.end, tz="UTC") if self.end else last)  # fmt: skip
        offsets = frame["broker_time"].iloc[[0, -1]].to_numpy() - frame.index[[0, -1]].tz_localize(None).to_numpy()
        return (pd.Timestamp(self.start, tz="UTC") - offsets[0] if self.start else first,
                pd.Timestamp(self.end, tz="UTC") - offsets[1] if self.end else last)  # fmt: skip


def of(timeframe: str, start: Any, end: Any) -> BrokerDates | None:
    """The broker dates of a request: for D1/W1/MN1 with a date-only ``start`` or ``end``, else None."""
    if timeframe not in DAILY:
        return None
    dates = BrokerDates(date_only(start), date_only(end))
    return dates if dates.start or dates.end else None
