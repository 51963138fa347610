"""Market-data subscriptions (§5.3) and the one loop that streams ``prices`` packets to every subscriber (§7.5).

The loop wakes every ``period`` seconds, asks the market once per subscribed symbol for
the ticks since its last wake-up, and builds one ``prices`` packet per stream (quotes,
forming candles, ticks, books, account figures), honouring each subscription's
``intervalInMilliseconds``; quotes subscribed with ``intervalInMilliseconds: 0`` (no
throttling) get one packet per tick instead, in tick order. Emitting only queues the packet on the socket, so a slow
client never stalls the loop; a client whose queue is too long is skipped until it
catches up (it then gets the newest data, ticks included).

A symbol's prices never go back in time on a stream: every price is taken at one market time per
step (or per push), and a stream records the time its prices of each symbol are up to
(:attr:`Stream.prices_through`). The price pushed on subscribe is taken at the moment of the
request, later than the step's time and than ticks the step fetched for streams that already
followed the symbol; those older prices are not sent after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..timeutil import iso_ms, now_ms, parse_iso_ms
from . import fields
from .calls import STREAMING, Call, route
from .streams import MARKET_DATA_TYPES, Connection, MarketSubscription, Stream

if TYPE_CHECKING:
    from . import Hub

log = logging.getLogger("mtdata.sandbox.realtime")

#: Queued packets beyond which a socket gets no market data until it drains.
MAX_BACKLOG = 2000
#: Ticks kept for a ticks subscription that is waiting for its interval or a slow socket.
MAX_PENDING_TICKS = 10_000
#: Longest accepted ``intervalInMilliseconds`` (one hour).
MAX_INTERVAL_MS = 3_600_000


def _subscription(raw: Any, name: str) -> MarketSubscription:
    if not isinstance(raw, dict):
        raise ValidationError.field(name, "must be an object", raw)
    with fields.nested(name):
        kind = fields.text(raw, "type", max_length=32)
        if kind not in MARKET_DATA_TYPES:
            raise ValidationError.field("type", f"must be one of {', '.join(MARKET_DATA_TYPES)}", kind)
        timeframe = fields.timeframe(raw) if kind == "candles" or raw.get("timeframe") is not None else None
        interval = fields.integer(raw, "intervalInMilliseconds", -1, maximum=MAX_INTERVAL_MS)
    return MarketSubscription(kind or "", timeframe, None if interval < 0 else interval)


def parse_subscriptions(request: dict[str, Any], name: str, required: bool) -> list[MarketSubscription] | None:
    """The ``subscriptions`` array of a market-data request (None when absent and not required)."""
    if request.get(name) is None and not required:
        return None
    raw = fields.array(request, name, required=required, max_items=32)
    return [_subscription(item, f"{name}[{i}]") for i, item in enumerate(raw)]


def _key(sub: MarketSubscription) -> tuple[str, str | None]:
    return sub.type, sub.timeframe


@route("subscribeToMarketData", STREAMING)
async def subscribe_to_market_data(call: Call) -> None:
    """Add subscriptions for a symbol; its current price is pushed right after the response."""
    symbol = fields.symbol(call.request, call.market)
    subscriptions = parse_subscriptions(call.request, "subscriptions", required=False)
    if not subscriptions:
        subscriptions = [MarketSubscription("quotes")]
    stream = call.stream
    merged = {_key(s): s for s in stream.market.get(symbol, [])}
    merged.update({_key(s): s for s in subscriptions})
    stream.market[symbol] = list(merged.values())
    call.hub.feed.watch(symbol)
    call.after.append(lambda: call.hub.feed.push_prices(call.conn, [stream], [symbol]))


@route("unsubscribeFromMarketData", STREAMING)
async def unsubscribe_from_market_data(call: Call) -> None:
    """Drop the listed subscription types of a symbol, or all of them."""
    symbol = fields.symbol(call.request, call.market)
    raw = fields.array(call.request, "subscriptions", required=False, max_items=32)
    drops = [_subscription(item, f"subscriptions[{i}]") for i, item in enumerate(raw)]
    stream = call.stream
    kept = [s for s in stream.market.get(symbol, []) if drops and not any(
        d.type == s.type and d.timeframe in (None, s.timeframe) for d in drops)]  # fmt: skip
    if kept:
        stream.market[symbol] = kept
    else:
        stream.market.pop(symbol, None)


@route("refreshMarketDataSubscriptions", STREAMING)
async def refresh_market_data_subscriptions(call: Call) -> None:
    """Replace the stream's market-data subscriptions with the client's full list."""
    entries = fields.array(call.request, "subscriptions", required=False, max_items=1000)
    replacement: dict[str, list[MarketSubscription]] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValidationError.field(f"subscriptions[{i}]", "must be an object", entry)
        with fields.nested(f"subscriptions[{i}]"):
            symbol = fields.symbol(entry, call.market)
            subs = parse_subscriptions(entry, "subscriptions", required=False) or [MarketSubscription("quotes")]
        replacement[symbol] = subs
    stream = call.stream
    stream.market = replacement
    for symbol in replacement:
        call.hub.feed.watch(symbol)


class MarketFeed:
    """The hub's single streaming loop."""

    def __init__(self, hub: Hub, period: float = 0.02) -> None:
        self.hub = hub
        self.period = period
        self._last_ms: dict[str, int] = {}

    def watch(self, symbol: str) -> None:
        """Start following a symbol from now (its first price is pushed by the subscriber)."""
        self._last_ms.setdefault(symbol, self.hub.server.market.now_ms())

    async def run(self) -> None:
        """Step forever, one step per ``period``."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("market-data step failed")
            await asyncio.sleep(max(0.001, self.period - (loop.time() - started)))

    def _streams(self) -> list[tuple[Connection, Stream]]:
        return [(conn, stream) for conn in list(self.hub.connections.values())
                for stream in conn.streams.values() if stream.market]  # fmt: skip

    def _new_ticks(self, symbols: set[str], now: int) -> dict[str, list[dict[str, Any]]]:
        market = self.hub.server.market
        for symbol in list(self._last_ms):
            if symbol not in symbols:
                del self._last_ms[symbol]
        changes: dict[str, list[dict[str, Any]]] = {}
        for symbol in symbols:
            last = self._last_ms.setdefault(symbol, now)
            if now <= last:
                continue
            self._last_ms[symbol] = now
            if not market.in_quote_session(symbol, now):
                continue
            ticks = market.ticks_between(symbol, last, now)
            if ticks:
                changes[symbol] = ticks
        return changes

    async def step(self) -> None:
        """Fetch new ticks once per symbol and send each due stream its packet."""
        streams = self._streams()
        now = self.hub.server.market.now_ms()
        changes = self._new_ticks({symbol for _, stream in streams for symbol in stream.market}, now)
        if not streams:
            return
        builder = _PacketBuilder(self.hub, time.monotonic(), now, self.period * 500)
        for conn, stream in streams:
            if self.hub.backlog(conn.sid) > MAX_BACKLOG:
                for symbol, subs in stream.market.items():
                    _mark(subs, changes.get(symbol))
                continue
            for packet in builder.build(stream, changes):
                await self.hub.send(conn, stream, packet)

    async def push_prices(self, conn: Connection, streams: list[Stream], symbols: list[str]) -> None:
        """Send each stream a ``prices`` packet with the current price of ``symbols`` (subscribe, refresh)."""
        builder = _PacketBuilder(self.hub, time.monotonic(), self.hub.server.market.now_ms())
        for stream in streams:
            prices = [builder.price(symbol, stream) for symbol in symbols]
            for symbol in symbols:
                builder.sent_through(stream, symbol)
                for sub in stream.market.get(symbol, []):
                    if sub.type == "quotes":
                        sub.last_sent, sub.dirty = builder.wall, False
            await self.hub.send(conn, stream, builder.finish(stream, {"prices": prices}))


def _mark(subs: list[MarketSubscription], ticks: list[dict[str, Any]] | None) -> None:
    if not ticks:
        return
    for sub in subs:
        sub.dirty = True
        if sub.type == "ticks":
            sub.pending_ticks.extend(ticks)
            del sub.pending_ticks[:-MAX_PENDING_TICKS]


class _PacketBuilder:
    """Builds ``prices`` packets for one loop step, computing each price, candle, book and account figure once.

    Prices are taken at market time ``at_ms`` (the step's, the one its ticks run up to).
    """

    def __init__(self, hub: Hub, wall: float, at_ms: int, tolerance_ms: float = 0.0) -> None:
        self.hub = hub
        self.market = hub.server.market
        self.wall = wall
        self.at_ms = at_ms
        self.at = iso_ms(at_ms)
        self.tolerance_ms = tolerance_ms
        self.started = iso_ms(now_ms())
        self._cache: dict[tuple[str, ...], Any] = {}

    def _cached(self, key: tuple[str, ...], make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _wall_iso(self, market_time: str) -> str:
        """A market-clock time as the wall-clock ISO instant it was generated at (latency stamps are wall-clock)."""
        return iso_ms(self.market.wall_ms(parse_iso_ms(market_time, "time")))

    def price(self, symbol: str, stream: Stream) -> dict[str, Any]:
        currency = self.hub.currency_of(stream.account_id)

        def make() -> dict[str, Any]:
            price = dict(self.market.price(symbol, self.at_ms, currency))
            price["timestamps"] = {
                "eventGenerated": self._wall_iso(price["time"]),
                "serverProcessingStarted": self.started,
                "serverProcessingFinished": iso_ms(now_ms()),
            }
            return price

        return self._cached(("price", symbol, currency), make)

    def tick_price(self, symbol: str, stream: Stream, tick: dict[str, Any]) -> dict[str, Any]:
        """The price as of one tick (tick values from the current quote; they barely move between ticks)."""
        price = {**self.price(symbol, stream), "bid": tick.get("bid"), "ask": tick.get("ask"), "time": tick["time"],
                 "brokerTime": tick["brokerTime"]}  # fmt: skip
        price["timestamps"] = {**price["timestamps"], "eventGenerated": self._wall_iso(tick["time"])}
        return price

    def sent_through(self, stream: Stream, symbol: str) -> None:
        """Record that ``stream`` has been sent ``symbol``'s prices up to this builder's market time."""
        if stream.prices_through.get(symbol, "") < self.at:
            stream.prices_through[symbol] = self.at

    def build(self, stream: Stream, changes: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """The stream's packets for this step: one per tick of unthrottled quotes, then one with the rest.

        A stream already sent a later price of a symbol (pushed on subscribe while this step ran) gets
        only the ticks after it, and its quotes wait for the next step.
        """
        body: dict[str, list[Any]] = {}
        tick_prices: list[dict[str, Any]] = []
        for symbol, subs in stream.market.items():
            ticks = changes.get(symbol)
            _mark(subs, ticks)
            through = stream.prices_through.get(symbol, "")
            for sub in subs:
                if not sub.dirty or not sub.due(self.wall, self.tolerance_ms):
                    continue
                if sub.type == "quotes" and through > self.at:
                    sub.dirty = False  # the price pushed on subscribe is newer than anything of this step
                    continue
                sub.dirty = False
                sub.last_sent = self.wall
                if sub.every_tick and ticks:
                    fresh = [tick for tick in ticks if tick["time"] > through]
                    tick_prices.extend(self.tick_price(symbol, stream, tick) for tick in fresh)
                    self.sent_through(stream, symbol)
                elif sub.type == "quotes":
                    body.setdefault("prices", []).append(self.price(symbol, stream))
                    self.sent_through(stream, symbol)
                elif sub.type == "candles":
                    timeframe = sub.timeframe or "1m"
                    candle = self._cached(("candle", symbol, timeframe),
                                          lambda s=symbol, t=timeframe: self.market.candle(s, t))  # fmt: skip
                    body.setdefault("candles", []).append(candle)
                elif sub.type == "ticks":
                    body.setdefault("ticks", []).extend(sub.pending_ticks)
                    sub.pending_ticks = []
                elif sub.type == "marketDepth":
                    book = self._cached(("book", symbol), lambda s=symbol: self.market.book(s))
                    body.setdefault("books", []).append(book)
        tick_prices.sort(key=lambda price: price["time"])
        packets = [self.finish(stream, {"prices": [price]}) for price in tick_prices]
        if body:
            body.setdefault("prices", [])
            packets.append(self.finish(stream, body))
        return packets

    def finish(self, stream: Stream, body: dict[str, Any]) -> dict[str, Any]:
        """Header, data and the account's equity/margin figures."""
        figures = self._cached(("figures", stream.account_id), lambda: self.hub.figures_of(stream.account_id))
        packet = stream.header("prices")
        packet.update(body)
        if figures:
            packet.update({k: figures[k] for k in ("equity", "margin", "freeMargin", "marginLevel")})
        return packet
