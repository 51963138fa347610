"""Market-data subscriptions and streaming (protocol §5.3, §7.5) at a high market speed, so the tests are quick."""

from __future__ import annotations

import itertools
import json

import aiohttp
import pytest
from test_realtime_helpers import WEEKDAY, Wire, on_server

from mtdata.sandbox.timeutil import parse_iso_ms


@pytest.fixture
def fast(mtdata_sandbox_factory):
    """A sandbox whose market runs 1000 times faster than the wall clock, from a Wednesday (FX open on any day)."""
    return mtdata_sandbox_factory(speed=1000, start="2026-11-18T09:00:00Z")


@pytest.fixture
async def wire(fast, sio_connect) -> Wire:
    wire = await Wire.connect(sio_connect, fast)
    await wire.subscribe()
    return wire


def prices_of(wire: Wire, symbol: str) -> list[dict]:
    """``prices`` packets carrying a price of ``symbol``."""
    return [p for p in wire.of_type("prices") if any(q["symbol"] == symbol for q in p["prices"])]


async def test_quotes_stream_after_an_immediate_first_price(wire: Wire) -> None:
    await wire.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    first = (await wire.until(lambda: prices_of(wire, "EURUSD")))[0]
    assert "synchronizationId" not in first and first["host"] == "ps-mpa-0"
    assert {"equity", "margin", "freeMargin", "marginLevel"} <= set(first)
    price = first["prices"][0]
    assert price["ask"] >= price["bid"] > 0 and parse_iso_ms(price["time"], "time")
    assert set(price["timestamps"]) == {"eventGenerated", "serverProcessingStarted", "serverProcessingFinished"}
    await wire.until(lambda: len(prices_of(wire, "EURUSD")) >= 5)
    times = [parse_iso_ms(p["prices"][0]["time"], "time") for p in prices_of(wire, "EURUSD")]
    assert times == sorted(times)


async def test_prices_after_synchronization_are_numbered(wire: Wire) -> None:
    _, packets = await wire.synchronize()
    await wire.ok("subscribeToMarketData", symbol="EURUSD", subscriptions=[{"type": "quotes"}], instanceIndex=0)
    await wire.until(lambda: len(prices_of(wire, "EURUSD")) >= 3)
    numbers = [p["sequenceNumber"] for p in wire.packets if "sequenceNumber" in p]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert prices_of(wire, "EURUSD")[0]["sequenceNumber"] == packets[-1]["sequenceNumber"] + 1


async def test_interval_is_honoured(wire: Wire) -> None:
    interval = 150
    subscription = {"type": "quotes", "intervalInMilliseconds": interval}
    await wire.ok("subscribeToMarketData", symbol="EURUSD", subscriptions=[subscription], instanceIndex=0)
    await wire.until(lambda: len(prices_of(wire, "EURUSD")) >= 5)
    started = [parse_iso_ms(p["prices"][0]["timestamps"]["serverProcessingStarted"], "t") for p in
               prices_of(wire, "EURUSD")]  # fmt: skip
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert min(gaps) >= interval - 20, gaps


async def test_candles_ticks_and_books(wire: Wire, fast) -> None:
    subscriptions = [{"type": "candles", "timeframe": "1m"}, {"type": "ticks"}, {"type": "marketDepth"}]
    await wire.ok("subscribeToMarketData", symbol="GBPUSD", subscriptions=subscriptions, instanceIndex=0)
    await wire.until(lambda: [p for p in wire.of_type("prices") if p.get("candles") and p.get("ticks")])
    await wire.until(lambda: [p for p in wire.of_type("prices") if p.get("books")])
    packet = next(p for p in wire.of_type("prices") if p.get("candles"))
    assert packet["candles"][0]["symbol"] == "GBPUSD" and packet["candles"][0]["timeframe"] == "1m"
    ticks = [t for p in wire.of_type("prices") for t in p.get("ticks", [])]
    stamps = [parse_iso_ms(t["time"], "time") for t in ticks]
    assert stamps == sorted(stamps)  # none out of order

    async def market_ticks() -> list[dict]:
        return fast.server.market.ticks_between("GBPUSD", stamps[0] - 1, stamps[-1])

    assert ticks == await on_server(fast, market_ticks())  # every tick of the span, none twice
    book = next(p for p in wire.of_type("prices") if p.get("books"))["books"][0]
    assert book["symbol"] == "GBPUSD" and book["book"]


