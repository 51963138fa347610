"""The market's clock for the live charts: every chart's x axis is the trade server's time, as the candles' are.

A sandbox may run at ``speed=60`` from a Wednesday in the past, and a broker's server is wherever it is: this
machine's wall clock is no chart's time. :class:`MarketClock` reads the time of the newest price the session
received (the terminal state's ``last_quote_time``), never earlier than the server's own clock when the panel
started (:func:`mtdata.market_hours.server_clock`, asked once), so a panel opened before any price still has a
time. :func:`time_figure` makes a chart over it, its x axis labelled in UTC (:data:`TIME_LABEL`) like the
candles'.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bokeh.plotting import figure

from .. import market_hours
from .bokeh_widget import page_ranges

log = logging.getLogger("mtdata.live")
#: The longest :meth:`MarketClock.start` waits for the server's clock (seconds); without it, the first price's time.
START_TIMEOUT = 5.0
#: The x-axis label of every live chart: times are UTC on the trade server's clock (candles, ticks, equity, latency).
TIME_LABEL = "market time (UTC)"


def time_figure(*, labelled: bool = True, **options: Any) -> Any:
    """A Bokeh figure over time (ms since the epoch, UTC), its x axis labelled :data:`TIME_LABEL` unless
    ``labelled`` is false (a chart stacked over another that carries the label), its ranges the page's
    (:func:`~mtdata.live.bokeh_widget.page_ranges`)."""
    chart = figure(x_axis_type="datetime", x_axis_label=TIME_LABEL if labelled else None, **options)
    return page_ranges(chart)


class MarketClock:
    """The trade server's time for a panel's samples: :meth:`start` once on the session's loop, then :meth:`now`."""

    def __init__(self) -> None:
        self._state: Any = None
        self._started_ms: float | None = None

    async def start(self, connection: Any) -> None:
        """Follow ``connection``'s terminal state, from the server's clock now (one ``getServerTime`` request; if it
        fails or takes over :data:`START_TIMEOUT` seconds, the clock starts with the next price instead)."""
        self._state = connection.terminal_state
        try:
            clock = await asyncio.wait_for(market_hours.server_clock(connection), START_TIMEOUT)
        except Exception:  # a lost broker, a slow server: no worse than waiting for a price
            log.warning("the server's clock could not be read: charts start with the next price", exc_info=True)
            return
        started = clock.utc(clock.broker)
        self._started_ms = None if started is None else started.timestamp() * 1000

    def now(self) -> float | None:
        """The market's time (ms since the epoch, UTC): the newest price's, or the server's clock at :meth:`start`
        if later (no price since, or a closed market's old quote); None before :meth:`start` or any time known. Any
        thread."""
        if self._state is None:
            return None
        quote = self._state.last_quote_time
        latest = quote["time"].timestamp() * 1000 if quote is not None else None
        return max((t for t in (latest, self._started_ms) if t is not None), default=None)


__all__ = ["START_TIMEOUT", "TIME_LABEL", "MarketClock", "time_figure"]
