"""``LatencyService``: how fast each region's server answers, measured as the connect time of a probe socket.

The SDK opens a short-lived extra socket to a region's instance-0 host with only ``auth-token`` and
``protocol=3`` (no client id), times the Socket.IO connect and disconnects (protocol §4.2); it repeats this
every 15 minutes per known region and prefers the fastest region for accounts with replicas (protocol §8).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import socketio

from ...errors import NotConnectedException, TimeoutException
from ...socketio_compat import disable_client_sigint_handler
from .. import checks
from ..rest.context import ClientContext
from .latency_monitor import LatencyMonitor
from .reservoir import Clock

log = logging.getLogger("mtdata.client")

#: How long a region's measurement stays current (protocol §4.2: every 15 minutes).
REFRESH_SECONDS = 900.0


async def socket_url(context: ClientContext, region: str, instance_number: int = 0) -> str:
    """The socket base URL of ``region`` / ``instance_number`` (protocol §1.2), or the ``url`` option when set."""
    return await context.hosts.websocket(region, instance_number, context.options.use_shared_client_api)


class LatencyService:
    """Probe-connect latencies per region (milliseconds) and the fastest region.

    ``latency_monitor`` (optional) backs :meth:`get_trade_latencies` and :meth:`get_market_data_latencies`;
    ``clock`` (seconds) is a seam for tests. No task runs in the background: callers await measurements.
    """

    def __init__(
        self, context: ClientContext, latency_monitor: LatencyMonitor | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self._context = context
        self._monitor = latency_monitor
        self._clock = clock
        self._latencies: dict[str, tuple[float, float]] = {}  # region -> (milliseconds, clock time measured)
        self._locks: dict[str, asyncio.Lock] = {}

    async def measure(self, region: str) -> float:
        """Open a probe socket to ``region``'s instance-0 host, time the connect, close it; returns milliseconds.

        Raises NotConnectedException when the server refuses or cannot be reached, TimeoutException after
        ``connectTimeout``.
        """
        checks.text("region", region)
        base = await socket_url(self._context, region)
        url = f"{base}?auth-token={quote(self._context.token, safe='.-_~')}&protocol=3"
        timeout = self._context.options.connect_timeout
        disable_client_sigint_handler()
        sio = socketio.AsyncClient(reconnection=False)
        connected = asyncio.Event()
        sio.on("connect", connected.set)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await asyncio.wait_for(sio.connect(url, socketio_path="ws"), timeout)
            await asyncio.wait_for(connected.wait(), timeout)
        except TimeoutError:
            raise TimeoutException(f"latency probe of region {region} did not connect in {timeout} s") from None
        except socketio.exceptions.ConnectionError as error:
            raise NotConnectedException(f"latency probe of region {region} failed: {error}") from None
        finally:
            elapsed = (loop.time() - started) * 1000
            await _close(sio)
        self._latencies[region] = (elapsed, self._clock())
        log.debug("latency probe of region %s: %.1f ms", region, elapsed)
        return elapsed

    async def ensure_measured(self, region: str, max_age: float = REFRESH_SECONDS) -> float:
        """The region's latency, measured again when older than ``max_age`` seconds (concurrent callers share one)."""
        checks.text("region", region)
        lock = self._locks.setdefault(region, asyncio.Lock())
        async with lock:
            known = self._latencies.get(region)
            if known is not None and self._clock() - known[1] < max_age:
                return known[0]
            return await self.measure(region)

    def latency(self, region: str) -> float | None:
        """The latest measurement of ``region`` in milliseconds (None if never measured)."""
        known = self._latencies.get(region)
        return None if known is None else known[0]

    def get_latencies(self) -> dict[str, float]:
        """``{region: milliseconds}`` of every region measured so far."""
        return {region: value for region, (value, _) in self._latencies.items()}

    def fastest_region(self, regions: Iterable[str] | None = None) -> str | None:
        """The measured region (among ``regions`` if given) with the lowest latency, or None."""
        latencies = self.get_latencies()
        candidates = latencies if regions is None else {r: latencies[r] for r in regions if r in latencies}
        return min(candidates, key=candidates.__getitem__, default=None)

    def get_trade_latencies(self) -> dict[str, Any]:
        """Trade latencies of the latency monitor (``{}`` without one)."""
        return self._monitor.trade_latencies() if self._monitor is not None else {}

    def get_market_data_latencies(self) -> dict[str, Any]:
        """Price streaming latencies of the latency monitor (``{}`` without one)."""
        return self._monitor.price_latencies() if self._monitor is not None else {}


async def _close(sio: socketio.AsyncClient) -> None:
    """Disconnect the probe and close its aiohttp session (engineio only schedules that)."""
    try:
        await sio.disconnect()
    except Exception:
        log.debug("latency probe disconnect failed", exc_info=True)
    http = sio.eio.http
    if http is not None and not http.closed:
        await http.close()