async def test_unsubscribe_stops_only_that_symbol(wire: Wire) -> None:
    await wire.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    await wire.ok("subscribeToMarketData", symbol="GBPUSD", instanceIndex=0)
    await wire.until(lambda: len(prices_of(wire, "EURUSD")) >= 2)
    await wire.ok("unsubscribeFromMarketData", symbol="EURUSD", subscriptions=[{"type": "quotes"}], instanceIndex=0)
    eurusd, gbpusd = len(prices_of(wire, "EURUSD")), len(prices_of(wire, "GBPUSD"))
    await wire.until(lambda: len(prices_of(wire, "GBPUSD")) >= gbpusd + 5)
    assert len(prices_of(wire, "EURUSD")) == eurusd
    await wire.ok("unsubscribeFromMarketData", symbol="GBPUSD", instanceIndex=0)
    count = len(wire.of_type("prices"))
    for _ in range(5):
        await wire.ok("getServerTime", application="RPC")
    assert len(wire.of_type("prices")) == count


async def test_refresh_replaces_the_subscriptions(wire: Wire) -> None:
    await wire.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    await wire.until(lambda: prices_of(wire, "EURUSD"))
    await wire.ok("refreshMarketDataSubscriptions", instanceIndex=0,
                  subscriptions=[{"symbol": "GBPUSD", "subscriptions": [{"type": "quotes"}]}])  # fmt: skip
    eurusd = len(prices_of(wire, "EURUSD"))
    await wire.until(lambda: len(prices_of(wire, "GBPUSD")) >= 3)
    assert len(prices_of(wire, "EURUSD")) == eurusd
    await wire.ok("refreshMarketDataSubscriptions", instanceIndex=0, subscriptions=[])


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"symbol": "NOPE"}, "symbol"),
        ({}, "symbol"),
        ({"symbol": "EURUSD", "subscriptions": [{"type": "news"}]}, "subscriptions[0].type"),
        ({"symbol": "EURUSD", "subscriptions": [{"type": "candles"}]}, "subscriptions[0].timeframe"),
        ({"symbol": "EURUSD", "subscriptions": [{"type": "quotes", "intervalInMilliseconds": -5}]},
         "subscriptions[0].intervalInMilliseconds"),
        ({"symbol": "EURUSD", "subscriptions": "quotes"}, "subscriptions"),
    ],
)  # fmt: skip
async def test_bad_subscriptions_are_validation_errors(wire: Wire, fields: dict, parameter: str) -> None:
    answer = await wire.error("subscribeToMarketData", instanceIndex=0, **fields)
    assert answer["error"] == "ValidationError" and answer["details"][0]["parameter"] == parameter
    assert not prices_of(wire, "EURUSD")


async def test_a_stuck_client_does_not_stall_the_others(fast, sio_connect) -> None:
    """A long-polling client that subscribes and then never polls again: the others keep streaming."""
    base = f"{fast.url}/ws/?EIO=3&transport=polling&b64=1&auth-token={fast.token}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as opened:
            handshake = await opened.text()
        sid = json.loads(handshake[handshake.index("{") : handshake.rindex("}") + 1])["sid"]
        for request_type, fields in (("subscribe", {"sessionId": "stuck"}),
                                     ("subscribeToMarketData", {"symbol": "EURUSD",
                                                                "subscriptions": [{"type": "ticks"}]})):  # fmt: skip
            request = {"type": request_type, "requestId": request_type, "accountId": fast.account_id,
                       "instanceIndex": 0, **fields}  # fmt: skip
            message = "42" + json.dumps(["request", request])
            async with http.post(f"{base}&sid={sid}", data=f"{len(message)}:{message}") as posted:
                assert posted.status == 200
        healthy = await Wire.connect(sio_connect, fast)
        await healthy.subscribe()
        await healthy.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
        await healthy.until(lambda: len(prices_of(healthy, "EURUSD")) >= 20)
        assert fast.server.hub.backlog(sid) >= 10  # the stuck client's prices pile up on its own queue


