"""Synchronization throttling (protocol §7.7): slots per socket and per group, queueing, silence, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from test_transport_helpers import SYNC_FIELDS, Recorder, make_client_fixture, subscribed  # noqa: F401

from mtdata.client.options import ThrottlerOpts
from mtdata.client.transport.socket import SocketConnection
from mtdata.client.transport.throttle import SynchronizationThrottler
from mtdata.client.transport.websocket import WebsocketClient
from mtdata.errors import NotConnectedException, TimeoutException
from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.accounts import new_account


def socket_with(accounts: int, region: str = "r", instance_number: int = 0) -> SocketConnection:
    """A (never connected) socket serving ``accounts`` accounts."""
    socket = SocketConnection(None, "a.b.c", region, instance_number, 1.0, (1.0, 2.0))  # type: ignore[arg-type]
    socket.accounts = {f"acc{i}" for i in range(accounts)}
    return socket


async def test_one_slot_per_ten_accounts_of_a_socket() -> None:
    throttler = SynchronizationThrottler(ThrottlerOpts())
    small, big = socket_with(3), socket_with(25)
    await throttler.acquire(small, "a")
    waiting = asyncio.ensure_future(throttler.acquire(small, "b"))
    for sync_id in "xyz":  # ceil(25 / 10) = 3 slots
        await throttler.acquire(big, sync_id)
    await asyncio.sleep(0.05)
    assert not waiting.done() and throttler.active(small) == ["a"]
    throttler.release("a")
    await asyncio.wait_for(waiting, 5)
    assert throttler.active(small) == ["b"] and len(throttler.active(big)) == 3
    throttler.close()


async def test_group_limit_across_sockets_and_order_of_waiters() -> None:
    throttler = SynchronizationThrottler(ThrottlerOpts(max_concurrent_synchronizations=2))
    sockets = [socket_with(1) for _ in range(3)]
    other_group = socket_with(1, instance_number=1)
    await throttler.acquire(sockets[0], "a")
    await throttler.acquire(sockets[1], "b")
    third = asyncio.ensure_future(throttler.acquire(sockets[2], "c"))
    await throttler.acquire(other_group, "d")  # another region/instance group is not limited by this one
    await asyncio.sleep(0.05)
    assert not third.done()
    throttler.release("b")
    await asyncio.wait_for(third, 5)
    assert sorted(throttler.active()) == ["a", "c", "d"]
    throttler.close()


async def test_silent_synchronization_frees_its_slot_and_packets_keep_it() -> None:
    # packets every 0.1 s for longer than the 0.5 s silence timeout: a loaded machine may stall up to 0.4 s between
    # two of them (with a 0.2 s timeout, a stall over 0.1 s let the silence timer free the slot first)
    throttler = SynchronizationThrottler(ThrottlerOpts(synchronization_timeout_in_seconds=0.5))
    socket = socket_with(1)
    await throttler.acquire(socket, "a")
    for _ in range(8):
        await asyncio.sleep(0.1)
        throttler.touch("a")  # packets of "a" keep arriving
    assert throttler.active() == ["a"]
    await asyncio.wait_for(throttler.acquire(socket, "b"), 5)  # "a" went silent
    assert throttler.active() == ["b"]
    throttler.close()


async def test_queue_timeout_and_close() -> None:
    throttler = SynchronizationThrottler(ThrottlerOpts(queue_timeout_in_seconds=0.1))
    socket = socket_with(1)
    await throttler.acquire(socket, "a")
    with pytest.raises(TimeoutException):
        await throttler.acquire(socket, "b")
    waiting = asyncio.ensure_future(throttler.acquire(socket, "c"))
    await asyncio.sleep(0)
    throttler.close()
    with pytest.raises((NotConnectedException, TimeoutException)):
        await waiting
    assert throttler.active() == []


async def test_synchronizations_of_one_socket_run_one_after_another(make_client: Callable[..., WebsocketClient],
                                                                     sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client()
    server = sandbox.server
    base = {"name": "Second", "server": "Sandbox-Demo", "login": "60003", "platform": "mt5", "magic": 0}
    second = new_account(server.user_id, base, server.config.region)
    server.accounts.deploy_now(second)
    events: list[tuple[str, str]] = []

    class Order(Recorder):
        def __init__(self, account_id: str) -> None:
            super().__init__()
            self.account_id = account_id

        async def on_synchronization_started(self, *args: object) -> None:
            events.append((self.account_id, "started"))

        async def on_deals_synchronized(self, *args: object) -> None:
            events.append((self.account_id, "finished"))

    accounts = [sandbox.account_id, second["_id"]]
    for account_id in accounts:
        await subscribed(client, account_id, Order(account_id))
    requests = [client.request(a, {"type": "synchronize", **SYNC_FIELDS}, instance_number=0) for a in accounts]
    await asyncio.gather(*requests)
    await Recorder().until(lambda: len(events) == 4)
    first = events[0][0]
    assert events[:2] == [(first, "started"), (first, "finished")]  # the second waited for the first's slot
    assert client._throttler.active() == []
