"""The streaming connection's synchronization logic (protocol §7.3, §7.4, §11.1): synchronize, track, wait.

On every ``on_connected`` (an ``authenticated`` stream) the :class:`Synchronizer` refreshes the hashing
ignored-field lists of the region, then sends ``synchronize`` (version 2) with the starting times of the
history storage and the collection hashes of the terminal state; a failed request is retried after 1, 2,
4 … 300 s, and a synchronization that makes no progress for 2 minutes is started again. It records the
latest synchronization id of each stream and which ids finished their history orders and deals, so
``wait_synchronized`` can wait on events (never polling the wire) and fail at once when the connection
closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...errors import NotConnectedException, TimeoutException
from ...hashing import iso_ms
from ..listeners import ReconnectListener, Record, SynchronizationListener

if TYPE_CHECKING:
    from .streaming import StreamingMetaApiConnection

log = logging.getLogger("mtdata.client")

#: The SDK's floor for "no history yet" (epoch second 100000, protocol §5.3).
HISTORY_FLOOR = datetime(1970, 1, 2, 3, 46, 40, tzinfo=UTC)
#: Seconds without synchronization progress before a new ``synchronize`` is sent.
SYNC_WATCHDOG_SECONDS = 120.0
#: Longest delay between two failed ``synchronize`` attempts.
MAX_RETRY_DELAY = 300.0


def random_id(length: int = 32) -> str:
    """A request / synchronization id: ``length`` random lowercase letters (protocol §5.1)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(length))


def parse_instance(instance_index: str) -> tuple[str, int, str]:
    """``"region:number:host"`` as ``(region, number, host)``."""
    region, number, host = instance_index.split(":", 2)
    return region, int(number), host


