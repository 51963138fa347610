"""One session's market data fanned out to live panels, over shared, reference-counted subscriptions.

A :class:`LiveFeed` registers ONE synchronization listener on the session's streaming connection and hands
each price, forming candle, batch of ticks and order book to the sinks attached to its :class:`Stream`.
Two panels on EURUSD quotes subscribe once; detaching one keeps the subscription, detaching the last drops
it, unless it was there before the feed needed it (then it belongs to someone else and stays).
The :data:`ACCOUNT` stream subscribes nothing: its sinks get an :class:`AccountEvent` whenever the terminal
state's positions, pending orders or account information change, and on each prices packet (floating
profit and equity follow the prices); panels then copy what they show with a :class:`StateCopy` (or, blocking,
:meth:`LiveFeed.account_state`).
Bookkeeping and sink calls happen on the session's loop thread; sinks must only touch thread-safe state
(a :class:`~mtdata.live.window.Window`, a latest value, :meth:`~mtdata.live.view.Panel.changed`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..client import checks
from ..client.listeners import SynchronizationListener
from .throttle import Throttle

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("mtdata.live")

Sink = Callable[[Any], None]
KINDS = ("quotes", "candles", "ticks", "marketDepth")
#: What changed in the terminal state (:attr:`AccountEvent.kind`); ``synchronized``: possibly everything.
ACCOUNT_CHANGES = ("account", "positions", "orders", "prices", "synchronized")


class Stream(NamedTuple):
    """What a sink listens to: a market-data subscription type of a symbol (a timeframe for candles)."""

    kind: str  #: The subscription type: ``quotes``, ``candles``, ``ticks`` or ``marketDepth`` (or ``account``).
    symbol: str  #: The symbol listened to (empty for the account's stream, ``ACCOUNT``).
    timeframe: str | None = None  #: The candles' timeframe, e.g. ``1m``; None for the other types.

    def subscription(self) -> dict[str, Any]:
        """The wire subscription (``{"type": ..., "timeframe": ...}``)."""
        return {"type": self.kind, "timeframe": self.timeframe} if self.timeframe else {"type": self.kind}

    def held_in(self, subscriptions: list[dict[str, Any]]) -> bool:
        """True when ``subscriptions`` (a symbol's, as the connection keeps them) already include this one."""
        return any(s.get("type") == self.kind and s.get("timeframe") == self.timeframe for s in subscriptions)


#: The stream of the account's terminal state (positions, pending orders, account information): no subscription.
ACCOUNT = Stream("account", "")


class AccountEvent(NamedTuple):
    """A change of the terminal state: its ``kind`` (one of :data:`ACCOUNT_CHANGES`), a prices packet's prices."""

    kind: str
    prices: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()


_EVENTS = {kind: AccountEvent(kind) for kind in ACCOUNT_CHANGES if kind != "prices"}
#: The longest :meth:`LiveFeed.account_state` waits for the session's loop (seconds).
STATE_TIMEOUT = 2.0
#: What :meth:`LiveFeed.account_state` copies: the terminal state's attribute of each kind.
STATE_KINDS = ("account", "positions", "orders")


def _check_kind(kind: str) -> None:
    if kind not in STATE_KINDS:
        raise checks.fail("kind", f"must be one of {list(STATE_KINDS)}", kind)


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

    def account_state(self, kind: str, timeout: float = STATE_TIMEOUT) -> Any:
        """A copy of the terminal state's ``account`` information (a dict, None before any), ``positions`` or
        ``orders`` (lists of dicts), taken on the session's loop between two of its callbacks: safe from any
        thread. Waits at most ``timeout`` seconds for a busy loop (then TimeoutError), not at all on the loop."""
        _check_kind(kind)
        loop = self._session.loop
        if self._session.closed or self._connection is None:
            return self._copy(kind)  # nothing to copy: no terminal state is read
        try:
            if asyncio.get_running_loop() is loop:
                return self._copy(kind)
        except RuntimeError:  # no loop running on this thread
            pass
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def copy() -> None:
            try:
                future.set_result(self._copy(kind))
            except BaseException as error:
                future.set_exception(error)

        try:
            loop.call_soon_threadsafe(copy)
        except RuntimeError:  # the session closed meanwhile
            return self._copy(kind)
        return future.result(timeout)

    def state_copy(self, kind: str, rate: float, copied: Callable[[], None]) -> StateCopy:
        """A :class:`~mtdata.live.feed.StateCopy` of ``kind`` (``account``, ``positions`` or ``orders``) taken at most
        ``rate`` times a second, ``copied()`` called on the session's loop after each copy."""
        return StateCopy(self, kind, rate, copied)

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
        if stream == ACCOUNT or len(sinks) > 1 or stream.held_in(self._connection.subscriptions(stream.symbol)):
            return
        try:
            await self._connection.subscribe_to_market_data(
                stream.symbol, [stream.subscription()], wait_for_quote=False
            )
        except BaseException:
            self._forget(stream, sink)
            raise
        self._owned.add(stream)

    def _copy(self, kind: str) -> Any:
        """The copy :meth:`account_state` returns (empty when the feed does not listen), made on the session's loop."""
        connection = None if self._session.closed else self._connection
        state = connection.terminal_state if connection is not None else None
        if kind == "account":
            info = state.account_information if state is not None else None
            return dict(info) if info is not None else None
        return [dict(record) for record in getattr(state, kind)] if state is not None else []

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

    # the account's terminal state: one event per change, for the ACCOUNT sinks (none: a dict lookup)

    def _account(self, kind: str) -> None:
        if ACCOUNT in self._sinks:
            self._send(ACCOUNT, _EVENTS[kind])

    async def on_symbol_prices_updated(self, instance_index: str, prices: list[dict[str, Any]], *args: Any) -> None:
        """A prices packet: profits and equity moved (the event carries the prices, to filter by symbol)."""
        if ACCOUNT in self._sinks:
            self._send(ACCOUNT, AccountEvent("prices", prices))

    async def on_account_information_updated(self, instance_index: str, account_information: dict[str, Any]) -> None:
        """Balance, equity or margins changed."""
        self._account("account")

    async def on_positions_replaced(self, instance_index: str, positions: list[dict[str, Any]]) -> None:
        """A synchronization's positions."""
        self._account("positions")

    async def on_position_updated(self, instance_index: str, position: dict[str, Any]) -> None:
        """A position opened or changed."""
        self._account("positions")

    async def on_position_removed(self, instance_index: str, position_id: str) -> None:
        """A position closed."""
        self._account("positions")

    async def on_pending_orders_replaced(self, instance_index: str, orders: list[dict[str, Any]]) -> None:
        """A synchronization's pending orders."""
        self._account("orders")

    async def on_pending_order_updated(self, instance_index: str, order: dict[str, Any]) -> None:
        """A pending order placed or changed."""
        self._account("orders")

    async def on_pending_order_completed(self, instance_index: str, order_id: str) -> None:
        """A pending order filled, cancelled or expired."""
        self._account("orders")

    async def on_pending_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """A synchronization completed: the terminal state shown may be a new one."""
        self._account("synchronized")


class StateCopy:
    """The latest copy of one kind of the account's state, for a panel that must not wait for the session's loop.

    :meth:`poke` (from an :data:`ACCOUNT` sink, any thread) asks for a fresh copy: it is taken on the session's loop
    at most ``rate`` times a second (once after any burst of events), stored in :attr:`value`, then ``copied()``
    runs there (a panel's ``changed``). A redraw on the kernel's thread reads :attr:`value` and never blocks on a
    session loop busy with thousands of prices a second, as :meth:`LiveFeed.account_state` would.
    """

    def __init__(self, feed: LiveFeed, kind: str, rate: float, copied: Callable[[], None]) -> None:
        _check_kind(kind)
        self._feed, self._kind, self._copied = feed, kind, copied
        self.value: Any = None if kind == "account" else []
        """The latest copy (None / [] before the first): a dict for ``account``, a list of dicts otherwise."""
        self._throttle = Throttle(self._take, rate=rate, loop=feed._session.loop)

    @property
    def copies(self) -> int:
        """How many copies were taken (for tests)."""
        return self._throttle.flushes

    def poke(self) -> None:
        """The state changed: copy it again within ``1 / rate`` seconds (thread-safe, cheap)."""
        self._throttle.poke()

    def close(self) -> None:
        """Take no more copies (idempotent, any thread)."""
        self._throttle.close()

    def _take(self) -> None:
        self.value = self._feed._copy(self._kind)
        self._copied()
