"""LatencyMonitor on real sandbox timestamps: responses, a trade, its update packet and streamed prices.

A bare socket client (the sandbox tests' ``Wire``) plays the transport's part: it converts dates (protocol §9.1),
stamps ``clientProcessingFinished`` on receipt and feeds the monitor, as the WebsocketClient does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_latency_helpers import wait_for

from mtdata.client.dates import convert_dates, iso_ms
from mtdata.client.monitoring.latency_monitor import LatencyMonitor

sys.path.insert(0, str(Path(__file__).parents[1] / "sandbox"))
from test_realtime_helpers import WEEKDAY, Wire


def now() -> datetime:
    return datetime.now(UTC)


def figures(report: dict) -> dict:
    """The 1h window of each metric."""
    return {metric: windows["1h"] for metric, windows in report.items()}


def assert_sensible(window: dict, offset: float = 0) -> None:
    """Measured, whole milliseconds, non-negative (after ``offset``), percentiles ordered."""
    assert window["count"] > 0, window
    assert isinstance(window["min"], int) and window["min"] + offset >= 0, window
    ordered = [window[k] for k in ("min", "p50", "p75", "p90", "p95", "p98", "max")]
    assert ordered == sorted(ordered), window


@pytest.fixture
def box(mtdata_sandbox_factory):
    return mtdata_sandbox_factory(start=WEEKDAY)


async def test_latencies_of_a_real_session(box, sio_connect) -> None:
    monitor = LatencyMonitor()
    wire = await Wire.connect(sio_connect, box)
    await wire.subscribe()
    await wire.synchronize()

    async def rpc(request_type: str, **fields) -> dict:
        started = now()
        answer = convert_dates(await wire.ok(request_type, timestamps={"clientProcessingStarted": iso_ms(started)},
                                             **fields))  # fmt: skip
        stamps = {"clientProcessingStarted": started, **answer["timestamps"], "clientProcessingFinished": now()}
        await monitor.on_response(box.account_id, request_type, stamps)
        return stamps

    for _ in range(3):
        await rpc("getAccountInformation", application="RPC")
    stamps = await rpc("trade", trade={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01})
    await monitor.on_trade(box.account_id, stamps)
    update = convert_dates((await wire.until(lambda: wire.of_type("update")))[0])
    await monitor.on_update(box.account_id, {**update["timestamps"], "clientProcessingFinished": now()})

    await wire.ok("subscribeToMarketData", symbol="EURUSD", subscriptions=[{"type": "quotes"}], instanceIndex=0)
    await wire.until(lambda: sum(len(p["prices"]) for p in wire.of_type("prices")) >= 3)
    for packet in wire.of_type("prices"):
        for price in convert_dates(packet)["prices"]:
            stamps = {**price["timestamps"], "clientProcessingFinished": now()}
            await monitor.on_symbol_price(box.account_id, price["symbol"], stamps)

    requests = monitor.request_latencies()
    assert set(requests) == {"getAccountInformation", "trade"}
    for request_type in requests:
        for window in figures(requests[request_type]).values():
            assert_sensible(window)
    assert requests["getAccountInformation"]["serverLatency"]["1h"]["count"] == 3
    for window in figures(monitor.trade_latencies()).values():
        assert_sensible(window)
    for window in figures(monitor.update_latencies()).values():
        assert_sensible(window)
    prices = figures(monitor.price_latencies())
    assert_sensible(prices["serverLatency"])
    assert_sensible(prices["clientLatency"])
    # eventGenerated is the wall-clock instant of the tick even with the market clock pinned to a Wednesday;
    # a quote may be a few milliseconds younger than the server's step start: a generous margin, never flaky
    assert_sensible(prices["brokerLatency"], offset=1000)


async def test_a_streaming_connection_feeds_the_monitor(make_api, sandbox) -> None:
    api = make_api(enableLatencyTracking=True)
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = account.get_streaming_connection()
    await connection.connect()
    try:
        await connection.wait_synchronized({"timeoutInSeconds": 30})
        await connection.subscribe_to_market_data("EURUSD")
        monitor = api.latency_monitor
        await wait_for(lambda: monitor.price_latencies()["clientLatency"]["1h"]["count"] >= 2)
    finally:
        await connection.close()
    for window in figures(monitor.price_latencies()).values():
        assert window["count"] >= 2 and window["min"] is not None
    assert_sensible(monitor.price_latencies()["serverLatency"]["1h"])
    assert_sensible(monitor.price_latencies()["clientLatency"]["1h"])
    requests = monitor.request_latencies()
    assert {"subscribe", "synchronize", "subscribeToMarketData"} <= set(requests)
    for request_type in ("subscribe", "synchronize", "subscribeToMarketData"):
        for window in figures(requests[request_type]).values():
            assert_sensible(window)
