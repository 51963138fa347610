"""What an account's synchronization and real-time packets mean to its listeners (protocol §7.4, §7.5).

:class:`PacketEvents`, the base of :class:`~.packets.PacketProcessor`, keeps each stream's synchronization: the
active ids (a packet of an inactive one is a no-op), the flags of its phases and the ``update`` packets buffered
until its deals are in (then replayed); it turns every synchronization, ``update`` and ``prices`` packet into
listener calls, and feeds update and price timestamps to the latency listener.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from ..listeners import LatencyListener
from .listener_table import ListenerTable
from .ordering import StreamKey
from .throttle import SynchronizationThrottler

log = logging.getLogger("mtdata.client.transport.packets")

Packet = dict[str, Any]


class PacketEvents:
    """Synchronizations of the streams and the listener calls of their packets (see the module docstring)."""

    def __init__(self, throttler: SynchronizationThrottler, latency_listener: LatencyListener | None) -> None:
        self._throttler = throttler
        self.latency_listener = latency_listener
        self.listeners = ListenerTable()
        self.emit = self.listeners.emit
        self._active_syncs: dict[str, dict[str, Any]] = {}  # sync id -> the synchronize request
        self._sync_of_stream: dict[StreamKey, str] = {}  # newest synchronize sent per stream
        self._current_sync: dict[StreamKey, str] = {}  # sync id announced by synchronizationStarted
        self._sync_flags: dict[str, dict[str, bool]] = {}
        self._update_buffers: dict[StreamKey, list[Packet]] = {}

    # -- synchronizations ------------------------------------------------------------------------

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

    def _stale(self, packet: Packet, key: StreamKey) -> bool:
        sync_id = packet.get("synchronizationId")
        return bool(sync_id) and sync_id != self._current_sync.get(key)

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
