"""The listener interfaces of the socket layer: what a streaming connection tells the objects that follow it.

:class:`SynchronizationListener` has one no-op coroutine per event (protocol §7.3–§7.5); subclass it and
override what you need. ``instance_index`` is the stream key ``"{region}:{instanceNumber}:{host}"``.
Every record is the wire dict after date conversion (:mod:`.dates`): camelCase keys, aware datetimes.
Events of one account arrive in order; a listener that raises is logged and the stream goes on.

The terminal state, the history storage and the health monitor are synchronization listeners
themselves; user code may add its own with ``connection.add_synchronization_listener``.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


class SynchronizationListener:
    """Receives a streaming connection's events; every method is a no-op coroutine to override."""

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        """The server authenticated the stream (an ``authenticated`` packet); a synchronization follows."""

    async def on_health_status(self, instance_index: str, status: Record) -> None:
        """A ``status`` packet's ``healthStatus`` object."""

    async def on_disconnected(self, instance_index: str) -> None:
        """The stream was lost (``disconnected`` packet, status silence or socket loss)."""

    async def on_broker_connection_status_changed(self, instance_index: str, connected: bool) -> None:
        """The terminal's connection to the broker changed (``status.connected``)."""

    async def on_synchronization_started(
        self,
        instance_index: str,
        specifications_hash: str | None,
        positions_hash: str | None,
        orders_hash: str | None,
        synchronization_id: str,
    ) -> None:
        """A synchronization began; a non-None hash means "the collection you offered under this hash is current"."""

    async def on_account_information_updated(self, instance_index: str, account_information: Record) -> None:
        """Account information arrived (synchronization or ``update``)."""

    async def on_positions_replaced(self, instance_index: str, positions: list[Record]) -> None:
        """The synchronization's full list of open positions."""

    async def on_positions_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Positions are synchronized (sent in full or matched by hash)."""

    async def on_positions_updated(
        self, instance_index: str, positions: list[Record], removed_position_ids: list[str]
    ) -> None:
        """An ``update`` packet's positions (called for every update, even with nothing in it)."""

    async def on_position_updated(self, instance_index: str, position: Record) -> None:
        """One position opened or changed."""

    async def on_position_removed(self, instance_index: str, position_id: str) -> None:
        """One position closed."""

    async def on_pending_orders_replaced(self, instance_index: str, orders: list[Record]) -> None:
        """The synchronization's full list of pending orders."""

    async def on_pending_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Pending orders are synchronized: the terminal state is complete for this synchronization."""

    async def on_pending_orders_updated(
        self, instance_index: str, orders: list[Record], completed_order_ids: list[str]
    ) -> None:
        """An ``update`` packet's pending orders."""

    async def on_pending_order_updated(self, instance_index: str, order: Record) -> None:
        """One pending order placed or changed."""

    async def on_pending_order_completed(self, instance_index: str, order_id: str) -> None:
        """One pending order filled, cancelled or expired."""

    async def on_history_order_added(self, instance_index: str, history_order: Record) -> None:
        """A history order arrived (synchronization or ``update``)."""

    async def on_history_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """All history orders of this synchronization arrived."""

    async def on_deal_added(self, instance_index: str, deal: Record) -> None:
        """A deal arrived (synchronization or ``update``)."""

    async def on_deals_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """All deals of this synchronization arrived: the synchronization is complete."""

    async def on_symbol_specifications_updated(
        self, instance_index: str, specifications: list[Record], removed_symbols: list[str]
    ) -> None:
        """A ``specifications`` packet."""

    async def on_symbol_specification_updated(self, instance_index: str, specification: Record) -> None:
        """One symbol specification arrived or changed."""

    async def on_symbol_specification_removed(self, instance_index: str, symbol: str) -> None:
        """One symbol was removed."""

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
        """A ``prices`` packet's prices with the account figures the server computed at those prices."""

    async def on_symbol_price_updated(self, instance_index: str, price: Record) -> None:
        """One symbol's new price."""

    async def on_candles_updated(
        self,
        instance_index: str,
        candles: list[Record],
        equity: float | None = None,
        margin: float | None = None,
        free_margin: float | None = None,
        margin_level: float | None = None,
        account_currency_exchange_rate: float | None = None,
    ) -> None:
        """A ``prices`` packet's candles (subscriptions of type ``candles``)."""

    async def on_ticks_updated(
        self,
        instance_index: str,
        ticks: list[Record],
        equity: float | None = None,
        margin: float | None = None,
        free_margin: float | None = None,
        margin_level: float | None = None,
        account_currency_exchange_rate: float | None = None,
    ) -> None:
        """A ``prices`` packet's ticks (subscriptions of type ``ticks``)."""

    async def on_books_updated(
        self,
        instance_index: str,
        books: list[Record],
        equity: float | None = None,
        margin: float | None = None,
        free_margin: float | None = None,
        margin_level: float | None = None,
        account_currency_exchange_rate: float | None = None,
    ) -> None:
        """A ``prices`` packet's order books (subscriptions of type ``marketDepth``)."""

    async def on_subscription_downgraded(
        self, instance_index: str, symbol: str, updates: list[Record] | None, unsubscriptions: list[Record] | None
    ) -> None:
        """The server downgraded a market-data subscription (``downgradeSubscription``)."""

    async def on_stream_closed(self, instance_index: str) -> None:
        """The stream ended (its state is dropped; a new synchronization will rebuild it)."""

    async def on_unsubscribe_region(self, region: str) -> None:
        """The client stopped following the account in ``region``."""


class ReconnectListener:
    """Told when the socket an account uses came back after a loss (its streams must resubscribe)."""

    async def on_reconnected(self, region: str, instance_number: int) -> None:
        """The socket of ``region`` / ``instance_number`` reconnected."""


class LatencyListener:
    """Receives the latency timestamps of responses, prices, updates and trades (protocol §8), as datetimes."""

    async def on_response(self, account_id: str, type: str, timestamps: Record) -> None:
        """A response to a request of ``type`` arrived (client and server processing stamps)."""

    async def on_symbol_price(self, account_id: str, symbol: str, timestamps: Record) -> None:
        """A price with server timestamps arrived."""

    async def on_update(self, account_id: str, timestamps: Record) -> None:
        """An ``update`` packet with server timestamps arrived."""

    async def on_trade(self, account_id: str, timestamps: Record) -> None:
        """A trade response arrived (trade start / execution stamps)."""
