"""The sandbox process of the panels benchmark: a sandbox whose market holds still, and a ``feed`` socket event.

``python -m benchmarks.panels_feed DIR`` starts a sandbox (clock pinned to a weekday), freezes the
simulated prices of the fed symbols (so its own streaming loop sends nothing new), and registers the
benchmark-only event ``feed``: ``{"accountId", "symbols", "rate", "seconds"}`` sends ``rate`` price updates
per second for ``seconds`` to the account's synchronized streams, every ``PERIOD`` one ``prices`` packet
with the prices due (the symbols in turn, each a random walk of its bid), plus what the stream subscribed
for those symbols: the ticks of those prices, the forming candle of each subscribed timeframe, the book.
A stream whose socket has more than ``MAX_BACKLOG`` packets queued gets nothing until it drains (counted
as skipped). The event's answer: prices delivered and skipped, packets, the market clock's offset from the
wall clock, and the market time of the last price of each symbol.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from typing import Any

from benchmarks.common import WEEKDAY, serve_child_sandbox
from mtdata.sandbox.market.clock import timeframe_ms
from mtdata.sandbox.timeutil import iso_ms

PERIOD = 0.01
MAX_BACKLOG = 500


class Quote:
    """One fed symbol: its bid walks a point at a time (spread held); forming candles and book follow it."""

    def __init__(self, market: Any, symbol: str, rng: random.Random) -> None:
        self.market, self.symbol, self.rng = market, symbol, rng
        self.template = market.price(symbol)
        self.digits = int(market.specification(symbol)["digits"])
        self.point = 10.0**-self.digits
        self.bid = self.first_bid = self.template["bid"]
        self.spread = round(self.template["ask"] - self.bid, self.digits)
        self.book_template = market.book(symbol)
        self.candles: dict[str, dict[str, Any]] = {}

    def step(self, now_ms: int, stamps: dict[str, Any]) -> dict[str, Any]:
        """The next price (a wire price at market time ``now_ms``); the forming candles take it in."""
        self.bid = round(self.bid + self.rng.choice((-1, 1)) * self.point, self.digits)
        ask = round(self.bid + self.spread, self.digits)
        for timeframe, candle in self.candles.items():
            self._advance(candle, timeframe, now_ms)
        return {**self.template, "bid": self.bid, "ask": ask, **stamps}

    def candle(self, timeframe: str, now_ms: int) -> dict[str, Any]:
        """The forming candle of ``timeframe`` (started from the market's own forming candle)."""
        if timeframe not in self.candles:
            self.candles[timeframe] = dict(self.market.candle(self.symbol, timeframe))
            self._advance(self.candles[timeframe], timeframe, now_ms)
        return dict(self.candles[timeframe])

    def _advance(self, candle: dict[str, Any], timeframe: str, now_ms: int) -> None:
        step = timeframe_ms(timeframe)
        opened = now_ms - now_ms % step
        if iso_ms(opened) != candle["time"]:
            candle.update(time=iso_ms(opened), brokerTime=self.market.broker_time(opened), open=candle["close"],
                          high=candle["close"], low=candle["close"], tickVolume=0, volume=0)  # fmt: skip
        candle.update(close=self.bid, high=max(candle["high"], self.bid), low=min(candle["low"], self.bid))
        candle["tickVolume"] += 1

    def book(self, stamps: dict[str, Any]) -> dict[str, Any]:
        """The book of the first quote, shifted by how far the bid moved since."""
        shift = self.bid - self.first_bid
        levels = [
            {**level, "price": round(level["price"] + shift, self.digits)} for level in self.book_template["book"]
        ]
        return {**self.book_template, "book": levels, "time": stamps["time"], "brokerTime": stamps["brokerTime"]}


class Feeder:
    """The ``feed`` event: paced price updates into an account's synchronized streams."""

    def __init__(self, hub: Any, market: Any) -> None:
        self.hub, self.market = hub, market
        self.rng = random.Random(7)

    async def feed(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send ``rate`` prices a second for ``seconds``; answer what was delivered."""
        account, symbols = str(data["accountId"]), [str(s) for s in data["symbols"]]
        rate, seconds = float(data["rate"]), float(data["seconds"])
        quotes = {symbol: Quote(self.market, symbol, self.rng) for symbol in symbols}
        loop = asyncio.get_running_loop()
        total, done, packets, delivered, skipped = int(rate * seconds), 0, 0, 0, 0
        last: dict[str, int] = {}
        first: int | None = None  # market ms of the first price sent: what a panel showed before it is not this feed's
        started = loop.time()
        while done < total:
            due = min(total, int((loop.time() - started) * rate) + 1)
            if due > done:
                now = self.market.now_ms()
                wall = iso_ms(int(time.time() * 1000))
                stamps = {"time": iso_ms(now), "brokerTime": self.market.broker_time(now),
                          "timestamps": {"eventGenerated": wall, "serverProcessingStarted": wall,
                                         "serverProcessingFinished": wall}}  # fmt: skip
                moved = [symbols[n % len(symbols)] for n in range(done, due)]
                prices = [quotes[symbol].step(now, stamps) for symbol in moved]
                for conn, stream in [(c, s) for c, s in self.hub._subscribed(account) if s.synchronized]:
                    if self.hub.backlog(conn.sid) > MAX_BACKLOG:
                        skipped += len(prices)
                        continue
                    await self.hub.send(conn, stream, self._packet(stream, quotes, prices, now, stamps))
                    packets, delivered = packets + 1, delivered + len(prices)
                    last.update((symbol, now) for symbol in moved)
                    first = now if first is None else first
                done = due
            await asyncio.sleep(PERIOD)
        offset = self.market.now_ms() - int(time.time() * 1000)
        return {"prices": delivered, "skipped": skipped, "packets": packets, "seconds": loop.time() - started,
                "offsetMs": offset, "last": last, "firstMs": first}  # fmt: skip

    def _packet(
        self, stream: Any, quotes: dict[str, Quote], prices: list[dict[str, Any]], now: int, stamps: dict[str, Any]
    ) -> dict[str, Any]:
        """A ``prices`` packet: the prices, and the ticks, candles and books the stream subscribed for them."""
        body: dict[str, Any] = {**stream.header("prices"), "prices": prices}
        symbols = {price["symbol"] for price in prices}
        for symbol in symbols & set(stream.market):
            for sub in stream.market[symbol]:
                if sub.type == "ticks":
                    ticks = [{"symbol": symbol, "time": p["time"], "brokerTime": p["brokerTime"], "bid": p["bid"],
                              "ask": p["ask"], "volume": 1.0} for p in prices if p["symbol"] == symbol]  # fmt: skip
                    body.setdefault("ticks", []).extend(ticks)
                elif sub.type == "candles":
                    body.setdefault("candles", []).append(quotes[symbol].candle(sub.timeframe or "1m", now))
                elif sub.type == "marketDepth":
                    body.setdefault("books", []).append(quotes[symbol].book(stamps))
        figures = self.hub.figures_of(stream.account_id)
        if figures:
            body.update({k: figures[k] for k in ("equity", "margin", "freeMargin", "marginLevel")})
        return body


def serve(data_dir: str, symbols: list[str]) -> None:
    """Run the sandbox with the ``feed`` event until killed; write ``feed.json`` once it listens."""
    from mtdata.sandbox import start

    handle = start(data_dir=data_dir, start=WEEKDAY)
    server = handle.server
    market = server.market

    async def hold_still() -> None:
        now = market.now_ms()
        for symbol in symbols:
            quote = market.price(symbol)
            market.force_path(
                symbol, [(now - 1000, quote["bid"], quote["ask"]), (now + 10**9, quote["bid"], quote["ask"])]
            )

    handle.call(hold_still())
    server.sio.on("feed", Feeder(server.hub, market).feed)  # type: ignore[union-attr]
    serve_child_sandbox(handle, data_dir, "feed.json")


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2].split(","))
