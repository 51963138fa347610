"""LatencyService against the sandbox: the probe socket of protocol §4.2 (token and protocol only), per region."""

from __future__ import annotations

import asyncio
import socket

import pytest
from test_latency_helpers import FakeClock

from mtdata.client import MetaApi
from mtdata.client.monitoring.latency_monitor import LatencyMonitor
from mtdata.client.monitoring.latency_service import LatencyService, socket_url
from mtdata.errors import NotConnectedException, ValidationException


def other_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def settle(before: set[asyncio.Task]) -> set[asyncio.Task]:
    """Tasks started since ``before`` that are still running after the loop had a few turns."""
    for _ in range(50):
        left = other_tasks() - before
        if not left:
            return left
        await asyncio.sleep(0.01)
    return other_tasks() - before


async def test_measure_probes_the_region_and_leaves_nothing_running(api: MetaApi) -> None:
    service = LatencyService(api.context)
    before = other_tasks()
    latency = await service.measure("vint-hill")
    assert latency > 0
    assert service.get_latencies() == {"vint-hill": latency} and service.latency("vint-hill") == latency
    assert await settle(before) == set()
    await service.measure("new-york")
    assert set(service.get_latencies()) == {"vint-hill", "new-york"}
    fastest = min(service.get_latencies(), key=service.get_latencies().get)
    assert service.fastest_region() == fastest
    assert service.fastest_region(["new-york", "singapore"]) == "new-york"
    assert service.fastest_region(["singapore"]) is None and service.latency("singapore") is None


async def test_the_probe_sends_only_token_and_protocol(api: MetaApi, sandbox) -> None:
    seen = []
    hub = sandbox.server.hub
    original = hub._on_connect

    async def spy(sid, environ):  # the sandbox's own connect handler, observed
        seen.append((environ.get("QUERY_STRING", ""), environ.get("HTTP_CLIENT_ID")))
        return await original(sid, environ)

    hub.sio.handlers["/"]["connect"] = spy
    await LatencyService(api.context).measure("vint-hill")
    query, client_id = seen[0]
    params = dict(part.split("=", 1) for part in query.split("&"))
    assert params["protocol"] == "3" and params["auth-token"] == sandbox.token and "clientId" not in params
    assert client_id is None


async def test_a_refused_or_unreachable_probe_raises(make_api, sandbox) -> None:
    before = other_tasks()
    with pytest.raises(NotConnectedException, match="vint-hill"):
        await LatencyService(make_api(token="not-a-valid-token").context).measure("vint-hill")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = MetaApi.sandbox(f"http://127.0.0.1:{port}", sandbox.token, {"connectTimeout": 5})
    try:
        with pytest.raises(NotConnectedException):
            await LatencyService(closed.context).measure("vint-hill")
    finally:
        await closed.close()
    assert await settle(before) == set()


async def test_measurements_are_reused_for_15_minutes(api: MetaApi, sandbox) -> None:
    clock = FakeClock()
    service = LatencyService(api.context, clock=clock)
    first = await service.ensure_measured("vint-hill")
    assert await asyncio.gather(*(service.ensure_measured("vint-hill") for _ in range(3))) == [first] * 3
    sandbox.stop()
    clock.advance(899)
    assert await service.ensure_measured("vint-hill") == first  # still current: no probe
    clock.advance(2)
    with pytest.raises(NotConnectedException):  # stale: probed again, and the server is gone
        await service.ensure_measured("vint-hill")


async def test_monitor_figures_and_validation(api: MetaApi) -> None:
    assert LatencyService(api.context).get_trade_latencies() == {}
    monitor = LatencyMonitor()
    service = LatencyService(api.context, monitor)
    assert service.get_trade_latencies() == monitor.trade_latencies()
    assert set(service.get_market_data_latencies()) == {"brokerLatency", "serverLatency", "clientLatency"}
    with pytest.raises(ValidationException, match="region"):
        await service.measure("")


async def test_cloud_socket_urls(api: MetaApi) -> None:
    cloud = MetaApi("token-for-urls", {"domain": "example.test"})
    cloud.context.hosts._settings = {"hostname": "mt-client-api-v1", "domain": "agiliumtrade.ai"}
    cloud.context.hosts._settings_at = float("inf")
    try:
        assert await socket_url(cloud.context, "new-york") == "https://mt-client-api-v1.new-york-a.agiliumtrade.ai"
        assert await socket_url(cloud.context, "london", 1) == "https://mt-client-api-v1.london-b.agiliumtrade.ai"
    finally:
        await cloud.close()
    assert await socket_url(api.context, "anywhere") == api.options.url
