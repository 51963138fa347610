"""ConnectionHealthMonitor and ConnectionUptime (protocol §8), on a stand-in connection with an injected clock.

The monitor is pure logic over a few attributes of the streaming connection; the stand-in has exactly those.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_latency_helpers import FakeClock

from mtdata.client.monitoring.health import ConnectionHealthMonitor, ConnectionUptime

ALL_DAY = [{"from": "00:00:00.000", "to": "23:59:59.999"}]
WEEKDAYS = {day: ALL_DAY for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")}
WEDNESDAY_11 = "2026-11-18 11:00:00.000"


class StandInTerminal:
    """The terminal-state attributes the monitor reads."""

    def __init__(self) -> None:
        self.connected = True
        self.connected_to_broker = True
        self.specifications: dict[str, dict[str, Any]] = {}

    def specification(self, symbol: str) -> dict[str, Any] | None:
        return self.specifications.get(symbol)


class StandInConnection:
    """The streaming-connection attributes the monitor reads."""

    def __init__(self) -> None:
        self.terminal_state = StandInTerminal()
        self.symbols: list[str] = []
        self.synchronized = True
        self.checks = 0

    def subscribed_symbols(self) -> list[str]:
        self.checks += 1
        return list(self.symbols)

    def subscribe(self, symbol: str, quote_sessions: dict[str, Any]) -> None:
        self.symbols.append(symbol)
        self.terminal_state.specifications[symbol] = {"symbol": symbol, "quoteSessions": quote_sessions}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_795_000_000.0)


@pytest.fixture
def connection() -> StandInConnection:
    return StandInConnection()


@pytest.fixture
def monitor(connection: StandInConnection, clock: FakeClock) -> ConnectionHealthMonitor:
    return ConnectionHealthMonitor(connection, clock=clock)


def test_a_healthy_connection(monitor: ConnectionHealthMonitor) -> None:
    assert monitor.health_status == {
        "connected": True, "connectedToBroker": True, "quoteStreamingHealthy": True, "synchronized": True,
        "healthy": True, "message": "Connection to broker is stable. No health issues detected.",
    }  # fmt: skip


def test_messages_name_each_problem(monitor: ConnectionHealthMonitor, connection: StandInConnection) -> None:
    connection.synchronized = False
    status = monitor.health_status
    assert not status["healthy"] and not status["synchronized"]
    assert status["message"] == (
        "Connection is not healthy because local terminal state is not synchronized to broker."
    )
    connection.terminal_state.connected_to_broker = False
    assert monitor.health_status["message"] == (
        "Connection is not healthy because connection to broker is not established or lost and "
        "local terminal state is not synchronized to broker."
    )
    connection.terminal_state.connected = False  # no API connection: quotes cannot be healthy either
    status = monitor.health_status
    assert (status["connected"], status["quoteStreamingHealthy"]) == (False, False)
    assert status["message"].startswith("Connection is not healthy because connection to API server is not")
    assert status["message"].endswith("and quotes are not streamed from the broker properly.")
    connection.terminal_state.connected = connection.terminal_state.connected_to_broker = True
    connection.synchronized = True
    assert monitor.health_status["healthy"]


async def test_quotes_go_stale_after_60_s_inside_a_quote_session(
    monitor: ConnectionHealthMonitor, connection: StandInConnection, clock: FakeClock
) -> None:
    connection.subscribe("EURUSD", WEEKDAYS)
    await monitor.on_symbol_price_updated("vint-hill:0:ps-mpa-0", {"symbol": "EURUSD", "brokerTime": WEDNESDAY_11})
    clock.advance(59.9)
    assert monitor.health_status["quoteStreamingHealthy"]
    clock.advance(0.2)
    status = monitor.health_status
    assert not status["quoteStreamingHealthy"] and not status["healthy"]
    assert status["message"] == "Connection is not healthy because quotes are not streamed from the broker properly."
    await monitor.on_symbol_price_updated("vint-hill:0:ps-mpa-0", {"symbol": "EURUSD", "brokerTime": WEDNESDAY_11})
    assert monitor.health_status["healthy"]


async def test_no_quotes_expected_outside_the_quote_sessions(
    monitor: ConnectionHealthMonitor, connection: StandInConnection, clock: FakeClock
) -> None:
    connection.subscribe("EURUSD", WEEKDAYS)
    await monitor.on_symbol_price_updated("0", {"symbol": "EURUSD", "brokerTime": "2026-11-21 11:00:00.000"})  # Sat
    clock.advance(3600)
    assert monitor.health_status["quoteStreamingHealthy"]
    # on Wednesday, a session ending at 11:00:30 broker time: a minute after an 11:00:00 price it is over
    connection.symbols.remove("EURUSD")
    connection.subscribe("XAUUSD", {"WEDNESDAY": [{"from": "01:00:00.000", "to": "11:00:30.000"}]})
    await monitor.on_symbol_price_updated("0", {"symbol": "XAUUSD", "brokerTime": WEDNESDAY_11})
    clock.advance(61)
    assert monitor.health_status["quoteStreamingHealthy"]
    connection.terminal_state.specifications["XAUUSD"]["quoteSessions"]["WEDNESDAY"][0]["to"] = "11:01:30.000"
    assert not monitor.health_status["quoteStreamingHealthy"]  # 11:01:01 is inside the session now


def test_without_any_price_the_wait_starts_at_the_first_check(
    monitor: ConnectionHealthMonitor, connection: StandInConnection, clock: FakeClock
) -> None:
    every_day = {day: ALL_DAY for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY",
                                          "SUNDAY")}  # fmt: skip
    connection.subscribe("EURUSD", every_day)  # no price yet: the broker clock is taken as UTC
    assert monitor.health_status["quoteStreamingHealthy"]
    clock.advance(61)
    assert not monitor.health_status["quoteStreamingHealthy"]
    connection.terminal_state.specifications["EURUSD"] = None  # a symbol without specification has no session
    assert monitor.health_status["quoteStreamingHealthy"]
    half_sessions = {day: [{"from": "00:00:00.000"}] for day in every_day}  # malformed: never inside
    connection.terminal_state.specifications["EURUSD"] = {"symbol": "EURUSD", "quoteSessions": half_sessions}
    assert monitor.health_status["quoteStreamingHealthy"]


async def test_server_health_status_is_merged_over_streams(monitor: ConnectionHealthMonitor) -> None:
    assert monitor.server_health_status == {}
    await monitor.on_health_status("vint-hill:0:ps-mpa-0", {"rpcApiHealthy": False, "restApiHealthy": True})
    await monitor.on_health_status("vint-hill:1:ps-mpa-1", {"rpcApiHealthy": True})
    assert monitor.server_health_status == {"rpcApiHealthy": True, "restApiHealthy": True}
    await monitor.on_health_status("vint-hill:1:ps-mpa-1", {"rpcApiHealthy": False})  # the latest one counts
    assert monitor.server_health_status == {"rpcApiHealthy": False, "restApiHealthy": True}
    await monitor.on_disconnected("vint-hill:0:ps-mpa-0")
    assert monitor.server_health_status == {"rpcApiHealthy": False}
    await monitor.on_disconnected("vint-hill:0:ps-mpa-0")  # twice is fine


def test_uptime_is_the_average_of_samples_per_window(clock: FakeClock) -> None:
    healthy = [True, True, True, False]
    uptime = ConnectionUptime(lambda: healthy.pop(0), clock=clock)
    assert uptime.get_statistics() == {"5m": None, "1h": None, "1d": None, "1w": None}
    for _ in range(4):
        uptime.measure_uptime()
        clock.advance(10)
    assert uptime.get_statistics() == {"5m": 75, "1h": 75, "1d": 75, "1w": 75}
    clock.advance(300)
    assert uptime.get_statistics() == {"5m": None, "1h": 75, "1d": 75, "1w": 75}


def monitor_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "mtdata-health-monitor"]


async def test_start_samples_uptime_and_stop_leaves_no_task(connection: StandInConnection) -> None:
    monitor = ConnectionHealthMonitor(connection, sample_interval=lambda: 0.01, tick=0.01)
    assert monitor_tasks() == []  # nothing runs before start()
    monitor.start()
    monitor.start()  # idempotent
    assert len(monitor_tasks()) == 1
    for _ in range(1000):
        if monitor.uptime["5m"] is not None:
            break
        await asyncio.sleep(0.01)
    assert monitor.uptime == {"5m": 100, "1h": 100, "1d": 100, "1w": 100}
    connection.synchronized = False
    for _ in range(1000):
        if monitor.uptime["5m"] < 100:
            break
        await asyncio.sleep(0.01)
    assert 0 < monitor.uptime["1w"] < 100
    await monitor.stop()
    await monitor.stop()
    assert monitor_tasks() == []


async def test_a_failing_connection_does_not_end_the_sampling(connection: StandInConnection, caplog) -> None:
    monitor = ConnectionHealthMonitor(connection, sample_interval=lambda: 0.01, tick=0.01)
    monitor.start()
    calls = []

    def broken() -> list[str]:
        calls.append(1)
        raise RuntimeError("boom")

    connection.subscribed_symbols = broken  # type: ignore[method-assign]
    for _ in range(1000):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(calls) >= 3 and len(monitor_tasks()) == 1
    assert "health monitor" in caplog.text
    await monitor.stop()
    assert monitor_tasks() == []


async def test_unsubscribing_everything_restarts_the_wait_for_quotes(connection: StandInConnection) -> None:
    clock = FakeClock(1_795_000_000.0)
    monitor = ConnectionHealthMonitor(connection, clock=clock, sample_interval=lambda: 3600, tick=0.01)
    every_day = dict.fromkeys(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"), ALL_DAY)
    monitor.start()
    clock.advance(600)  # ten minutes with no subscription: the monitor keeps restarting the wait
    checks = connection.checks
    for _ in range(1000):  # until the monitor's task has looked at the subscriptions again
        if connection.checks > checks:
            break
        await asyncio.sleep(0.01)
    connection.subscribe("EURUSD", every_day)
    assert monitor.health_status["quoteStreamingHealthy"]  # a fresh subscription gets its 60 s
    clock.advance(61)
    assert not monitor.health_status["quoteStreamingHealthy"]
    await monitor.stop()
