"""One session's market data fanned out to live panels, over shared, reference-counted subscriptions.

A :class:`LiveFeed` registers ONE synchronization listener on the session's streaming connection and hands
each price, forming candle, batch of ticks and order book to the sinks attached to its :class:`Stream`.
Two panels on EURUSD quotes subscribe once; detaching one keeps the subscription, detaching the last drops
it, unless it was there before the feed needed it (then it belongs to someone else and stays).
Bookkeeping and sink calls happen on the session's loop thread; sinks must only touch thread-safe state
(a :class:`~mtdata.live.window.Window`, a latest value, :meth:`~mtdata.live.view.Panel.changed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..client.listeners import SynchronizationListener

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("mtdata.live")

Sink = Callable[[Any], None]
KINDS = ("quotes", "candles", "ticks", "marketDepth")


class Stream(NamedTuple):
    """What a sink listens to: a market-data subscription type of a symbol (a timeframe for candles)."""

    kind: str
    symbol: str
    timeframe: str | None = None

    def subscription(self) -> dict[str, Any]:
        """The wire subscription (``{"type": ..., "timeframe": ...}``)."""
        return {"type": self.kind, "timeframe": self.timeframe} if self.timeframe else {"type": self.kind}

    def held_in(self, subscriptions: list[dict[str, Any]]) -> bool:
        """True when ``subscriptions`` (a symbol's, as the connection keeps them) already include this one."""
        return any(s.get("type") == self.kind and s.get("timeframe") == self.timeframe for s in subscriptions)


class LiveFeed(SynchronizationListener):
    """The session's market data for panels: one listener, shared subscriptions, sinks per :class:`Stream`."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._connection: Any = None
        self._sinks: dict[Stream, list[Sink]] = {}
        self._owned: set[Stream] = set()  # subscribed by the feed (borrowed ones were there before)
        self._closed = False

    @property
    def streams(self) -> dict[Stream, int]:
        """How many sinks each stream has now (for tests and display)."""
        return {stream: len(sinks) for stream, sinks in list(self._sinks.items())}

    @property
    def owned(self) -> set[Stream]:
        """The streams the feed subscribed itself (and unsubscribes when their last sink goes)."""
        return set(self._owned)

    @property
    def listening(self) -> bool:
        """True while the feed's listener is on the streaming connection."""
        return self._connection is not None

    def attach(self, stream: Stream, sink: Sink) -> None:
        """Call ``sink`` with each update of ``stream`` (subscribing when needed); blocks until subscribed."""
        self._session.run(self._attach(stream, sink))

    def detach(self, stream: Stream, sink: Sink) -> None:
        """Stop calling ``sink``; unsubscribe ``stream`` when it was the last sink. No-op once the session closed."""
        if self._closed or self._session.closed:
            return
        self._session.run(self._detach(stream, sink))

    def close(self) -> None:
        """Drop every sink, the feed's own subscriptions and its listener (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if not self._session.closed:
            self._session.run(self._close())

    # -- on the session's loop ----------------------------------------------------------------------

    async def _attach(self, stream: Stream, sink: Sink) -> None:
        if self._closed:
            raise RuntimeError("the session's live feed is closed")
        if self._connection is None:
            connection = await self._session.connection_async()
            connection.add_synchronization_listener(self)
            self._connection = connection
        sinks = self._sinks.setdefault(stream, [])
        sinks.append(sink)
        if len(sinks) > 1 or stream.held_in(self._connection.subscriptions(stream.symbol)):
            return
        try:
            await self._connection.subscribe_to_market_data(
                stream.symbol, [stream.subscription()], wait_for_quote=False
            )
        except BaseException:
            self._forget(stream, sink)
            raise
        self._owned.add(stream)

    async def _detach(self, stream: Stream, sink: Sink) -> None:
        if self._forget(stream, sink) and stream in self._owned:
            await self._unsubscribe(stream)

    async def _close(self) -> None:
        self._sinks.clear()
        for stream in list(self._owned):
            await self._unsubscribe(stream)
        if self._connection is not None:
            self._connection.remove_synchronization_listener(self)
            self._connection = None

    async def _unsubscribe(self, stream: Stream) -> None:
        self._owned.discard(stream)
        if self._connection is None or self._connection.closed:
            return
        try:
            await self._connection.unsubscribe_from_market_data(stream.symbol, [stream.subscription()])
        except Exception:
            log.warning("unsubscribing %s of %s failed", stream.kind, stream.symbol, exc_info=True)

    def _forget(self, stream: Stream, sink: Sink) -> bool:
        """Remove ``sink``; True when ``stream`` has no sink left."""
        sinks = self._sinks.get(stream, [])
        if sink in sinks:
            sinks.remove(sink)
        if sinks:
            return False
        self._sinks.pop(stream, None)
        return True

    def _send(self, stream: Stream, value: Any) -> None:
        for sink in self._sinks.get(stream, ()):
            try:
                sink(value)
            except Exception:
                log.exception("a live panel failed on %s of %s", stream.kind, stream.symbol)

    # -- the listener (the streaming connection calls these on the session's loop) -------------------

    async def on_symbol_price_updated(self, instance_index: str, price: dict[str, Any]) -> None:
        """A new quote: to the quotes sinks of its symbol."""
        self._send(Stream("quotes", price["symbol"]), price)

    async def on_candles_updated(
        self, instance_index: str, candles: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> None:
        """Forming candles: each to the candles sinks of its symbol and timeframe."""
        for candle in candles:
            self._send(Stream("candles", candle["symbol"], candle["timeframe"]), candle)

    async def on_ticks_updated(
        self, instance_index: str, ticks: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> None:
        """New ticks: one list per symbol to its ticks sinks."""
        by_symbol: dict[str, list[dict[str, Any]]] = {}
        for tick in ticks:
            by_symbol.setdefault(tick["symbol"], []).append(tick)
        for symbol, batch in by_symbol.items():
            self._send(Stream("ticks", symbol), batch)

    async def on_books_updated(
        self, instance_index: str, books: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> None:
        """Order books: each to the book sinks of its symbol."""
        for book in books:
            self._send(Stream("marketDepth", book["symbol"]), book)