async def test_unthrottled_quotes_send_every_tick_in_its_own_packet(wire: Wire, fast) -> None:
    unthrottled = [{"type": "quotes", "intervalInMilliseconds": 0}]
    await wire.ok("subscribeToMarketData", symbol="EURUSD", subscriptions=unthrottled, instanceIndex=0)
    await wire.until(lambda: len(prices_of(wire, "EURUSD")) >= 30)
    streamed = prices_of(wire, "EURUSD")[1:]  # the first is the price pushed on subscribe
    assert all(len(p["prices"]) == 1 for p in streamed)
    quotes = [p["prices"][0] for p in streamed]
    stamps = [parse_iso_ms(q["time"], "time") for q in quotes]

    async def market_ticks() -> list[dict]:
        return fast.server.market.ticks_between("EURUSD", stamps[0] - 1, stamps[-1])

    ticks = await on_server(fast, market_ticks())
    assert [(q["bid"], q["ask"], q["time"]) for q in quotes] == [(t["bid"], t["ask"], t["time"]) for t in ticks]
    # latency stamps are wall-clock: eventGenerated is the wall instant the market clock showed the tick's time
    market = fast.server.market
    assert all(
        parse_iso_ms(q["timestamps"]["eventGenerated"], "t") == market.wall_ms(parse_iso_ms(q["time"], "t"))
        for q in quotes
    )


def _backwards(wire: Wire) -> list[tuple[str, str, str]]:
    """Each price older than the one of its symbol before it on this socket, as (symbol, before, after)."""
    last: dict[tuple[int, str], str] = {}
    found = []
    for packet in wire.of_type("prices"):
        for price in packet["prices"]:
            key = (packet["instanceIndex"], price["symbol"])
            if key in last and price["time"] < last[key]:
                found.append((price["symbol"], last[key], price["time"]))
            last[key] = price["time"]
    return found


async def test_prices_never_go_back_in_time_across_subscriptions(mtdata_sandbox_factory, sio_connect) -> None:
    """150 subscriptions at speed 50, each waiting for its first streamed price after the one pushed with it, while
    another socket keeps the symbols followed: per socket and symbol, no price is older than the one before it."""
    box = mtdata_sandbox_factory(speed=50, start=WEEKDAY)
    steady, churn = [Wire(await sio_connect(box.url, box.token), box.account_id) for _ in range(2)]
    symbols = ("EURUSD", "GBPUSD", "USDJPY")
    await steady.subscribe()
    await churn.subscribe()
    for symbol in symbols:
        await steady.ok("subscribeToMarketData", symbol=symbol, instanceIndex=0)
    kinds = ([{"type": "quotes"}], [{"type": "quotes", "intervalInMilliseconds": 0}],
             [{"type": "quotes", "intervalInMilliseconds": 40}])  # fmt: skip
    for i in range(150):
        symbol = symbols[i % len(symbols)]
        before = len(prices_of(churn, symbol))
        await churn.ok("subscribeToMarketData", symbol=symbol, subscriptions=kinds[i // 3 % 3], instanceIndex=0)
        await churn.until(lambda s=symbol, n=before: len(prices_of(churn, s)) >= n + 2)
        await churn.ok("unsubscribeFromMarketData", symbol=symbol, instanceIndex=0)
    assert len(churn.of_type("prices")) >= 300
    assert _backwards(churn) == [] and _backwards(steady) == []
