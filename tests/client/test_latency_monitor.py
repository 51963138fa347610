"""LatencyMonitor (protocol §8): each formula, the report structure, windows and the "both timestamps" rule."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from test_latency_helpers import FakeClock

from mtdata.client import MetaApi
from mtdata.client.monitoring.latency_monitor import LatencyMonitor

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
STATS = {"p50", "p75", "p90", "p95", "p98", "avg", "count", "min", "max"}


def at(ms: float) -> datetime:
    """T0 plus ``ms`` milliseconds."""
    return T0 + timedelta(milliseconds=ms)


def only(window: dict) -> float:
    """The single value a window holds (count 1: every figure equals it)."""
    assert window["count"] == 1, window
    assert {window[k] for k in STATS - {"count"}} == {window["min"]}
    return window["min"]


async def test_request_latencies_per_type() -> None:
    monitor = LatencyMonitor(clock=FakeClock())
    stamps = {"clientProcessingStarted": at(0), "serverProcessingStarted": at(7), "serverProcessingFinished": at(19),
              "clientProcessingFinished": at(30)}  # fmt: skip
    await monitor.on_response("acc", "getPositions", stamps)
    report = monitor.request_latencies()
    assert set(report) == {"getPositions"}
    assert set(report["getPositions"]) == {"clientLatency", "serverLatency"}
    assert set(report["getPositions"]["serverLatency"]) == {"1h", "1d", "1w"}
    assert only(report["getPositions"]["serverLatency"]["1h"]) == 12  # 19 - 7
    assert only(report["getPositions"]["clientLatency"]["1w"]) == 18  # (30 - 0) - 12


async def test_price_update_and_trade_formulas() -> None:
    monitor = LatencyMonitor(clock=FakeClock())
    stream = {"eventGenerated": at(0), "serverProcessingStarted": at(3), "serverProcessingFinished": at(8),
              "clientProcessingFinished": at(20)}  # fmt: skip
    await monitor.on_symbol_price("acc", "EURUSD", stream)
    await monitor.on_update("acc", stream)
    for report in (monitor.price_latencies(), monitor.update_latencies()):
        assert set(report) == {"brokerLatency", "serverLatency", "clientLatency"}
        assert only(report["brokerLatency"]["1d"]) == 3
        assert only(report["serverLatency"]["1d"]) == 5
        assert only(report["clientLatency"]["1d"]) == 12
    trade = {"clientProcessingStarted": at(0), "serverProcessingStarted": at(4), "tradeStarted": at(6),
             "tradeExecuted": at(15), "serverProcessingFinished": at(16),
             "clientProcessingFinished": at(21)}  # fmt: skip
    await monitor.on_trade("acc", trade)
    report = monitor.trade_latencies()
    assert only(report["clientLatency"]["1h"]) == 4
    assert only(report["serverLatency"]["1h"]) == 2
    assert only(report["brokerLatency"]["1h"]) == 9


async def test_a_metric_needs_both_of_its_timestamps() -> None:
    monitor = LatencyMonitor(clock=FakeClock())
    await monitor.on_symbol_price(
        "acc", "EURUSD", {"serverProcessingStarted": at(3), "serverProcessingFinished": at(8)}
    )
    await monitor.on_symbol_price("acc", "EURUSD", {"eventGenerated": "2026-11-18T09:00:00Z",  # not converted
                                                    "serverProcessingStarted": at(3)})  # fmt: skip
    await monitor.on_response("acc", "getAccountInformation", {"clientProcessingStarted": at(0),
                                                               "clientProcessingFinished": at(9)})  # fmt: skip
    await monitor.on_trade("acc", {"tradeStarted": at(1)})
    prices = monitor.price_latencies()
    assert only(prices["serverLatency"]["1h"]) == 5
    empty = {"p50": None, "p75": None, "p90": None, "p95": None, "p98": None, "avg": None, "count": 0,
             "min": None, "max": None}  # fmt: skip
    assert prices["brokerLatency"]["1h"] == empty and prices["clientLatency"]["1w"] == empty
    assert monitor.request_latencies() == {}  # no server window: neither request metric can be computed
    assert all(w == empty for metric in monitor.trade_latencies().values() for w in metric.values())


async def test_values_are_whole_milliseconds() -> None:
    monitor = LatencyMonitor(clock=FakeClock())
    await monitor.on_update("acc", {"serverProcessingStarted": at(0), "serverProcessingFinished": at(2.6)})
    assert only(monitor.update_latencies()["serverLatency"]["1h"]) == 2
    assert isinstance(monitor.update_latencies()["serverLatency"]["1h"]["max"], int)
    # each timestamp is truncated to the millisecond (the wire's resolution), then subtracted
    await monitor.on_update("acc", {"eventGenerated": at(0.9), "serverProcessingStarted": at(1.1)})
    assert only(monitor.update_latencies()["brokerLatency"]["1h"]) == 1
    await monitor.on_update("acc", {"serverProcessingFinished": at(-0.2), "clientProcessingFinished": at(-0.1)})
    assert only(monitor.update_latencies()["clientLatency"]["1h"]) == 0


async def test_a_server_window_inside_a_round_trip_never_gives_a_negative_client_latency() -> None:
    monitor = LatencyMonitor(clock=FakeClock())
    # a 0.2 ms round trip around a server window that crosses a millisecond boundary (server stamps in ms)
    stamps = {"clientProcessingStarted": at(10.85), "serverProcessingStarted": at(10),
              "serverProcessingFinished": at(11), "clientProcessingFinished": at(11.05)}  # fmt: skip
    await monitor.on_response("acc", "getPositions", stamps)
    report = monitor.request_latencies()["getPositions"]
    assert only(report["serverLatency"]["1h"]) == 1 and only(report["clientLatency"]["1h"]) == 0


async def test_percentiles_and_figures_of_many_prices() -> None:
    clock = FakeClock()
    monitor = LatencyMonitor(clock=clock)
    latencies = np.random.default_rng(2).integers(0, 400, 800)
    for value in latencies:
        stamps = {"serverProcessingFinished": at(0), "clientProcessingFinished": at(int(value))}
        await monitor.on_symbol_price("acc", "EURUSD", stamps)
        clock.advance(1)
    window = monitor.price_latencies()["clientLatency"]["1h"]
    assert window["count"] == 800 and window["min"] == latencies.min() and window["max"] == latencies.max()
    assert window["avg"] == pytest.approx(latencies.mean())
    for p in (50, 75, 90, 95, 98):  # fewer measurements than the sample size: the exact percentiles
        assert window[f"p{p}"] == pytest.approx(np.percentile(latencies, p))


async def test_windows_forget_old_measurements() -> None:
    clock = FakeClock()
    monitor = LatencyMonitor(clock=clock)
    await monitor.on_response("acc", "trade", {"serverProcessingStarted": at(0), "serverProcessingFinished": at(50)})
    clock.advance(2 * 3600)
    await monitor.on_response("acc", "trade", {"serverProcessingStarted": at(0), "serverProcessingFinished": at(10)})
    windows = monitor.request_latencies()["trade"]["serverLatency"]
    assert only(windows["1h"]) == 10
    assert (windows["1d"]["count"], windows["1d"]["max"], windows["1d"]["p50"]) == (2, 50, 30)
    clock.advance(2 * 86400)
    windows = monitor.request_latencies()["trade"]["serverLatency"]
    assert windows["1d"]["count"] == 0 and windows["1w"]["count"] == 2


async def test_per_price_cost_is_small() -> None:
    """Not a timing assertion: reports the cost of one price with all three metrics (printed with -s)."""
    monitor = LatencyMonitor()
    stamps = {"eventGenerated": at(0), "serverProcessingStarted": at(3), "serverProcessingFinished": at(8),
              "clientProcessingFinished": at(20)}  # fmt: skip
    started = time.perf_counter()
    for _ in range(20_000):
        await monitor.on_symbol_price("acc", "EURUSD", stamps)
    per_call = (time.perf_counter() - started) / 20_000
    assert monitor.price_latencies()["clientLatency"]["1h"]["count"] == 20_000
    print(f"LatencyMonitor.on_symbol_price: {per_call * 1e6:.1f} µs per price")


def test_metaapi_exposes_the_monitor() -> None:
    api = MetaApi.sandbox("http://127.0.0.1:9", "token")
    assert isinstance(api.latency_monitor, LatencyMonitor)
    assert api.latency_monitor.price_latencies()["brokerLatency"]["1h"]["count"] == 0
