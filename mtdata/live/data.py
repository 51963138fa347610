"""Live data you can compute on: a symbol's quote and candles, always current, over the session's LiveFeed.

    q = s.live.quote("EURUSD")                # q.bid, q.ask, q.spread, q.time: updated in place
    bars = s.live.candles("EURUSD", "1m")     # bars.df: history, then the candle still forming
    bars.on_update(lambda bars: print(bars.df["close"].iloc[-1]))

They listen to the same :class:`~mtdata.live.feed.LiveFeed` as the panels (one subscription however many objects
and panels watch a symbol) and close with the session (``s.close()``) or by themselves (:meth:`LiveObject.close`).
Updates land on the session's loop thread; reading attributes is safe from any thread (a quote's values change
together, as one tuple; ``q.values()`` reads them at once, where ``q.bid`` then ``q.ask`` may straddle an update).
``on_update`` callbacks run at most ``rate`` times a second, with the latest values, on
the loop running where the object was made (a Jupyter kernel's, in a cell: callbacks may touch widgets and panels),
or, made outside any loop (a script), on the session's loop thread after every update.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .. import arguments, frames
from ..client import checks
from ..errors import TimeoutException
from ..market_hours import StaleWatch
from .feed import LiveFeed, Stream
from .throttle import DEFAULT_RATE, Throttle

if TYPE_CHECKING:
    import pandas as pd

    from ..session import Session

log = logging.getLogger("mtdata.live")
L = TypeVar("L", bound="LiveObject")
Callback = Callable[[Any], Any]
#: Seconds :meth:`LiveData.quote` waits for a symbol's first quote.
FIRST_QUOTE_TIMEOUT = 10.0
#: Candles a :meth:`LiveData.candles` keeps by default (history included).
DEFAULT_COUNT = 500


class LiveObject:
    """The common part of live data objects: the feed's stream, ``on_update`` callbacks, ``close()``.

    Event: ``on_update(callback)``: ``callback(obj)`` after updates (see the module docstring for the thread)."""

    def __init__(self, feed: LiveFeed, stream: Stream, rate: float) -> None:
        self._feed, self._stream = feed, stream
        self._callbacks: list[Callback] = []
        self._closed = False
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._throttle = Throttle(self._call_back, rate=rate, loop=loop) if loop is not None else None
        self.updates = 0
        """How many times the object changed (an update from the stream, a quote found stale, closed candles read
        again)."""

    @property
    def closed(self) -> bool:
        """True once closed (by :meth:`close` or with the session)."""
        return self._closed

    def on_update(self, callback: Callback) -> Callback:
        """Call ``callback(self)`` after updates; returns ``callback`` (usable as a decorator)."""
        if not callable(callback):
            raise checks.fail("callback", "must be callable", callback)
        self._callbacks.append(callback)
        return callback

    def remove_callback(self, callback: Callback) -> None:
        """Stop calling ``callback`` (no-op when it was not registered)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def close(self) -> None:
        """Stop updating (the feed unsubscribes when nothing else watches the symbol). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._throttle is not None:
            self._throttle.close()
        self._feed.detach(self._stream, self._sink)

    def _start(self, seed: Callable[[Any], Awaitable[None]] | None = None) -> None:
        """Listen to the stream, then ``await seed(connection)`` on the session's loop (the state it holds)."""
        self._feed.attach(self._stream, self._sink)
        connection = self._feed._connection
        if seed is not None and connection is not None:
            self._feed._session.run(seed(connection))

    def _sink(self, value: Any) -> None:
        if self._closed:
            return
        self._apply(value)
        self._changed()

    def _changed(self) -> None:
        """Count an update and call back (throttled to the maker's loop, or now)."""
        self.updates += 1
        if self._throttle is not None:
            self._throttle.poke()
        else:
            self._call_back()

    def _apply(self, value: Any) -> None:
        raise NotImplementedError

    def _call_back(self) -> None:
        for callback in list(self._callbacks):
            try:
                callback(self)
            except Exception:
                log.exception("an on_update callback of %r failed", self)


