"""Synchronization packets turned into listener calls (protocol §7.1-§7.5), per account, in order.

:class:`PacketProcessor` owns the stream state of one client: which accounts are tracked, which streams
are connected (``authenticated`` seen and not lost) and their status timers; it takes the packets in,
orders them, and handles the lifecycle packets (``authenticated``, ``disconnected``, ``status``,
``downgradeSubscription``). What synchronization, ``update`` and ``prices`` packets mean to the listeners
is its base, :class:`~.packet_events.PacketEvents`.

Packets with a ``sequenceNumber`` go through the orderer and then one account queue, drained
by whichever socket task found it idle (no task per packet); packets without one are processed
at once in the socket's own message task, as the SDK does. Listener dispatch only calls methods
a listener actually overrides, so a no-op event costs nothing on the price path.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ..dates import convert_dates
from ..listeners import LatencyListener
from .ordering import PacketOrderer, StreamKey
from .packet_events import Packet, PacketEvents
from .price_dates import convert_market_data
from .subscriptions import SubscriptionManager, Timers
from .throttle import SynchronizationThrottler

log = logging.getLogger("mtdata.client.transport.packets")

#: Packet types processed for accounts that are not subscribed (protocol §7.2).
UNSUBSCRIBED_TYPES = frozenset({"disconnected", "status", "keepalive"})


class PacketProcessor(PacketEvents):
    """Stream state and listener dispatch of one client (see the module docstring)."""

    def __init__(
        self,
        subscriptions: SubscriptionManager,
        timers: Timers,
        packet_ordering_timeout: float,
        session_of: Callable[[str, int], str | None],
        throttler: SynchronizationThrottler,
        latency_listener: LatencyListener | None = None,
    ) -> None:
        super().__init__(throttler, latency_listener)
        self._subscriptions = subscriptions
        self._timers = timers
        self._session_of = session_of
        self.orderer = PacketOrderer(self._on_out_of_order, packet_ordering_timeout)
        self._accounts: dict[str, tuple[str, tuple[int, ...]]] = {}  # account -> (region, instance numbers)
        self._indexes: dict[StreamKey, str] = {}
        self.connected: dict[str, dict[str, int]] = {}  # account -> {instance_index: instance number}
        self._changed: dict[str, asyncio.Future[None]] = {}
        self._authenticated_once: set[StreamKey] = set()
        self._status_timers: dict[StreamKey, asyncio.TimerHandle] = {}
        self._queues: dict[str, deque[Packet]] = {}
        self._draining: dict[str, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._by_type: dict[str, Callable[[Packet, StreamKey, str], Awaitable[None]]] = {
            "authenticated": self._authenticated,
            "disconnected": self._disconnected,
            "status": self._status,
            "synchronizationStarted": self._synchronization_started,
            "accountInformation": self._account_information,
            "specifications": self._specifications,
            "positions": self._positions,
            "orders": self._orders,
            "historyOrders": self._history_orders,
            "orderSynchronizationFinished": self._order_synchronization_finished,
            "deals": self._deals,
            "dealSynchronizationFinished": self._deal_synchronization_finished,
            "update": self._update,
            "prices": self._prices,
            "downgradeSubscription": self._downgrade,
        }

    # -- accounts and listeners -------------------------------------------------------------------

    def track(self, account_id: str, region: str, instance_numbers: tuple[int, ...]) -> None:
        """Accept packets of an account (it is being subscribed in ``region`` on these instances)."""
        self._accounts[account_id] = (region, instance_numbers)

    def tracked(self, account_id: str) -> tuple[str, tuple[int, ...]] | None:
        """``(region, instance numbers)`` of a subscribed account, or None."""
        return self._accounts.get(account_id)

    def untrack(self, account_id: str) -> None:
        """Forget an account's streams (it was unsubscribed); its later packets are dropped."""
        tracked = self._accounts.pop(account_id, None)
        for instance_number in tracked[1] if tracked else ():
            self.orderer.reset_accounts({account_id}, instance_number)
        self.connected.pop(account_id, None)
        self._notify(account_id)
        for key in [k for k in self._status_timers if k[0] == account_id]:
            self._status_timers.pop(key).cancel()
        for table in (self._sync_of_stream, self._current_sync, self._update_buffers, self._indexes):
            for key in [k for k in table if k[0] == account_id]:
                table.pop(key, None)
        self._authenticated_once = {k for k in self._authenticated_once if k[0] != account_id}
        self._queues.pop(account_id, None)

    # -- connection state ----------------------------------------------------------------------

    def changed(self, account_id: str) -> asyncio.Future[None]:
        """A future resolved the next time the account's connected streams change (or it is unsubscribed)."""
        future = self._changed.get(account_id)
        if future is None:
            future = self._changed[account_id] = asyncio.get_running_loop().create_future()
        return future

    def _notify(self, account_id: str) -> None:
        future = self._changed.pop(account_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _set_connected(self, account_id: str, instance_index: str, instance_number: int, up: bool) -> bool:
        hosts = self.connected.setdefault(account_id, {})
        changed = (instance_index in hosts) != up
        if up:
            hosts[instance_index] = instance_number
        else:
            hosts.pop(instance_index, None)
        if changed:
            self._notify(account_id)
        return changed

    def _reset_status_timer(self, key: StreamKey, instance_index: str) -> None:
        timer = self._status_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._status_timers[key] = loop.call_later(self._timers.status_timeout, self._status_silence, key,
                                                   instance_index)  # fmt: skip

    def _status_silence(self, key: StreamKey, instance_index: str) -> None:
        self._status_timers.pop(key, None)
        log.warning("no status from %s for %.0f s: treated as disconnected", instance_index,
                    self._timers.status_timeout)  # fmt: skip

        async def lost() -> None:
            await self._stream_lost(key, instance_index)
            if key[0] in self._accounts:
                self._subscriptions.schedule_subscribe(key[0], key[1], retry_mode=True)

        self.spawn(lost())

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run a coroutine as a task this processor cancels on close."""
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stream_lost(self, key: StreamKey, instance_index: str) -> None:
        account_id = key[0]
        self._end_synchronization(key, self._sync_of_stream.get(key))
        self._current_sync.pop(key, None)
        self._update_buffers.pop(key, None)
        self.orderer.reset_stream(key)
        if self._set_connected(account_id, instance_index, key[1], False):
            others = [i for i, n in self.connected.get(account_id, {}).items() if n == key[1]]
            if not others:
                await self.emit(account_id, "on_disconnected", instance_index)
            await self.emit(account_id, "on_stream_closed", instance_index)

    async def socket_lost(self, account_id: str, instance_number: int) -> None:
        """The socket of an account's instance dropped: every stream of that instance is lost."""
        for key in [k for k in self._status_timers if k[0] == account_id and k[1] == instance_number]:
            self._status_timers.pop(key).cancel()
        hosts = [i for i, n in self.connected.get(account_id, {}).items() if n == instance_number]
        for instance_index in hosts:
            host = instance_index.split(":", 2)[2]
            await self._stream_lost((account_id, instance_number, host), instance_index)
        self.orderer.reset_accounts({account_id}, instance_number)
        for key in [k for k in self._sync_of_stream if k[0] == account_id and k[1] == instance_number]:
            self._end_synchronization(key, self._sync_of_stream.get(key))

    def _on_out_of_order(
        self, account_id: str, instance_number: int, expected: int, actual: int, packet: Packet
    ) -> None:
        log.warning("packet %s of %s:%s waited for %s longer than the ordering timeout: resubscribing",
                    actual, account_id, instance_number, expected)  # fmt: skip
        if account_id in self._accounts:
            self._subscriptions.cancel_subscribe(account_id, instance_number)
            self._subscriptions.schedule_subscribe(account_id, instance_number)

    # -- packet intake -------------------------------------------------------------------------

    async def receive(self, packet: Packet) -> None:
        """Take one packet of a subscribed account (or of a type every account accepts) from a socket."""
        if packet.get("type") == "prices":
            convert_market_data(packet)
        else:
            convert_dates(packet)
        if "sequenceNumber" not in packet:
            await self._run(packet)
            return
        released = self.orderer.restore_order(packet)
        if not released:
            return
        account_id = packet.get("accountId", "")
        queue = self._queues.get(account_id)
        if queue is None:
            queue = self._queues[account_id] = deque()
        queue.extend(released)
        if account_id in self._draining:
            return  # the task draining this account will get to them, in order
        task = asyncio.current_task()
        assert task is not None
        self._draining[account_id] = task
        try:
            while queue:
                await self.process(queue.popleft())
        finally:
            del self._draining[account_id]

    async def _run(self, packet: Packet) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.process(packet)
        finally:
            self._tasks.discard(task)

    async def process(self, packet: Packet) -> None:
        """Turn one released packet into listener calls (errors are logged, never raised)."""
        handler = self._by_type.get(packet.get("type", ""))
        if handler is None:
            return
        account_id = packet.get("accountId", "")
        sync_id = packet.get("synchronizationId")
        if sync_id:
            if sync_id not in self._active_syncs:
                return  # a packet of a superseded or finished synchronization: consumed, not applied
            self._throttler.touch(sync_id)
        key = (account_id, packet.get("instanceIndex") or 0, packet.get("host", "0"))
        instance_index = self._indexes.get(key)
        if instance_index is None:
            tracked = self._accounts.get(account_id)
            if tracked is None:
                return
            instance_index = self._indexes[key] = f"{tracked[0]}:{key[1]}:{key[2]}"
        try:
            await handler(packet, key, instance_index)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("processing a %s packet of %s failed", packet.get("type"), account_id)

    # -- lifecycle packets ---------------------------------------------------------------------

    async def _authenticated(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        account_id, instance_number = key[0], key[1]
        self._reset_status_timer(key, instance_index)
        session_id = packet.get("sessionId")
        if session_id is not None and session_id != self._session_of(account_id, instance_number):
            return
        self._authenticated_once.add(key)
        self._set_connected(account_id, instance_index, instance_number, True)
        replicas = packet.get("replicas", 1)
        if replicas == 1:
            self._subscriptions.cancel_account(account_id)
        else:
            self._subscriptions.cancel_subscribe(account_id, instance_number)
        await self.emit(account_id, "on_connected", instance_index, replicas)

    async def _disconnected(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        timer = self._status_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        await self._stream_lost(key, instance_index)
        tracked = self._accounts.get(key[0])
        if tracked is not None:
            self._subscriptions.resubscribe_later(key[0], tracked[1], self._timers.disconnected_resubscribe, True)

    async def _status(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        account_id, instance_number = key[0], key[1]
        if instance_index not in self.connected.get(account_id, {}):
            subs = self._subscriptions
            if (
                key in self._authenticated_once
                and packet.get("authenticated")
                and (subs.is_disconnected_retry_mode(*key[:2]) or not subs.is_subscribing(*key[:2]))
            ):
                subs.cancel_subscribe(account_id, instance_number)
                subs.schedule_subscribe(account_id, instance_number)
            return
        self._reset_status_timer(key, instance_index)
        await self.emit(
            account_id, "on_broker_connection_status_changed", instance_index, bool(packet.get("connected"))
        )
        if packet.get("healthStatus"):
            await self.emit(account_id, "on_health_status", instance_index, packet["healthStatus"])

    async def _downgrade(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        await self.emit(key[0], "on_subscription_downgraded", instance_index, packet.get("symbol"),
                        packet.get("updates"), packet.get("unsubscriptions"))  # fmt: skip

    # -- shutdown --------------------------------------------------------------------------------

    async def close(self) -> None:
        """Cancel status timers, ordering checks and every task still processing packets (but the caller's)."""
        for timer in self._status_timers.values():
            timer.cancel()
        self._status_timers.clear()
        self.orderer.close()
        for account_id in list(self._changed):
            self._notify(account_id)
        current = asyncio.current_task()
        tasks = [t for t in {*self._tasks, *self._draining.values()} if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._queues.clear()
