"""Synchronization packets turned into listener calls (protocol §7.1-§7.5), per account, in order.

:class:`PacketProcessor` owns the stream state of one client: which streams are connected
(``authenticated`` seen and not lost), their status timers, the active synchronization ids
(a packet of an inactive one is a no-op), the ``update`` packets buffered during a
synchronization (replayed after ``dealSynchronizationFinished``) and the listeners.

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
from datetime import UTC, datetime
from typing import Any

from ..dates import convert_dates
from ..listeners import LatencyListener
from .listener_table import ListenerTable
from .ordering import PacketOrderer, StreamKey
from .price_dates import convert_market_data
from .subscriptions import SubscriptionManager, Timers
from .throttle import SynchronizationThrottler

log = logging.getLogger("mtdata.client.transport.packets")

Packet = dict[str, Any]

#: Packet types processed for accounts that are not subscribed (protocol §7.2).
UNSUBSCRIBED_TYPES = frozenset({"disconnected", "status", "keepalive"})


class PacketProcessor:
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
        self._subscriptions = subscriptions
        self._timers = timers
        self._session_of = session_of
        self._throttler = throttler
        self.latency_listener = latency_listener
        self.orderer = PacketOrderer(self._on_out_of_order, packet_ordering_timeout)
        self._accounts: dict[str, tuple[str, tuple[int, ...]]] = {}  # account -> (region, instance numbers)
        self.listeners = ListenerTable()
        self.emit = self.listeners.emit
        self._indexes: dict[StreamKey, str] = {}
        self.connected: dict[str, dict[str, int]] = {}  # account -> {instance_index: instance number}
        self._changed: dict[str, asyncio.Future[None]] = {}
        self._authenticated_once: set[StreamKey] = set()
        self._status_timers: dict[StreamKey, asyncio.TimerHandle] = {}
        self._active_syncs: dict[str, dict[str, Any]] = {}  # sync id -> the synchronize request
        self._sync_of_stream: dict[StreamKey, str] = {}  # newest synchronize sent per stream
        self._current_sync: dict[StreamKey, str] = {}  # sync id announced by synchronizationStarted
        self._sync_flags: dict[str, dict[str, bool]] = {}
        self._update_buffers: dict[StreamKey, list[Packet]] = {}
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

    def supersede(self, account_id: str, instance_number: int, host: str | None) -> None:
        """A new ``synchronize`` of the stream is coming: its previous synchronization ends (and frees its slot)."""
        key = (account_id, instance_number, host or "0")
        self._end_synchronization(key, self._sync_of_stream.get(key))

    def start_synchronization(self, account_id: str, instance_number: int, host: str | None, request: Packet) -> None:
        """Record a ``synchronize`` about to be sent: its id becomes active and supersedes the stream's previous one."""
        self.supersede(account_id, instance_number, host)
        self._sync_of_stream[(account_id, instance_number, host or "0")] = request["requestId"]
        self._active_syncs[request["requestId"]] = request

    def _end_synchronization(self, key: StreamKey, sync_id: str | None) -> None:
        if sync_id is not None:
            self._throttler.release(sync_id)
            self._active_syncs.pop(sync_id, None)
            self._sync_flags.pop(sync_id, None)
            if self._sync_of_stream.get(key) == sync_id:
                del self._sync_of_stream[key]

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

    def _stale(self, packet: Packet, key: StreamKey) -> bool:
        sync_id = packet.get("synchronizationId")
        return bool(sync_id) and sync_id != self._current_sync.get(key)

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

    # -- synchronization packets (§7.4) ----------------------------------------------------------

    async def _synchronization_started(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        sync_id = packet.get("synchronizationId")
        if not sync_id:
            return
        self._update_buffers[key] = []
        indexes = {kind: packet.get(f"{kind}HashIndex") for kind in ("specifications", "positions", "orders")}
        self._sync_flags[sync_id] = {"positionsUpdated": indexes["positions"] is None,
                                     "ordersUpdated": indexes["orders"] is None}  # fmt: skip
        self._current_sync[key] = sync_id
        request = self._active_syncs.get(sync_id) or {}
        hashes = []
        for kind, index in indexes.items():
            offered = request.get(f"{kind}Hashes") or []
            hashes.append(offered[index] if isinstance(index, int) and 0 <= index < len(offered) else None)
        await self.emit(key[0], "on_synchronization_started", instance_index, *hashes, sync_id)

    async def _account_information(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        info = packet.get("accountInformation")
        sync_id = packet.get("synchronizationId")
        flags = self._sync_flags.get(sync_id) if sync_id else None
        if info:
            await self.emit(key[0], "on_account_information_updated", instance_index, info)
            if flags and not flags["positionsUpdated"]:
                await self.emit(key[0], "on_positions_synchronized", instance_index, sync_id)
                if not flags["ordersUpdated"]:
                    await self.emit(key[0], "on_pending_orders_synchronized", instance_index, sync_id)
        if flags and not flags["positionsUpdated"] and not flags["ordersUpdated"]:
            self._sync_flags.pop(sync_id, None)  # type: ignore[arg-type]

    async def _specifications(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        account_id = key[0]
        specifications = packet.get("specifications") or []
        removed = packet.get("removedSymbols") or []
        await self.emit(account_id, "on_symbol_specifications_updated", instance_index, specifications, removed)
        for specification in specifications:
            await self.emit(account_id, "on_symbol_specification_updated", instance_index, specification)
        for symbol in removed:
            await self.emit(account_id, "on_symbol_specification_removed", instance_index, symbol)

    async def _positions(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        sync_id = packet.get("synchronizationId")
        await self.emit(key[0], "on_positions_replaced", instance_index, packet.get("positions") or [])
        await self.emit(key[0], "on_positions_synchronized", instance_index, sync_id)
        flags = self._sync_flags.get(sync_id) if sync_id else None
        if not flags or not flags["ordersUpdated"]:
            await self.emit(key[0], "on_pending_orders_synchronized", instance_index, sync_id)
            self._sync_flags.pop(sync_id, None)  # type: ignore[arg-type]

    async def _orders(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        sync_id = packet.get("synchronizationId")
        await self.emit(key[0], "on_pending_orders_replaced", instance_index, packet.get("orders") or [])
        await self.emit(key[0], "on_pending_orders_synchronized", instance_index, sync_id)
        self._sync_flags.pop(sync_id, None)  # type: ignore[arg-type]

    async def _history_orders(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        for order in packet.get("historyOrders") or []:
            await self.emit(key[0], "on_history_order_added", instance_index, order)

    async def _order_synchronization_finished(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        await self.emit(key[0], "on_history_orders_synchronized", instance_index, packet.get("synchronizationId"))

    async def _deals(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        if self._stale(packet, key):
            return
        for deal in packet.get("deals") or []:
            await self.emit(key[0], "on_deal_added", instance_index, deal)

    async def _deal_synchronization_finished(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        sync_id = packet.get("synchronizationId")
        if self._stale(packet, key):
            self._current_sync.pop(key, None)  # a stale id clears the stream's mapping (§7.4)
            return
        self._end_synchronization(key, sync_id)
        await self.emit(key[0], "on_deals_synchronized", instance_index, sync_id)
        for update in self._update_buffers.pop(key, None) or []:
            await self._apply_update(update, key, instance_index, replay=True)

    # -- real-time packets (§7.5) ----------------------------------------------------------------

    async def _update(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        buffer = self._update_buffers.get(key)
        if buffer is not None:
            buffer.append(packet)
        await self._apply_update(packet, key, instance_index, replay=False)

    async def _apply_update(self, packet: Packet, key: StreamKey, instance_index: str, replay: bool) -> None:
        account_id, emit = key[0], self.emit
        if packet.get("accountInformation"):
            await emit(account_id, "on_account_information_updated", instance_index, packet["accountInformation"])
        positions = packet.get("updatedPositions") or []
        removed = packet.get("removedPositionIds") or []
        await emit(account_id, "on_positions_updated", instance_index, positions, removed)
        for position in positions:
            await emit(account_id, "on_position_updated", instance_index, position)
        for position_id in removed:
            await emit(account_id, "on_position_removed", instance_index, position_id)
        orders = packet.get("updatedOrders") or []
        completed = packet.get("completedOrderIds") or []
        if orders or completed:
            await emit(account_id, "on_pending_orders_updated", instance_index, orders, completed)
        for order in orders:
            await emit(account_id, "on_pending_order_updated", instance_index, order)
        for order_id in completed:
            await emit(account_id, "on_pending_order_completed", instance_index, order_id)
        for order in packet.get("historyOrders") or []:
            await emit(account_id, "on_history_order_added", instance_index, order)
        for deal in packet.get("deals") or []:
            await emit(account_id, "on_deal_added", instance_index, deal)
        timestamps = packet.get("timestamps")
        if timestamps and not replay and self.latency_listener is not None:
            timestamps["clientProcessingFinished"] = datetime.now(UTC)
            await self._latency(self.latency_listener.on_update(account_id, timestamps))

    async def _prices(self, packet: Packet, key: StreamKey, instance_index: str) -> None:
        sync_id = packet.get("synchronizationId")
        if sync_id and sync_id != self._current_sync.get(key):
            return
        account_id = key[0]
        handlers = self.listeners.handlers(account_id)
        prices = packet.get("prices") or ()
        if handlers:
            get = packet.get
            figures = (get("equity"), get("margin"), get("freeMargin"), get("marginLevel"),
                       get("accountCurrencyExchangeRate"))  # fmt: skip
            for field, event in (("prices", "on_symbol_prices_updated"), ("candles", "on_candles_updated"),
                                 ("ticks", "on_ticks_updated"), ("books", "on_books_updated")):  # fmt: skip
                items = get(field)
                if items and handlers[event]:
                    await self.emit(account_id, event, instance_index, items, *figures)
            if handlers["on_symbol_price_updated"]:
                for price in prices:
                    await self.emit(account_id, "on_symbol_price_updated", instance_index, price)
        latency = self.latency_listener
        if latency is not None:
            now = datetime.now(UTC)
            for price in prices:
                timestamps = price.get("timestamps")
                if timestamps:
                    timestamps["clientProcessingFinished"] = now
                    await self._latency(latency.on_symbol_price(account_id, price.get("symbol"), timestamps))

    @staticmethod
    async def _latency(call: Awaitable[None]) -> None:
        try:
            await call
        except Exception:
            log.exception("latency listener failed")

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
