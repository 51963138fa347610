"""Decorator-style listeners of a streaming connection (the seed's usage examples).

    @connection.on_price_updated
    def show(price): ...

    @connection.on_deal_added
    async def store(deal): ...

Each decorator accepts a plain or an ``async`` function, registers it and returns it unchanged. Callbacks
get one record (a price, candle, tick, book, position, order, deal, account information; an id for
removals; the exception for ``on_error``; nothing for ``on_connected`` / ``on_disconnected``). A callback
that raises is logged and handed to the ``on_error`` callbacks; the stream goes on.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from .. import checks
from ..listeners import Record, SynchronizationListener

log = logging.getLogger("mtdata.client")

Callback = Callable[..., Any]

#: Decorator names (the connection exposes each as a method) -> event key.
EVENTS = {
    "on_connected": "connected",
    "on_disconnected": "disconnected",
    "on_error": "error",
    "on_candle_data_received": "candle",
    "on_tick_data_received": "tick",
    "on_book_data_received": "book",
    "on_price_updated": "price",
    "on_symbol_price_updated": "price",
    "on_position_updated": "position",
    "on_position_removed": "position_removed",
    "on_order_updated": "order",
    "on_order_completed": "order_completed",
    "on_deal_added": "deal",
    "on_history_order_added": "history_order",
    "on_account_information_updated": "account_information",
}


class ConnectionEvents(SynchronizationListener):
    """Holds the decorated callbacks and calls them from the synchronization events (registration order)."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[tuple[Callback, bool]]] = {key: [] for key in set(EVENTS.values())}

    def register(self, decorator: str, callback: Any) -> Callback:
        """Register ``callback`` for the event of ``decorator`` (a name of :data:`EVENTS`) and return it."""
        if not callable(callback):
            raise checks.fail(decorator, "must decorate a function (sync or async)", callback)
        is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004  (async callable objects)
        )
        self._callbacks[EVENTS[decorator]].append((callback, is_async))
        return callback

    def unregister(self, callback: Callback) -> None:
        """Remove ``callback`` from every event."""
        for key, entries in self._callbacks.items():
            self._callbacks[key] = [entry for entry in entries if entry[0] is not callback]

    def has(self, key: str) -> bool:
        """Whether any callback listens to event ``key``."""
        return bool(self._callbacks[key])

    async def emit(self, key: str, *args: Any) -> None:
        """Call the callbacks of ``key``; a raising one is logged and passed to the ``error`` callbacks."""
        for callback, is_async in self._callbacks[key]:
            try:
                if is_async:
                    await callback(*args)
                else:
                    result = callback(*args)
                    if inspect.isawaitable(result):
                        await result
            except Exception as error:
                log.exception("a %s callback raised", key)
                if key != "error":
                    await self.emit("error", error)

    async def _each(self, key: str, items: list[Record] | None) -> None:
        if items and self._callbacks[key]:
            for item in items:
                await self.emit(key, item)

    # SynchronizationListener -------------------------------------------------------------------

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        await self.emit("connected")

    async def on_disconnected(self, instance_index: str) -> None:
        await self.emit("disconnected")

    async def on_symbol_price_updated(self, instance_index: str, price: Record) -> None:
        if self._callbacks["price"]:
            await self.emit("price", price)

    async def on_candles_updated(self, instance_index: str, candles: list[Record], *args: Any) -> None:
        await self._each("candle", candles)

    async def on_ticks_updated(self, instance_index: str, ticks: list[Record], *args: Any) -> None:
        await self._each("tick", ticks)

    async def on_books_updated(self, instance_index: str, books: list[Record], *args: Any) -> None:
        await self._each("book", books)

    async def on_position_updated(self, instance_index: str, position: Record) -> None:
        await self.emit("position", position)

    async def on_position_removed(self, instance_index: str, position_id: str) -> None:
        await self.emit("position_removed", position_id)

    async def on_pending_order_updated(self, instance_index: str, order: Record) -> None:
        await self.emit("order", order)

    async def on_pending_order_completed(self, instance_index: str, order_id: str) -> None:
        await self.emit("order_completed", order_id)

    async def on_deal_added(self, instance_index: str, deal: Record) -> None:
        await self.emit("deal", deal)

    async def on_history_order_added(self, instance_index: str, history_order: Record) -> None:
        await self.emit("history_order", history_order)

    async def on_account_information_updated(self, instance_index: str, account_information: Record) -> None:
        await self.emit("account_information", account_information)


class DecoratorMixin:
    """The ``@connection.on_*`` decorators; the connection provides ``_events`` (a :class:`ConnectionEvents`)."""

    _events: ConnectionEvents

    def on_connected(self, callback: Callback) -> Callback:
        """Call ``callback()`` when a stream of the account is authenticated."""
        return self._events.register("on_connected", callback)

    def on_disconnected(self, callback: Callback) -> Callback:
        """Call ``callback()`` when a stream is lost."""
        return self._events.register("on_disconnected", callback)

    def on_error(self, callback: Callback) -> Callback:
        """Call ``callback(error)`` when a callback or a background step of the connection fails."""
        return self._events.register("on_error", callback)

    def on_candle_data_received(self, callback: Callback) -> Callback:
        """Call ``callback(candle)`` for each streamed candle."""
        return self._events.register("on_candle_data_received", callback)

    def on_tick_data_received(self, callback: Callback) -> Callback:
        """Call ``callback(tick)`` for each streamed tick."""
        return self._events.register("on_tick_data_received", callback)

    def on_book_data_received(self, callback: Callback) -> Callback:
        """Call ``callback(book)`` for each streamed order book."""
        return self._events.register("on_book_data_received", callback)

    def on_price_updated(self, callback: Callback) -> Callback:
        """Call ``callback(price)`` for each new symbol price."""
        return self._events.register("on_price_updated", callback)

    def on_symbol_price_updated(self, callback: Callback) -> Callback:
        """Alias of :meth:`on_price_updated`."""
        return self._events.register("on_symbol_price_updated", callback)

    def on_position_updated(self, callback: Callback) -> Callback:
        """Call ``callback(position)`` when a position opens or changes."""
        return self._events.register("on_position_updated", callback)

    def on_position_removed(self, callback: Callback) -> Callback:
        """Call ``callback(position_id)`` when a position closes."""
        return self._events.register("on_position_removed", callback)

    def on_order_updated(self, callback: Callback) -> Callback:
        """Call ``callback(order)`` when a pending order is placed or changes."""
        return self._events.register("on_order_updated", callback)

    def on_order_completed(self, callback: Callback) -> Callback:
        """Call ``callback(order_id)`` when a pending order fills, is cancelled or expires."""
        return self._events.register("on_order_completed", callback)

    def on_deal_added(self, callback: Callback) -> Callback:
        """Call ``callback(deal)`` for each deal (synchronization and live)."""
        return self._events.register("on_deal_added", callback)

    def on_history_order_added(self, callback: Callback) -> Callback:
        """Call ``callback(history_order)`` for each history order."""
        return self._events.register("on_history_order_added", callback)

    def on_account_information_updated(self, callback: Callback) -> Callback:
        """Call ``callback(account_information)`` when account information arrives."""
        return self._events.register("on_account_information_updated", callback)

    def remove_callback(self, callback: Callback) -> None:
        """Stop calling a decorated ``callback``."""
        self._events.unregister(callback)


__all__ = ["EVENTS", "ConnectionEvents", "DecoratorMixin"]