class LiveQuote(LiveObject):
    """The current quote of ``symbol``: ``bid``, ``ask``, ``spread``, ``time`` (UTC), ``broker_time`` (None until
    the first quote; a closed market's is its last one) and ``stale``."""

    def __init__(self, feed: LiveFeed, symbol: str, *, rate: float = DEFAULT_RATE) -> None:
        super().__init__(feed, Stream("quotes", symbol), rate)
        self.symbol = symbol
        """The symbol quoted."""
        self._last: tuple[float | None, float | None, datetime | None, str | None] = (None, None, None, None)
        self._watch = StaleWatch(feed._session, self._changed)
        self._start(self._seed)

    @property
    def stale(self) -> bool | None:
        """True when the market closed after this quote (a weekend's Friday quote), by the trade server's clock;
        None until checked (:class:`~mtdata.market_hours.StaleWatch`: on the first quote, then at least a minute
        apart and at each close)."""
        return self._watch.stale.get(self.symbol)

    def close(self) -> None:
        """Stop updating and checking staleness (idempotent)."""
        self._watch.close()
        super().close()

    async def _seed(self, connection: Any) -> None:
        """The connection's quote, waiting up to :data:`FIRST_QUOTE_TIMEOUT` for the first (a closed market's
        subscription still brings its last one); none by then leaves the values None until one comes."""
        try:
            price = await connection.terminal_state.wait_for_price(self.symbol, FIRST_QUOTE_TIMEOUT)
        except TimeoutException:
            return
        if self._last[2] is None:
            self._sink(price)

    def _apply(self, price: dict[str, Any]) -> None:
        self._last = (price.get("bid"), price.get("ask"), price.get("time"), price.get("brokerTime"))
        self._watch.note(price)

    def values(self) -> dict[str, Any]:
        """``bid``, ``ask``, ``spread``, ``time`` and ``broker_time`` of one quote (None before the first), read at
        once: attributes read one after another may come from two quotes while the feed moves on."""
        bid, ask, time, broker_time = self._last
        spread = None if bid is None or ask is None else round(ask - bid, 10)
        return {"bid": bid, "ask": ask, "spread": spread, "time": time, "broker_time": broker_time}

    @property
    def bid(self) -> float | None:
        """The bid price."""
        return self._last[0]

    @property
    def ask(self) -> float | None:
        """The ask price."""
        return self._last[1]

    @property
    def spread(self) -> float | None:
        """ask - bid (rounded to 10 decimals: no float noise), of one quote."""
        return self.values()["spread"]

    @property
    def time(self) -> datetime | None:
        """When the quote was made (UTC)."""
        return self._last[2]

    @property
    def broker_time(self) -> str | None:
        """The quote's time on the broker's clock, as the wire gives it."""
        return self._last[3]

    def __repr__(self) -> str:
        bid, ask, time, _ = self._last
        state = "closed" if self._closed else f"bid={bid} ask={ask} time={time.isoformat() if time else None}"
        return f"<LiveQuote {self.symbol} {state}>"


