"""Fixtures for the client tests: a fast sandbox and ``MetaApi`` clients on it with small retry delays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mtdata.client import MetaApi
from mtdata.client.transport import websocket as transport
from mtdata.client.transport.subscriptions import Timers
from mtdata.sandbox import SandboxHandle

#: Retry delays small enough for tests, large enough to measure.
FAST_RETRY = {"retries": 3, "minDelayInSeconds": 0.05, "maxDelayInSeconds": 0.2}


@pytest.fixture
def sandbox(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox with quick deploy transitions and the market pinned to a weekday."""
    return mtdata_sandbox_factory(deploy_delay=0.05, start="2026-11-18T09:00:00Z")


@pytest.fixture
async def make_api(sandbox: SandboxHandle) -> AsyncIterator[Callable[..., MetaApi]]:
    """Build ``MetaApi`` clients on the sandbox (token and options overridable); all closed after the test."""
    apis: list[MetaApi] = []

    def make(token: str | None = None, **opts: Any) -> MetaApi:
        api = MetaApi.sandbox(sandbox.url, token or sandbox.token, {"retryOpts": FAST_RETRY, **opts})
        apis.append(api)
        return api

    yield make
    for api in apis:
        await api.close()


@pytest.fixture
def api(make_api: Callable[..., MetaApi]) -> MetaApi:
    """A ``MetaApi`` on the sandbox with its root token."""
    return make_api()


@pytest.fixture
def quick_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built in the test reconnect and resubscribe within a fraction of a second."""
    timers = Timers(reconnect_start=0.1, reconnect_max=0.5, reconnect_resubscribe=(0.0, 0.1),
                    disconnected_resubscribe=(0.0, 0.1))  # fmt: skip
    monkeypatch.setattr(transport, "DEFAULT_TIMERS", timers)
