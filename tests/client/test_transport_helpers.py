"""Helpers for the socket-layer tests: a recording listener and ``WebsocketClient`` fixtures on the sandbox.

Test modules import the fixtures by their function names (``make_client_fixture``, ``ws_fixture``);
pytest registers them as ``make_client`` and ``ws``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mtdata.client import MetaApi
from mtdata.client.listeners import SynchronizationListener
from mtdata.client.transport.subscriptions import Timers
from mtdata.client.transport.websocket import WebsocketClient
from mtdata.sandbox import SandboxHandle

TIMEOUT = 20.0
REGION = "vint-hill"
#: Timers small enough for tests.
FAST_TIMERS = Timers(subscribe_retry_start=0.3, subscribe_retry_max=1.0, status_timeout=60.0,
                     disconnected_resubscribe=(0.05, 0.1), reconnect_resubscribe=(0.0, 0.1),
                     reconnect_start=0.05, reconnect_max=0.3)  # fmt: skip
SYNC_FIELDS = {"version": 2, "host": "ps-mpa-0", "startingHistoryOrderTime": "1970-01-02T03:46:40.000Z",
               "startingDealTime": "1970-01-02T03:46:40.000Z", "specificationsHashes": [], "positionsHashes": [],
               "ordersHashes": []}  # fmt: skip
EVENTS = tuple(name for name in vars(SynchronizationListener) if name.startswith("on_"))


class Recorder(SynchronizationListener):
    """Records every listener event as ``(name, args)`` and lets tests wait for one."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Event()

    def names(self) -> list[str]:
        """Event names in arrival order."""
        return [name for name, _ in self.events]

    def of(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``name`` event."""
        return [args for event, args in self.events if event == name]

    async def until(self, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        """Wait until ``check()`` is truthy and return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := check()):
            if loop.time() > deadline:
                raise AssertionError(f"timed out; events so far: {self.names()[-30:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.2)
        return result

    async def wait_for(self, name: str, count: int = 1, timeout: float = TIMEOUT) -> list[tuple[Any, ...]]:
        """Wait for ``count`` events called ``name``."""
        return await self.until(lambda: len(self.of(name)) >= count and self.of(name), timeout)


def _recording(name: str) -> Any:
    async def record(self: Recorder, *args: Any) -> None:
        self.events.append((name, args))
        self._changed.set()

    record.__name__ = name
    return record


for _name in EVENTS:
    setattr(Recorder, _name, _recording(_name))


@pytest.fixture(name="make_client")
async def make_client_fixture(sandbox: SandboxHandle) -> AsyncIterator[Callable[..., WebsocketClient]]:
    """Build ``WebsocketClient`` objects on the sandbox (options overridable); all closed after the test."""
    made: list[tuple[MetaApi, WebsocketClient]] = []

    def make(timers: Timers = FAST_TIMERS, **opts: Any) -> WebsocketClient:
        retry = {"retries": 2, "minDelayInSeconds": 0.05, "maxDelayInSeconds": 0.1}
        api = MetaApi.sandbox(sandbox.url, sandbox.token, {"retryOpts": retry, **opts})
        client = WebsocketClient(api.context, timers=timers)
        made.append((api, client))
        return client

    yield make
    for api, client in made:
        await client.close()
        await api.close()


@pytest.fixture(name="ws")
async def ws_fixture(make_client: Callable[..., WebsocketClient]) -> WebsocketClient:
    """A client with fast timers."""
    return make_client()


def received(box: SandboxHandle) -> list[tuple[float, dict[str, Any]]]:
    """The socket requests the server receives from now on, each with its ``time.monotonic()`` of arrival (noted
    before any fault delays or refuses it)."""
    requests: list[tuple[float, dict[str, Any]]] = []
    faults = box.server.faults
    original = faults.before_socket_request

    async def spy(sid: str, request: dict[str, Any]) -> None:
        if isinstance(request, dict):
            requests.append((time.monotonic(), request))
        await original(sid, request)

    faults.before_socket_request = spy  # type: ignore[method-assign]
    return requests


def types_of(requests: list[tuple[float, dict[str, Any]]]) -> list[str]:
    """The request types of :func:`received`'s list."""
    return [request.get("type") for _, request in requests]


async def subscribed(client: WebsocketClient, account_id: str, recorder: Recorder | None = None) -> Recorder:
    """Subscribe ``account_id`` with a recording listener and wait for ``on_connected``."""
    recorder = recorder or Recorder()
    client.add_synchronization_listener(account_id, recorder)
    await client.ensure_subscribe(account_id, REGION)
    await recorder.wait_for("on_connected")
    return recorder


async def synchronize(client: WebsocketClient, account_id: str, recorder: Recorder, **fields: Any) -> str:
    """Send ``synchronize`` on instance 0 and wait for its ``on_deals_synchronized``; returns its id."""
    response = await client.request(account_id, {"type": "synchronize", **SYNC_FIELDS, **fields}, instance_number=0)
    sync_id = response["requestId"]
    await recorder.until(lambda: any(args[1] == sync_id for args in recorder.of("on_deals_synchronized")))
    return sync_id


async def tasks_left(before: set[asyncio.Task[Any]], timeout: float = 20.0) -> set[asyncio.Task[Any]]:
    """Tasks started since ``before`` still alive after up to ``timeout`` s (libraries finish closing on their own;
    generous, as a loaded machine may be slow to let them: a clean close returns as soon as none is left)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (left := asyncio.all_tasks() - before - {asyncio.current_task()}) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return left
