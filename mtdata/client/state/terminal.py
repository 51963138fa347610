"""The local copy of a trading terminal (protocol §7.3–§7.5): account information, positions, orders, specs, prices.

:class:`TerminalState` is a synchronization listener of a streaming connection. Each stream (``instance_index``)
builds its own state; a synchronization starts a fresh one and, once its orders phase completes, that state
becomes the combined view the properties show ("the most recently synchronized stream wins"). Until then the
previous combined state stays visible and keeps receiving every stream's updates, so readers never see a
half-synchronized terminal.

Collections are recorded in the :class:`~.hash_manager.TerminalHashManager` under their collection hash
and updated incrementally there, so the next ``synchronize`` can offer them (:meth:`TerminalState.get_hashes`) and
a collection the server reports unchanged is taken back from it. Prices are the hot path: one price costs a dict
lookup plus work on that symbol's positions and orders only (no hashing, no scan of the whole account); the
equity is kept as a running sum of integer cents per position. Callers waiting for prices
(``wait_for_price``, ``refresh_terminal_state``) are kept by :class:`~.price_waits.PriceWaits`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .. import checks
from ..listeners import Record, SynchronizationListener
from ..models import (
    MetatraderAccountInformation,
    MetatraderOrder,
    MetatraderPosition,
    MetatraderSymbolPrice,
    MetatraderSymbolSpecification,
    RefreshTerminalStateOptions,
)
from .hash_manager import Collection, TerminalHashManager
from .price_waits import PriceWaits, RequestClient
from .stream import COLLECTIONS, StreamState

log = logging.getLogger("mtdata.client")

#: How long removed position ids and completed order ids are remembered (later items with them are dropped).
REMOVAL_MEMORY_SECONDS = 24 * 3600.0
_holders = itertools.count(1)


class TerminalState(SynchronizationListener):
    """A live local copy of one account's terminal, fed by its streaming connection's events."""

    def __init__(
        self,
        account_id: str,
        account_type: str | None,
        server: str | None,
        hash_manager: TerminalHashManager,
        client: RequestClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._account_id = account_id
        self._account_type = account_type
        self._server = server or ""
        self._hashes = hash_manager
        self._client = client
        self._clock = clock
        self._id = next(_holders)
        self._streams: dict[str, StreamState] = {}
        self._combined: StreamState | None = None
        self._removed_positions: dict[str, float] = {}
        self._completed_orders: dict[str, float] = {}
        self._waits = PriceWaits()

    # ---- the combined view ---------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True if some stream of the account is connected (an ``authenticated`` was processed)."""
        return any(s.connected for s in self._streams.values())

    @property
    def connected_to_broker(self) -> bool:
        """True if some connected stream reports its terminal connected to the broker."""
        return any(s.connected_to_broker for s in self._streams.values())

    @property
    def account_information(self) -> MetatraderAccountInformation | None:
        """Account information (equity and margins follow the prices), None before the first synchronization."""
        return self._combined.account_information if self._combined else None

    @property
    def positions(self) -> list[MetatraderPosition]:
        """Open positions (live records: current price and profit follow the prices; copy before changing them)."""
        return list(self._combined.positions.values()) if self._combined else []

    @property
    def orders(self) -> list[MetatraderOrder]:
        """Pending orders (current price follows the prices)."""
        return list(self._combined.orders.values()) if self._combined else []

    @property
    def specifications(self) -> list[MetatraderSymbolSpecification]:
        """Symbol specifications."""
        return list(self._combined.specifications.values()) if self._combined else []

    def specification(self, symbol: str) -> MetatraderSymbolSpecification | None:
        """The specification of ``symbol``, None if unknown."""
        return self._combined.specifications.get(symbol) if self._combined else None

    def price(self, symbol: str) -> MetatraderSymbolPrice | None:
        """The newest price of ``symbol``, None if none arrived."""
        if self._combined is not None:
            return self._combined.prices.get(symbol)
        found = [s.prices[symbol] for s in self._streams.values() if symbol in s.prices]
        return max(found, key=lambda p: p["time"]) if found else None

    @property
    def last_quote_time(self) -> dict[str, Any] | None:
        """``{time, brokerTime}`` of the newest price received, None before the first."""
        last = self._combined.last_quote if self._combined else None
        return {"time": last["time"], "brokerTime": last.get("brokerTime")} if last else None

    def get_hashes(self) -> dict[str, list[str]]:
        """The collection hashes to offer in ``synchronize`` (last used, newest first, at most 20 each)."""
        return {
            "specificationsHashes": self._hashes.get_last_used_specification_hashes(self._server),
            "positionsHashes": self._hashes.get_last_used_position_hashes(self._account_id),
            "ordersHashes": self._hashes.get_last_used_order_hashes(self._account_id),
        }

    async def wait_for_price(self, symbol: str, timeout_in_seconds: float = 30) -> Record:
        """The price of ``symbol``, waiting for the first one; raises ``TimeoutException`` when none comes in time."""
        checks.text("symbol", symbol)
        checks.number("timeout_in_seconds", timeout_in_seconds, minimum=0)
        price = self.price(symbol)
        if price is not None:
            return price
        return await self._waits.first_price(symbol, timeout_in_seconds)

    async def refresh_terminal_state(self, options: RefreshTerminalStateOptions | None = None) -> None:
        """Ask the server for fresh quotes of the streamed symbols and wait until they arrived (``timeoutInSeconds``,
        default 10; ``TimeoutException`` when exceeded)."""
        options = checks.mapping("options", options, optional=True) or {}
        checks.known_keys("options", options, ("timeoutInSeconds",))
        timeout = checks.number("options.timeoutInSeconds", options.get("timeoutInSeconds"), 0, optional=True)
        if self._client is None:
            raise RuntimeError("this terminal state has no websocket client to refresh through")
        await self._waits.refresh(self._client, self._account_id, timeout)

    def close(self) -> None:
        """Release this state's collections in the hash manager (they may then be pruned)."""
        for stream in self._streams.values():
            self._hashes.remove_connection_references(stream.holder)
        if self._combined is not None:
            self._hashes.remove_connection_references(self._combined.holder)

    # ---- stream bookkeeping --------------------------------------------------------------------------------------

    def _stream(self, instance_index: str) -> StreamState:
        stream = self._streams.get(instance_index)
        if stream is None:
            stream = self._streams[instance_index] = StreamState(instance_index, f"{self._id}:{next(_holders)}")
        return stream

    def _targets(self, instance_index: str) -> tuple[StreamState, ...]:
        """The stream's state, and the combined view too while it is a retired state (kept through a resync)."""
        stream = self._stream(instance_index)
        combined = self._combined
        if combined is not None and combined.retired and combined is not stream:
            return (stream, combined)
        return (stream,)

    def _drop(self, stream: StreamState) -> None:
        """Forget a state no stream or view uses any more."""
        if stream is self._combined:
            stream.retired = True
        else:
            self._hashes.remove_connection_references(stream.holder)

    def _same_instance(self, instance_index: str) -> list[str]:
        region, number = instance_index.split(":")[:2]
        prefix = f"{region}:{number}:"
        return [key for key in self._streams if key.startswith(prefix) and key != instance_index]

    def _remember(self, memory: dict[str, float], ids: Iterable[str]) -> None:
        now = self._clock()
        for item_id in ids:
            memory.pop(item_id, None)
            memory[item_id] = now
        cutoff = now - REMOVAL_MEMORY_SECONDS
        while memory:
            oldest = next(iter(memory))
            if memory[oldest] >= cutoff:
                break
            del memory[oldest]

    # ---- connection events ---------------------------------------------------------------------------------------

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        """The stream is connected."""
        self._stream(instance_index).connected = True

    async def on_disconnected(self, instance_index: str) -> None:
        """The stream is lost (its data stays until it closes or resynchronizes)."""
        stream = self._stream(instance_index)
        stream.connected = stream.connected_to_broker = False

    async def on_broker_connection_status_changed(self, instance_index: str, connected: bool) -> None:
        """The terminal's connection to the broker changed."""
        self._stream(instance_index).connected_to_broker = connected

    async def on_stream_closed(self, instance_index: str) -> None:
        """The stream ended: its state is dropped (a combined view built from it stays until the next one)."""
        stream = self._streams.pop(instance_index, None)
        if stream is not None:
            self._drop(stream)

    # ---- synchronization -----------------------------------------------------------------------------------------

    async def on_synchronization_started(
        self,
        instance_index: str,
        specifications_hash: str | None,
        positions_hash: str | None,
        orders_hash: str | None,
        synchronization_id: str,
    ) -> None:
        """Start a fresh state for the stream, taking back the collections the server reported unchanged."""
        others = [k for k in self._same_instance(instance_index) if not self._streams[k].orders_initialized]
        others.sort(key=lambda k: self._streams[k].updated_at, reverse=True)
        for key in others[1:]:
            self._drop(self._streams.pop(key))
        old = self._streams.get(instance_index)
        stream = StreamState(instance_index, f"{self._id}:{next(_holders)}")
        stream.updated_at = self._clock()
        source = old or self._combined
        if source is not None:
            stream.prices = dict(source.prices)
            stream.last_quote = source.last_quote
        if old is not None:
            stream.connected, stream.connected_to_broker = old.connected, old.connected_to_broker
            self._drop(old)
        self._streams[instance_index] = stream
        reused: dict[Collection, str | None] = {
            "specifications": specifications_hash,
            "positions": positions_hash,
            "orders": orders_hash,
        }
        for kind, hash in reused.items():
            if not hash:
                continue
            items = self._hashes.get_items_by_hash(kind, hash)
            if items is None:
                log.warning("%s:%s: no %s kept under the reused hash %s", self._account_id, instance_index, kind, hash)
                continue
            stream.replace(kind, items.values())
            stream.hashes[kind] = hash
            stream.expected.discard(kind)
            self._hashes.add_reference(kind, hash, stream.holder)

    async def on_account_information_updated(self, instance_index: str, account_information: Record) -> None:
        """Store the account information."""
        for stream in self._targets(instance_index):
            stream.account_information = account_information

    async def on_positions_replaced(self, instance_index: str, positions: list[Record]) -> None:
        """The synchronization's positions (ignored when the server reused the offered collection)."""
        self._replace(instance_index, "positions", positions)

    async def on_positions_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Positions are complete for this stream."""
        self._stream(instance_index).positions_initialized = True

    async def on_pending_orders_replaced(self, instance_index: str, orders: list[Record]) -> None:
        """The synchronization's pending orders (ignored when the server reused the offered collection)."""
        self._replace(instance_index, "orders", orders)

    def _replace(self, instance_index: str, kind: Collection, items: list[Record]) -> None:
        stream = self._stream(instance_index)
        if kind in stream.expected:
            stream.replace(kind, items)

    async def on_pending_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """The stream's terminal state is complete: record its collections and make it the combined view."""
        stream = self._stream(instance_index)
        stream.positions_initialized = stream.orders_initialized = True
        stream.updated_at = self._clock()
        memories = {"positions": self._removed_positions, "orders": self._completed_orders}
        for kind in COLLECTIONS:
            if kind not in stream.expected and kind not in stream.dirty:
                continue
            memory = memories.get(kind)
            items = stream.collection(kind)
            if memory:
                self._remember(memory, ())
            if kind in stream.expected and memory:
                stream.replace(kind, [item for key, item in items.items() if key not in memory])
                items = stream.collection(kind)
            stream.hashes[kind] = self._hashes.record(
                kind, self._category(kind), self._account_type, stream.holder, instance_index, items.values()
            )
        stream.dirty.clear()
        old, self._combined = self._combined, stream
        if old is not None and old is not stream and old.retired:
            self._hashes.remove_connection_references(old.holder)
        for key in self._same_instance(instance_index):
            if not self._streams[key].connected:
                self._drop(self._streams.pop(key))

    # ---- updates -------------------------------------------------------------------------------------------------

    async def on_positions_updated(
        self, instance_index: str, positions: list[Record], removed_position_ids: list[str]
    ) -> None:
        """Merge changed positions by id, drop removed ones (remembered 24 h: later positions with them are dropped)."""
        self._update(instance_index, "positions", positions, removed_position_ids, self._removed_positions)

    async def on_pending_orders_updated(
        self, instance_index: str, orders: list[Record], completed_order_ids: list[str]
    ) -> None:
        """Merge changed orders by id, drop completed ones (remembered 24 h: later orders with them are dropped)."""
        self._update(instance_index, "orders", orders, completed_order_ids, self._completed_orders)

    async def on_symbol_specifications_updated(
        self, instance_index: str, specifications: list[Record], removed_symbols: list[str]
    ) -> None:
        """Merge changed specifications by symbol, drop removed symbols."""
        self._update(instance_index, "specifications", specifications, removed_symbols, None)

    def _category(self, kind: Collection) -> str:
        return self._server if kind == "specifications" else self._account_id

    def _update(
        self,
        instance_index: str,
        kind: Collection,
        items: list[Record],
        removed: list[str],
        memory: dict[str, float] | None,
    ) -> None:
        """Merge an update into the stream (and a retired combined view); collection hashes follow incrementally."""
        if memory is not None:
            if removed or memory:
                self._remember(memory, removed)
            if memory:
                items = [item for item in items if item["id"] not in memory]
        if not items and not removed:
            return
        category = self._category(kind)
        for stream in self._targets(instance_index):
            stream.merge(kind, items, removed)
            if not stream.orders_initialized:
                stream.dirty.add(kind)
                continue
            holder, index = stream.holder, stream.instance_index
            try:
                hash = self._hashes.update(
                    kind, category, self._account_type, holder, index, items, removed, stream.hashes[kind]
                )
            except KeyError:  # the parent was never recorded here: record the whole collection
                hash = self._hashes.record(
                    kind, category, self._account_type, holder, index, stream.collection(kind).values()
                )
            stream.hashes[kind] = hash

    async def on_symbol_prices_updated(
        self,
        instance_index: str,
        prices: list[Record],
        equity: float | None = None,
        margin: float | None = None,
        free_margin: float | None = None,
        margin_level: float | None = None,
        account_currency_exchange_rate: float | None = None,
    ) -> None:
        """Keep the newest price per symbol, reprice its positions and orders, update the account figures."""
        stream = self._streams.get(instance_index) or self._stream(instance_index)
        if stream.apply_prices(prices):
            stream.update_account(prices, equity, margin, free_margin, margin_level, account_currency_exchange_rate)
        combined = self._combined
        if combined is not None and combined.retired and combined is not stream and combined.apply_prices(prices):
            combined.update_account(prices, equity, margin, free_margin, margin_level, account_currency_exchange_rate)
        self._waits.saw(prices)