class LiveCandles(LiveObject):
    """Candles of ``symbol`` at ``timeframe``: ``df`` is the newest ``count`` candles (as
    ``Session.candles``), the last one forming and updated in place, new ones appended as they open.

    The stream sends the forming candle as it was at each step, so the last ticks of a minute may come only with
    the next candle: when a candle opens, the ones it closed are read again from the history API (a task on the
    session's loop), and :attr:`df` then holds them as the server keeps them (``on_update`` follows).
    """

    def __init__(
        self, session: Session, feed: LiveFeed, symbol: str, timeframe: str, *, count: int = DEFAULT_COUNT,
        rate: float = DEFAULT_RATE,
    ) -> None:  # fmt: skip
        tf = arguments.timeframe(timeframe)
        checks.integer("count", count, 1, arguments.MAX_CANDLES)
        super().__init__(feed, Stream("candles", symbol, tf), rate)
        self.symbol = symbol
        """The symbol of the candles."""
        self.timeframe = tf
        """The candles' timeframe in the wire's form: ``1m``, ``1h``... (MetaTrader's ``H1`` given becomes ``1h``)."""
        self.count = count
        """How many candles :attr:`df` keeps: the newest, the forming one included."""
        self._lock = threading.Lock()
        self._history = session.candles(symbol, tf, limit=count)
        self._columns = list(self._history.columns)
        self._live: dict[datetime, dict[str, Any]] = {}  # open time -> the newest wire candle, oldest first
        self._session = session
        self._newest: datetime | None = self._history.index[-1].to_pydatetime() if len(self._history) else None
        self._settling: set[asyncio.Task[None]] = set()
        self._start()

    def _apply(self, candle: dict[str, Any]) -> None:
        opened = candle["time"]
        with self._lock:
            if self._newest is not None and opened < self._newest:
                return  # late news of a candle already closed
            self._live[opened] = candle
            while len(self._live) > self.count:
                del self._live[next(iter(self._live))]
            closed, self._newest = self._newest, opened
        if closed is not None and opened > closed:
            task = asyncio.get_running_loop().create_task(self._settle(closed, opened))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    async def _settle(self, start: datetime, end: datetime) -> None:
        """Replace the candles opened in [start, end) (now closed) by the server's (on the session's loop)."""
        try:
            served = await self._session.candles_async(self.symbol, self.timeframe, start=start, end=end)
        except Exception:
            log.warning("reading the closed %s %s candles again failed", self.symbol, self.timeframe, exc_info=True)
            return
        if self._closed:
            return
        import pandas as pd

        with self._lock:
            for opened in served.index:
                self._live.pop(opened.to_pydatetime(), None)
            kept = self._history[(self._history.index < start) | (self._history.index >= end)]
            self._history = pd.concat([kept, served]).sort_index().iloc[-self.count :] if len(kept) else served
        self._changed()

    @property
    def df(self) -> pd.DataFrame:
        """The newest ``count`` candles, the last one forming: a new frame at each read (compute on it freely)."""
        import pandas as pd

        with self._lock:
            live, history = list(self._live.values()), self._history
        if not live:
            return history.copy()
        fresh = frames.df(live, "candles").reindex(columns=self._columns)
        fresh["symbol"] = fresh["symbol"].astype(history["symbol"].dtype)
        fresh = fresh.astype(history.dtypes.to_dict())
        older = history[history.index < fresh.index[0]]
        frame = pd.concat([older, fresh]) if len(older) else fresh
        frame = frame.iloc[-self.count :]
        frame.attrs["timeframe"] = self.timeframe
        return frame

    @property
    def forming(self) -> pd.Series:
        """The candle still forming (the last row of :attr:`df`)."""
        return self.df.iloc[-1]

    def __repr__(self) -> str:
        return f"<LiveCandles {self.symbol} {self.timeframe}, {'closed' if self._closed else 'live'}>"


class LiveData:
    """``s.live``: live data objects of a session (``quote``, ``candles``), closed with it (``s.close()``)."""

    def __init__(self, session: Session, feed: Callable[[], LiveFeed]) -> None:
        self._session, self._feed = session, feed
        self._objects: weakref.WeakSet[LiveObject] = weakref.WeakSet()

    def quote(self, symbol: str, *, rate: float = DEFAULT_RATE) -> LiveQuote:
        """``symbol``'s current quote, updated in place (``eurusd`` is the account's ``EURUSD``)."""
        return self._keep(LiveQuote(self._feed(), self._name(symbol), rate=rate))

    def candles(
        self, symbol: str, timeframe: str = "1m", *, count: int = DEFAULT_COUNT, rate: float = DEFAULT_RATE
    ) -> LiveCandles:
        """``symbol``'s newest ``count`` candles at ``timeframe`` as a frame (``.df``) that follows the market."""
        name = self._name(symbol)
        return self._keep(LiveCandles(self._session, self._feed(), name, timeframe, count=count, rate=rate))

    @property
    def open(self) -> list[LiveObject]:
        """The objects made here that are still live."""
        return [obj for obj in list(self._objects) if not obj.closed]

    def close(self) -> None:
        """Close every live object (idempotent)."""
        for obj in self.open:
            obj.close()

    def _name(self, symbol: str) -> str:
        """``symbol`` as the account spells it (or UnknownSymbol suggesting the closest)."""
        return self._session.run(self._session._symbol("symbol", symbol))[1]

    def _keep(self, obj: L) -> L:
        self._objects.add(obj)
        return obj
