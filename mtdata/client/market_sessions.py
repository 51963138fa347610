"""A symbol's trading sessions (its specification's ``quoteSessions``) on the broker's wall clock.

Sessions are per weekday lists of ``{from, to}`` broker wall-clock strings (protocol §9.1), ``to`` included;
``23:59:59.999`` runs into the next day's ``00:00:00.000``, so FX's Monday-to-Friday week is one interval.
Every time here is a naive broker wall-clock datetime (a price's ``brokerTime``, the server's ``brokerTime``).
Pure functions: the health monitor, the latency monitor and the notebook layer share them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

#: ``datetime.weekday()`` order (Monday = 0).
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: How far :func:`hours` looks for the next open and close (a week and a day: every weekly pattern repeats).
HORIZON_DAYS = 8
#: Breaks between sessions are longer than this: a price this young, open then and now, saw no close.
SHORTEST_BREAK = timedelta(minutes=1)
_TICK = timedelta(milliseconds=1)


class Hours(NamedTuple):
    """Whether a market is open at a broker time, and its surrounding opens and closes (broker time; None: none
    within :data:`HORIZON_DAYS`, e.g. no close for a market open around the clock)."""

    open: bool
    next_open: datetime | None
    next_close: datetime | None
    last_close: datetime | None


def broker_datetime(text: str) -> datetime:
    """A ``YYYY-MM-DD HH:mm:ss.SSS`` broker-time string as a naive datetime."""
    return datetime.fromisoformat(text)


def _clock(text: str) -> timedelta:
    hours, minutes, seconds = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def is_open(specification: Mapping[str, Any] | None, broker: datetime) -> bool:
    """True when ``broker`` falls in one of the day's quote sessions (compared as the protocol's strings)."""
    sessions = ((specification or {}).get("quoteSessions") or {}).get(DAYS[broker.weekday()]) or []
    clock = broker.strftime("%H:%M:%S.%f")[:-3]  # milliseconds, as the sessions are written
    return any(session.get("from", "~") <= clock <= session.get("to", "") for session in sessions)


def intervals(
    specification: Mapping[str, Any] | None, start: datetime, days: int
) -> Iterator[tuple[datetime, datetime]]:
    """The open intervals ``[open, close]`` of the ``days`` broker days from ``start``'s day on, contiguous ones
    merged (a ``to`` of ``23:59:59.999`` closes at the next midnight, where the next day's session opens)."""
    sessions = (specification or {}).get("quoteSessions") or {}
    midnight = datetime(start.year, start.month, start.day)
    current: list[datetime] | None = None
    for offset in range(days):
        day = midnight + timedelta(days=offset)
        day_sessions = sessions.get(DAYS[day.weekday()]) or []
        for begin, end in sorted((_clock(s.get("from", "")), _clock(s.get("to", ""))) for s in day_sessions):
            opened, closed = day + begin, day + end + (_TICK if end.microseconds // 1000 == 999 else timedelta())
            if current is not None and opened <= current[1] + _TICK:
                current[1] = max(current[1], closed)
                continue
            if current is not None:
                yield current[0], current[1]
            current = [opened, closed]
    if current is not None:
        yield current[0], current[1]


def hours(specification: Mapping[str, Any] | None, broker: datetime) -> Hours:
    """Open now or not at ``broker``, the next open (when closed), the next close and the last close before it."""
    spans = list(intervals(specification, broker - timedelta(days=HORIZON_DAYS), 2 * HORIZON_DAYS + 1))
    last_close = max((closed for _, closed in spans if closed < broker), default=None)
    inside = next(((o, c) for o, c in spans if o <= broker <= c), None)
    horizon = broker + timedelta(days=HORIZON_DAYS)
    if inside is not None:
        closes = inside[1] if inside[1] <= horizon else None
        return Hours(True, None, closes, last_close)
    following = next(((o, c) for o, c in spans if o > broker), None)
    if following is None or following[0] > horizon:
        return Hours(False, None, None, last_close)
    return Hours(False, following[0], following[1] if following[1] <= horizon else None, last_close)


def closed_since(specification: Mapping[str, Any] | None, quoted: datetime, broker: datetime) -> bool:
    """True when the market closed after a quote of broker time ``quoted`` and by broker time ``broker``: the quote
    is stale (the market is closed now, or reopened without a newer quote)."""
    if specification is None or not (specification.get("quoteSessions") or {}) or broker <= quoted:
        return False  # no sessions known: nothing to say
    if not is_open(specification, broker):
        return True
    if broker - quoted < SHORTEST_BREAK and is_open(specification, quoted):
        return False  # the fast path of a live price: no break fits between
    spans = intervals(specification, quoted - timedelta(days=1), HORIZON_DAYS + 2)
    return any(quoted <= closed < broker for _, closed in spans)
