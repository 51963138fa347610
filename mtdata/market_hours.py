"""Which markets are open: the account's symbols against the trade server's clock, and stale quotes.

A market is open when the server's broker time falls in one of its symbol's ``quoteSessions``
(:mod:`mtdata.client.market_sessions`). The clock is the trade server's (``getServerTime``), not this
machine's: a sandbox pinned to a Wednesday is open on a real Sunday. A quote is **stale** when its market
closed after it was quoted (on a weekend, Friday's last quote). Times shown in UTC are converted at the
server's current offset from UTC.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from . import frames
from .client import market_sessions

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("mtdata.live")
#: The longest a :class:`StaleWatch` waits between two looks at the server's clock (wall seconds).
RECHECK_SECONDS = 60.0


class ServerClock(NamedTuple):
    """The trade server's clock at one moment: broker wall-clock time and its offset from UTC."""

    broker: datetime
    offset: timedelta

    def utc(self, broker: datetime | None) -> datetime | None:
        """A broker time as an aware UTC datetime (at the current offset)."""
        return None if broker is None else (broker - self.offset).replace(tzinfo=UTC)


async def server_clock(connection: Any) -> ServerClock:
    """The server's clock now (one ``getServerTime`` request over the connection)."""
    answer = await connection.get_server_time()
    broker = market_sessions.broker_datetime(answer["brokerTime"])
    utc = answer["time"]
    utc = utc if isinstance(utc, datetime) else datetime.fromisoformat(str(utc).replace("Z", "+00:00"))
    offset = broker - utc.astimezone(UTC).replace(tzinfo=None)
    return ServerClock(broker, timedelta(minutes=round(offset / timedelta(minutes=1))))


def is_stale(specification: dict[str, Any] | None, price: dict[str, Any], clock: ServerClock) -> bool:
    """True when the market closed after ``price`` was quoted (its ``brokerTime``), by the server's clock."""
    quoted = price.get("brokerTime")
    return bool(quoted) and market_sessions.closed_since(
        specification, market_sessions.broker_datetime(quoted), clock.broker
    )


def hours_columns(specifications: list[dict[str, Any]], clock: ServerClock) -> dict[str, list[Any]]:
    """``market_open``, ``next_open`` and ``next_close`` (UTC) of each specification, in order."""
    columns: dict[str, list[Any]] = {"market_open": [], "next_open": [], "next_close": []}
    for spec in specifications:
        hours = market_sessions.hours(spec, clock.broker)
        columns["market_open"].append(hours.open)
        columns["next_open"].append(clock.utc(hours.next_open))
        columns["next_close"].append(clock.utc(hours.next_close))
    return columns


def symbols_frame(specs: pd.DataFrame, specifications: list[dict[str, Any]], clock: ServerClock) -> pd.DataFrame:
    """The specifications frame (indexed by symbol) with each market's hours after its ``symbol`` index."""
    import pandas as pd

    columns = hours_columns(specifications, clock)
    frame = specs.copy()
    frame.insert(0, "market_open", pd.array(columns["market_open"], dtype="bool"))
    for position, name in ((1, "next_open"), (2, "next_close")):
        times = pd.to_datetime(pd.Series(columns[name], dtype=object), utc=True).astype(frames.TIME_DTYPE)
        frame.insert(position, name, times.array)
    frame.attrs["server_time"] = clock.utc(clock.broker).isoformat()  # type: ignore[union-attr]
    return frame


def summary(specifications: list[dict[str, Any]], clock: ServerClock) -> str:
    """One line for the session's repr: how many markets are open, and which are closed."""
    closed = [s["symbol"] for s in specifications if not market_sessions.is_open(s, clock.broker)]
    if not closed:
        return f"all {len(specifications)} open"
    names = ", ".join(closed[:6]) + (f" and {len(closed) - 6} more" if len(closed) > 6 else "")
    return f"{len(specifications) - len(closed)} of {len(specifications)} open; closed: {names}"


class StaleWatch:
    """Whether each symbol's latest quote is stale, for a panel: asked on the session's loop when a symbol's first
    quote comes, again whenever a quote comes for a stale one, and at least every :data:`RECHECK_SECONDS` (sooner
    when a close is due), so a market closing while the panel is open is seen. ``changed()`` follows each answer."""

    def __init__(self, session: Any, changed: Any) -> None:
        self._session, self._changed = session, changed
        self._latest: dict[str, dict[str, Any]] = {}
        self.stale: dict[str, bool] = {}
        """The latest answer per symbol (absent until the first)."""
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def note(self, price: dict[str, Any]) -> None:
        """A quote arrived (on the session's loop): look again if it is the symbol's first or the symbol was stale."""
        symbol = price["symbol"]
        first = symbol not in self._latest
        self._latest[symbol] = price
        if (first or self.stale.get(symbol)) and not self._closed:
            asyncio.get_running_loop().create_task(self._check())

    def close(self) -> None:
        """No more checks (idempotent; any thread)."""
        self._closed = True
        timer, self._timer = self._timer, None
        if timer is not None and not self._session.closed:
            self._session.loop.call_soon_threadsafe(timer.cancel)

    async def _check(self) -> None:
        if self._closed or self._session.closed:
            return
        try:
            connection = await self._session._connection()  # on the session's loop already
            clock = await server_clock(connection)
        except Exception:  # the session closing, a lost connection: the next quote or timer asks again
            log.debug("checking stale quotes failed", exc_info=True)
            return
        state, wait = connection.terminal_state, RECHECK_SECONDS
        for symbol, price in list(self._latest.items()):
            spec = state.specification(symbol)
            self.stale[symbol] = is_stale(spec, price, clock)
            closes = market_sessions.hours(spec, clock.broker).next_close
            if closes is not None:
                wait = min(wait, max(1.0, (closes - clock.broker).total_seconds() + 1))
        self._changed()
        if self._timer is not None:
            self._timer.cancel()
        if not self._closed:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(wait, lambda: loop.create_task(self._check()))
