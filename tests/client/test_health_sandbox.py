"""The health monitor of a real streaming connection on the sandbox: broker loss and return, server health."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from test_latency_helpers import wait_for

from mtdata.client import MetaApi
from mtdata.sandbox import SandboxHandle


@pytest.fixture
def sandbox(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """Status packets every 0.2 s, so server health and broker state show up at once."""
    return mtdata_sandbox_factory(deploy_delay=0.05, status_interval=0.2, start="2026-11-18T09:00:00Z")


async def test_health_follows_the_broker_connection(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = account.get_streaming_connection()
    await connection.connect()
    try:
        await connection.wait_synchronized({"timeoutInSeconds": 30})
        await connection.subscribe_to_market_data("EURUSD")
        status = await connection.get_health_status()
        assert status["healthy"] and status["quoteStreamingHealthy"], status
        monitor = connection.health_monitor
        await wait_for(lambda: monitor.server_health_status.get("rpcApiHealthy"))

        await asyncio.to_thread(sandbox.call, sandbox.server.faults.set_broker(sandbox.account_id, False))
        status = await wait_for(lambda: _unhealthy(monitor.health_status))
        assert status["connected"] and not status["connectedToBroker"]
        assert "connection to broker is not established or lost" in status["message"]

        await asyncio.to_thread(sandbox.call, sandbox.server.faults.set_broker(sandbox.account_id, True))
        status = await wait_for(lambda: monitor.health_status if monitor.health_status["healthy"] else None)
        assert status["message"] == "Connection to broker is stable. No health issues detected."
    finally:
        await connection.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "mtdata-health-monitor"]


def _unhealthy(status: dict[str, Any]) -> dict[str, Any] | None:
    return None if status["healthy"] else status
