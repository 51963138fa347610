"""Health of a streaming connection (protocol §8): API and broker connection, synchronization, quote streaming, uptime.

:class:`ConnectionHealthMonitor` is a synchronization listener of the streaming connection. What it
reads from the connection: ``terminal_state.connected``, ``terminal_state.connected_to_broker``,
``terminal_state.specification(symbol)`` (for ``quoteSessions``), ``subscribed_symbols()`` and
``synchronized``. It starts no task until :meth:`~ConnectionHealthMonitor.start`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import market_sessions
from ..listeners import SynchronizationListener
from ..models import ConnectionHealthStatus, HealthStatus, MetatraderSymbolPrice
from .reservoir import Clock, Reservoir

log = logging.getLogger("mtdata.client")

#: Uptime window -> (buckets, length in milliseconds).
UPTIME_WINDOWS = {"5m": (300, 300_000), "1h": (600, 3_600_000), "1d": (1440, 86_400_000), "1w": (168, 604_800_000)}
#: Quotes are healthy while the last price is younger than this (seconds), inside a quote session.
MIN_QUOTE_INTERVAL = 60.0
_HEALTHY = "Connection to broker is stable. No health issues detected."


class ConnectionUptime:
    """Uptime as the average of samples (100 = healthy, 0 = not) over 5m / 1h / 1d / 1w windows."""

    def __init__(self, is_healthy: Callable[[], bool], *, clock: Clock = time.monotonic) -> None:
        self._is_healthy = is_healthy
        self._reservoirs = {name: Reservoir(size, span, clock=clock) for name, (size, span) in UPTIME_WINDOWS.items()}

    def measure_uptime(self) -> None:
        """Take one sample of ``is_healthy()`` into every window."""
        value = 100 if self._is_healthy() else 0
        for reservoir in self._reservoirs.values():
            reservoir.push_measurement(value)

    def get_statistics(self) -> dict[str, float | None]:
        """``{"5m", "1h", "1d", "1w"}`` uptime percentages (None for a window with no sample yet)."""
        return {name: reservoir.get_statistics()["average"] for name, reservoir in self._reservoirs.items()}


class _Stopped:
    """What :meth:`ConnectionHealthMonitor.stop` returns: awaiting it waits for the cancelled task to end."""

    def __init__(self, task: asyncio.Task[None] | None) -> None:
        self._task = task

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None:
            yield from asyncio.wait([self._task]).__await__()  # (a cancellation of the caller still propagates)


class ConnectionHealthMonitor(SynchronizationListener):
    """Tracks a streaming connection's health; :attr:`~ConnectionHealthMonitor.health_status`,
    :attr:`~ConnectionHealthMonitor.uptime`, :attr:`~ConnectionHealthMonitor.server_health_status`.

    ``clock`` (epoch seconds; the broker clock is estimated against it), ``sample_interval`` (seconds
    until the next uptime sample, default random 1-60 s) and ``tick`` (seconds between quote-health
    checks) are seams for tests.
    """

    def __init__(
        self,
        connection: Any,
        *,
        clock: Clock = time.time,
        sample_interval: Callable[[], float] = lambda: random.uniform(1, 60),
        tick: float = 1.0,
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._sample_interval = sample_interval
        self._tick = tick
        self._uptime = ConnectionUptime(self._is_healthy, clock=clock)
        self._server_status: dict[str, dict[str, Any]] = {}
        self._price_at: float | None = None  # clock time of the last price (or of the start of waiting for one)
        self._broker_time: tuple[str, float] | None = None  # the last price's brokerTime, and when it came
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---

    def start(self) -> None:
        """Start sampling uptime (and following quote health) in a task of the running loop; idempotent."""
        if self._task is None or self._task.done():
            self._note_subscriptions()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mtdata-health-monitor")

    def stop(self) -> _Stopped:
        """Cancel the sampling task now (synchronous, as in the seed); idempotent. Await the result to wait
        until the task has ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return _Stopped(task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sample = loop.time() + self._sample_interval()
        while True:
            await asyncio.sleep(max(0.0, min(self._tick, next_sample - loop.time())))
            try:
                self._note_subscriptions()
                if loop.time() >= next_sample:
                    self._uptime.measure_uptime()
                    next_sample = loop.time() + self._sample_interval()
            except Exception:  # a broken connection object must not end the monitor
                log.exception("health monitor: uptime sample failed")

    # --- synchronization listener ---

    async def on_symbol_price_updated(self, instance_index: str, price: MetatraderSymbolPrice) -> None:
        """A price arrived: quotes are flowing; its ``brokerTime`` anchors the broker clock."""
        now = self._price_at = self._clock()
        broker_time = price.get("brokerTime")
        if broker_time:
            self._broker_time = (broker_time, now)

    async def on_health_status(self, instance_index: str, status: HealthStatus) -> None:
        """Remember the server's ``healthStatus`` of this stream."""
        self._server_status[instance_index] = status

    async def on_disconnected(self, instance_index: str) -> None:
        """Forget the lost stream's ``healthStatus``."""
        self._server_status.pop(instance_index, None)

    # --- reports ---

    @property
    def server_health_status(self) -> dict[str, Any]:
        """The latest ``healthStatus`` of the connected streams, merged (a flag is true if any stream says so)."""
        merged: dict[str, Any] = {}
        for status in self._server_status.values():
            for key, value in status.items():
                merged[key] = merged.get(key) or value
        return merged

    @property
    def health_status(self) -> ConnectionHealthStatus:
        """``{connected, connectedToBroker, quoteStreamingHealthy, synchronized, healthy, message}``."""
        terminal = self._connection.terminal_state
        status: dict[str, Any] = {
            "connected": bool(terminal.connected),
            "connectedToBroker": bool(terminal.connected_to_broker),
            "quoteStreamingHealthy": bool(terminal.connected) and self._quotes_healthy(),
            "synchronized": bool(self._connection.synchronized),
        }
        problems = [text for key, text in _PROBLEMS if not status[key]]
        status["healthy"] = not problems
        status["message"] = f"Connection is not healthy because {' and '.join(problems)}." if problems else _HEALTHY
        return status

    @property
    def uptime(self) -> dict[str, float | None]:
        """Uptime percentages ``{"5m", "1h", "1d", "1w"}`` (None until the first sample of a window)."""
        return self._uptime.get_statistics()

    # --- quote health ---

    def _is_healthy(self) -> bool:
        return self.health_status["healthy"]

    def _note_subscriptions(self) -> None:
        """With nothing subscribed, the wait for quotes starts afresh (a new subscription gets its 60 s)."""
        if self._price_at is None or not self._connection.subscribed_symbols():
            self._price_at = self._clock()

    def _quotes_healthy(self) -> bool:
        """No symbol subscribed, or a price less than 60 s ago, or the broker clock outside every quote session."""
        symbols = self._connection.subscribed_symbols()
        if not symbols:
            return True
        now = self._clock()
        if self._price_at is None:
            self._price_at = now
        if now - self._price_at < MIN_QUOTE_INTERVAL:
            return True
        broker_now = self._broker_now(now)
        terminal = self._connection.terminal_state
        return not any(market_sessions.is_open(terminal.specification(symbol), broker_now) for symbol in symbols)

    def _broker_now(self, now: float) -> datetime:
        """The broker's wall clock: the last price's ``brokerTime`` moved on by the time since (UTC if unknown)."""
        if self._broker_time is not None:
            broker_time, at = self._broker_time
            try:
                return datetime.fromisoformat(broker_time) + timedelta(seconds=now - at)
            except (TypeError, ValueError):
                log.debug("health monitor: unparsable brokerTime %r", broker_time)
        return datetime.fromtimestamp(now, UTC).replace(tzinfo=None)


_PROBLEMS = (
    ("connected", "connection to API server is not established or lost"),
    ("connectedToBroker", "connection to broker is not established or lost"),
    ("synchronized", "local terminal state is not synchronized to broker"),
    ("quoteStreamingHealthy", "quotes are not streamed from the broker properly"),
)