class StateChanges:
    """A wake-up for waiters of a state that changes in listener callbacks (no polling)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closed = False

    def notify(self) -> None:
        """Wake every waiter (they re-check their condition)."""
        self._event.set()
        self._event = asyncio.Event()

    def close(self) -> None:
        """Wake every waiter for good: they raise ``NotConnectedException``."""
        self.closed = True
        self.notify()

    async def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Return once ``condition()`` holds; ``TimeoutException`` after ``timeout`` s; closed → NotConnected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.closed:
                raise NotConnectedException(f"the connection was closed while waiting for {what}")
            if condition():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutException(f"timed out after {timeout:g} s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):  # (wait_for may lose a cancellation before 3.12)
                    await event.wait()


class Synchronizer(SynchronizationListener, ReconnectListener):
    """Sends ``synchronize`` for each authenticated stream of one connection and tracks its completion."""

    def __init__(self, connection: StreamingMetaApiConnection) -> None:
        self._connection = connection
        self.changes = StateChanges()
        self._connected: dict[str, int] = {}  # instance_index -> replicas
        self._latest: dict[str, str] = {}  # instance_index -> synchronization id last started
        self._orders_done: set[str] = set()
        self._deals_done: set[str] = set()
        self._progress_at: dict[str, float] = {}
        self._sync_tasks: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # state -------------------------------------------------------------------------------------

    def connected_instances(self) -> list[str]:
        """Instance indexes of the authenticated streams."""
        return list(self._connected)

    def is_synchronized(self, instance_number: int | None = None, synchronization_id: str | None = None) -> bool:
        """Whether a stream (of ``instance_number`` if given) finished orders and deals of its latest (or given) id."""
        return self.synchronized_instance(instance_number, synchronization_id) is not None

    def synchronized_instance(
        self, instance_number: int | None = None, synchronization_id: str | None = None
    ) -> str | None:
        """The instance index of a synchronized stream (None when there is none)."""
        for instance_index, latest in self._latest.items():
            if instance_number is not None and parse_instance(instance_index)[1] != instance_number:
                continue
            sync_id = synchronization_id or latest
            if sync_id in self._orders_done and sync_id in self._deals_done:
                return instance_index
        return None

    def latest_synchronization_id(self) -> str | None:
        """The id of the most recent synchronization started on any stream."""
        return next(reversed(self._latest.values()), None)

    # background work ---------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of this connection (cancelled on close; failures logged and reported)."""
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=f"mtdata-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not self.changes.closed:
                log.warning("%s failed: %s", name, error)
                await self._connection.report_error(error)

    async def close(self) -> None:
        """Stop every task and wake every waiter (they raise ``NotConnectedException``)."""
        self.changes.close()
        tasks = [*self._tasks, *self._sync_tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._sync_tasks.clear()

    def _forget(self, instance_index: str) -> None:
        self._connected.pop(instance_index, None)
        self._latest.pop(instance_index, None)
        task = self._sync_tasks.pop(instance_index, None)
        if task is not None:
            task.cancel()
        self.changes.notify()

    def _progress(self, instance_index: str) -> None:
        self._progress_at[instance_index] = asyncio.get_running_loop().time()

    async def _synchronize(self, instance_index: str) -> None:
        """Send ``synchronize`` until one completes (retry with backoff; watchdog on stalled ones)."""
        region, number, host = parse_instance(instance_index)
        delay = 1.0
        while self._current(instance_index):
            conn = self._connection
            try:
                await conn.hash_manager.refresh_ignored_field_lists(region)
                sync_id = random_id()
                await conn.client.request(conn.route.account_id, await self._sync_request(sync_id, number, host),
                                          instance_number=number, retry=False)  # fmt: skip
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("synchronize of %s failed, retrying in %g s: %s", instance_index, delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            delay = 1.0
            self._progress(instance_index)
            if await self._watch(instance_index, sync_id):
                return

    def _current(self, instance_index: str) -> bool:
        """Whether the running task is still the synchronization loop of a connected stream (a superseded
        loop whose cancellation was lost ends by itself)."""
        task = self._sync_tasks.get(instance_index)
        return not self.changes.closed and instance_index in self._connected and task is asyncio.current_task()

    async def _sync_request(self, sync_id: str, number: int, host: str) -> dict[str, Any]:
        conn = self._connection
        history = conn.history_storage
        floor = max(HISTORY_FLOOR, conn.history_start_time or HISTORY_FLOOR)
        orders_from = await history.last_history_order_time(number) or floor
        deals_from = await history.last_deal_time(number) or floor
        return {"requestId": sync_id, "type": "synchronize", "version": 2,
                "startingHistoryOrderTime": iso_ms(max(orders_from, floor)),
                "startingDealTime": iso_ms(max(deals_from, floor)), "host": host,
                **conn.terminal_state.get_hashes()}  # fmt: skip

    async def _watch(self, instance_index: str, sync_id: str) -> bool:
        """Wait for the synchronization to finish; False when it stalled (no progress for the watchdog time)."""
        loop = asyncio.get_running_loop()
        while True:
            idle = loop.time() - self._progress_at.get(instance_index, loop.time())
            try:
                await self.changes.wait_for(
                    lambda: sync_id in self._deals_done or not self._current(instance_index),
                    max(SYNC_WATCHDOG_SECONDS - idle, 0.001), f"synchronization {sync_id}",
                )  # fmt: skip
                return True
            except TimeoutException:
                if loop.time() - self._progress_at.get(instance_index, 0.0) >= SYNC_WATCHDOG_SECONDS:
                    log.warning("synchronization %s of %s stalled; starting a new one", sync_id, instance_index)
                    return False

    # SynchronizationListener -------------------------------------------------------------------

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        self._connected[instance_index] = replicas
        old = self._sync_tasks.pop(instance_index, None)
        if old is not None:
            old.cancel()
        if not self.changes.closed:
            task = asyncio.get_running_loop().create_task(self._synchronize(instance_index), name="mtdata-sync")
            self._sync_tasks[instance_index] = task
        self.changes.notify()

    async def on_disconnected(self, instance_index: str) -> None:
        self._forget(instance_index)

    async def on_stream_closed(self, instance_index: str) -> None:
        self._forget(instance_index)

    async def on_reconnected(self, region: str, instance_number: int) -> None:
        prefix = f"{region}:{instance_number}:"
        for instance_index in [key for key in self._connected if key.startswith(prefix)]:
            self._forget(instance_index)

    async def on_synchronization_started(
        self, instance_index: str, specifications_hash: str | None, positions_hash: str | None,
        orders_hash: str | None, synchronization_id: str,
    ) -> None:  # fmt: skip
        self._latest.pop(instance_index, None)
        self._latest[instance_index] = synchronization_id  # most recent last
        self._progress(instance_index)
        self.changes.notify()
        number = parse_instance(instance_index)[1]
        self.spawn(self._connection.refresh_market_data_subscriptions(number), "refreshMarketDataSubscriptions")

    async def on_history_order_added(self, instance_index: str, history_order: Record) -> None:
        self._progress(instance_index)

    async def on_deal_added(self, instance_index: str, deal: Record) -> None:
        self._progress(instance_index)

    async def on_history_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        self._orders_done.add(synchronization_id)
        self._progress(instance_index)
        self.changes.notify()

    async def on_deals_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        self._deals_done.add(synchronization_id)
        self.changes.notify()

    async def on_subscription_downgraded(
        self, instance_index: str, symbol: str, updates: list[Record] | None, unsubscriptions: list[Record] | None
    ) -> None:
        self.spawn(self._connection.apply_downgrade(symbol, updates, unsubscriptions), "downgradeSubscription")


__all__ = ["HISTORY_FLOOR", "StateChanges", "Synchronizer", "parse_instance", "random_id"]
