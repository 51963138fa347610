"""Coalescing of updates: any number of pokes from any thread become at most ``rate`` flushes per second.

A producer (a streaming-connection listener on the session's loop thread, a test's thread, a cell) stores
its latest data wherever the panel keeps it and calls :meth:`Throttle.poke`; the flush callback then runs
on the thread of the loop captured when the throttle was made (in a notebook, the kernel's loop, the only
thread allowed to touch widgets and Bokeh models). Pokes between two flushes cost a lock and a flag; the
first poke after a flush costs one ``call_soon_threadsafe``. A poke is shown at the latest ``1 / rate``
seconds later (100 ms at the default 10 per second), and nothing runs while nothing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import Callable

from ..client import checks

log = logging.getLogger("mtdata.live")

#: The default redraws per second of a panel whose redraw is one comm message (the ticker: an ipywidgets state update).
DEFAULT_RATE = 10.0
#: The default redraws per second of a Bokeh chart panel: one redraw is one Bokeh document patch, which
#: jupyter_bokeh's front end takes as three comm messages (header, metadata, content), so 2.5 redraws a second
#: (every fourth frame of :data:`FRAME`) are 7.5 messages a second, within a budget of 10 per panel.
CHART_RATE = 2.5
#: The default redraws per second of a Bokeh panel with HTML text beside its chart or table (the account's figures,
#: a table's totals, latency percentiles): a redraw is a document patch (3 messages) and a text update (1 each),
#: so 2 redraws a second (every fifth frame) are 8 to 10 messages.
MIXED_RATE = 2.0


def kernel_loop() -> asyncio.AbstractEventLoop:
    """The running loop of the calling thread (a Jupyter kernel's, in a cell); panels need one to flush on."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "live panels need a running asyncio event loop on the calling thread (create them in a Jupyter "
            "kernel, or inside a coroutine)"
        ) from None


#: The frame of aligned throttles (the ticker's interval at :data:`DEFAULT_RATE`): their flushes fall on the same
#: instants of a loop's clock, so one panel's redraw never lands in the middle of another's.
FRAME = 1.0 / DEFAULT_RATE
#: The phase of Bokeh panels in a frame: just after the HTML panels (phase 0), so a page applies the ticker's
#: update first and draws the charts' patches after it, well before the next frame's update arrives.
CHART_PHASE = 0.005


class Throttle:
    """Runs ``flush`` on ``loop``'s thread at most ``rate`` times per second, once after any burst of pokes.

    With a ``phase`` (seconds, below :data:`~mtdata.live.throttle.FRAME`) and an interval of at least a frame, flushes
    are aligned: each falls on ``phase`` after a frame's start on the loop's clock, the first frame after the interval
    has passed (so a rate is rounded down to 10, 5, 3.33, 2.5, 2 … per second). Panels of one kernel then redraw
    together, in phase order, instead of at times that collide in the browser: a page's main thread drawing a chart
    holds back every other update.
    """

    def __init__(
        self,
        flush: Callable[[], None],
        rate: float = DEFAULT_RATE,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        phase: float | None = None,
    ) -> None:
        checks.number("rate", rate, minimum=0.1, maximum=1000)
        if phase is not None:
            checks.number("phase", phase, minimum=0, maximum=FRAME)
        self._flush = flush
        self._interval = 1.0 / rate
        self._phase = phase if phase is not None and self._interval >= FRAME - 1e-9 else None
        self._loop = loop or kernel_loop()
        self._lock = threading.Lock()
        self._dirty = False
        self._scheduled = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._last = float("-inf")
        self.flushes = 0
        """How many times ``flush`` ran (for tests and benchmarks)."""

    @property
    def rate(self) -> float:
        """The most flushes per second."""
        return 1.0 / self._interval

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran: pokes are ignored."""
        return self._closed

    def poke(self) -> None:
        """Mark the data changed (thread-safe); a flush follows within ``1 / rate`` seconds."""
        with self._lock:
            if self._closed:
                return
            self._dirty = True
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._arm)
        except RuntimeError:  # the loop is closed: the kernel is gone, nothing is left to draw on
            self.close()

    def flush_now(self) -> None:
        """Run a pending flush at once; call it on the loop's thread (snapshots, tests)."""
        self._run()

    def close(self) -> None:
        """Stop: cancel the pending flush, ignore later pokes. Idempotent, from any thread (the timer is cancelled
        on the loop's)."""
        with self._lock:
            self._closed = True
            self._dirty = False
            timer, self._timer = self._timer, None
        if timer is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            timer.cancel()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop runs no timer
            self._loop.call_soon_threadsafe(timer.cancel)

    def _arm(self) -> None:
        with self._lock:
            if self._closed or self._timer is not None:
                return
            when = max(self._loop.time(), self._last + self._interval)
            if self._phase is not None:
                when = self._phase + math.ceil((when - self._phase) / FRAME - 1e-6) * FRAME
            self._timer = self._loop.call_at(when, self._run, when)

    def _run(self, slot: float | None = None) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._scheduled = False
            if self._closed or not self._dirty:
                return
            self._dirty = False
            # aligned: the next interval counts from the frame due (a late timer must not skip a frame)
            self._last = slot if slot is not None and self._phase is not None else self._loop.time()
        self.flushes += 1
        try:
            self._flush()
        except Exception:
            log.exception("live panel update failed")
