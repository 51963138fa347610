"""Socket loss and the request retry policy (protocol §4.4, §5.4) against the sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from test_transport_helpers import (  # noqa: F401
    REGION,
    Recorder,
    make_client_fixture,
    received,
    subscribed,
    synchronize,
    tasks_left,
    types_of,
)

from mtdata.client.listeners import ReconnectListener
from mtdata.client.transport.websocket import WebsocketClient
from mtdata.errors import TimeoutException, TooManyRequestsException
from mtdata.sandbox import SandboxHandle


class Reconnects(ReconnectListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def on_reconnected(self, region: str, instance_number: int) -> None:
        self.calls.append((region, instance_number))


async def lose_and_recover(client: WebsocketClient, box: SandboxHandle, recorder: Recorder, drop: Callable[[], None]):
    """Drop the client's sockets with ``drop`` and wait until the account is connected again."""
    reconnects = Reconnects()
    client.add_reconnect_listener(box.account_id, reconnects)
    old_ids = {s.client_id for group in client._sockets.values() for s in group}
    connected = len(recorder.of("on_connected"))
    drop()
    await recorder.wait_for("on_disconnected")
    assert "on_stream_closed" in recorder.names()
    await recorder.wait_for("on_connected", connected + 1)
    assert client.connected_instances(box.account_id) == [f"{REGION}:0:ps-mpa-0"]
    await recorder.until(lambda: {(REGION, 0), (REGION, 1)} <= set(reconnects.calls))
    new_ids = {s.client_id for group in client._sockets.values() for s in group}
    assert not old_ids & new_ids  # new clientIds
    return reconnects


async def test_dropped_socket_reconnects_and_resubscribes(make_client: Callable[..., WebsocketClient],
                                                         sandbox: SandboxHandle) -> None:  # fmt: skip
    before = asyncio.all_tasks()
    client = make_client()
    recorder = await subscribed(client, sandbox.account_id)
    await synchronize(client, sandbox.account_id, recorder)
    session = client._socket_of[(sandbox.account_id, 0)].session_id

    def drop() -> None:
        answer = httpx.post(
            sandbox.url + "/sandbox/faults/drop-sockets", json={}, headers={"auth-token": sandbox.token}
        )
        assert answer.json()["dropped"] >= 1

    await lose_and_recover(client, sandbox, recorder, drop)
    assert client._socket_of[(sandbox.account_id, 0)].session_id != session
    assert client.socket_count() == 2  # the same two sockets (instances 0 and 1), reconnected
    await synchronize(client, sandbox.account_id, recorder)  # the stream works again
    info = await client.request(sandbox.account_id, {"type": "getAccountInformation"}, application="RPC")
    assert info["accountInformation"]["balance"] > 0
    await client.close()
    assert await tasks_left(before) == set()  # nothing left by the lost sockets either


async def test_server_restart_reconnects(make_client: Callable[..., WebsocketClient], sandbox: SandboxHandle) -> None:
    client = make_client()
    recorder = await subscribed(client, sandbox.account_id)
    await lose_and_recover(
        client, sandbox, recorder, lambda: asyncio.get_running_loop().run_in_executor(None, sandbox.restart)
    )
    await synchronize(client, sandbox.account_id, recorder)


async def test_request_in_flight_when_the_socket_drops_is_retried(make_client: Callable[..., WebsocketClient],
                                                                 sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client()
    recorder = await subscribed(client, sandbox.account_id)
    delay = sandbox.server.faults.add_delay(3.0, scope="socket")
    requests = received(sandbox)
    request = asyncio.ensure_future(client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC"))
    # in flight = held by the server's delay (client._pending is not a sign: the instance-1 subscribe waits there)
    await recorder.until(lambda: "getServerTime" in types_of(requests))
    await asyncio.to_thread(sandbox.call, sandbox.server.faults.drop_sockets())
    delay.count = 0
    answer = await asyncio.wait_for(request, 30)
    assert answer["serverTime"]["time"]
    await recorder.wait_for("on_connected", 2)


async def test_trade_in_flight_when_the_socket_drops_fails(make_client: Callable[..., WebsocketClient],
                                                          sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client()
    recorder = await subscribed(client, sandbox.account_id)
    delay = sandbox.server.faults.add_delay(3.0, scope="socket")
    requests = received(sandbox)
    buy = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01}
    trade = asyncio.ensure_future(client.trade(sandbox.account_id, buy, application="RPC"))
    await recorder.until(lambda: "trade" in types_of(requests))  # the server holds it: it was sent, and is not answered
    await asyncio.to_thread(sandbox.call, sandbox.server.faults.drop_sockets())
    delay.count = 0
    with pytest.raises(TimeoutException):  # never resent blindly: the caller reconciles by clientId
        await asyncio.wait_for(trade, 30)


async def test_timeouts_are_retried_but_trades_are_not(make_client: Callable[..., WebsocketClient],
                                                      sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client()
    await subscribed(client, sandbox.account_id)
    sandbox.server.faults.add_delay(1.0, scope="socket", count=1)
    answer = await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC", timeout=0.3)
    assert answer["serverTime"]
    sandbox.server.faults.add_delay(1.0, scope="socket", count=1)
    with pytest.raises(TimeoutException):
        await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC", timeout=0.3, retry=False)
    await asyncio.sleep(1.0)
    sandbox.server.faults.add_delay(1.0, scope="socket", count=1)
    with pytest.raises(TimeoutException):
        buy = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01}
        await client.request(sandbox.account_id, {"type": "trade", "trade": buy}, application="RPC", timeout=0.3)


async def test_rate_limits_are_honoured(make_client: Callable[..., WebsocketClient], sandbox: SandboxHandle) -> None:
    client = make_client(retryOpts={"retries": 3, "minDelayInSeconds": 0.5, "maxDelayInSeconds": 1})
    await subscribed(client, sandbox.account_id)
    sandbox.server.faults.add_rate_limit(1, 0.3, scope="socket", request_type="getServerTime")
    started = time.monotonic()
    assert (await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC"))["serverTime"]
    assert time.monotonic() - started >= 0.2  # waited for recommendedRetryTime
    # a retry time beyond the remaining backoff budget: raised at once, with its metadata
    sandbox.server.faults.add_rate_limit(1, 3600, scope="socket", request_type="getServerTime")
    with pytest.raises(TooManyRequestsException) as caught:
        await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC")
    assert caught.value.metadata["recommendedRetryTime"].year >= 2026


async def test_subscription_quota_moves_the_account_to_a_new_socket(make_client: Callable[..., WebsocketClient],
                                                                    sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client()
    quota = "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_SERVER"
    sandbox.server.faults.add_rate_limit(2, 600, scope="socket", type=quota, request_type="subscribe")
    recorder = await subscribed(client, sandbox.account_id)  # well before the 600 s retry time
    assert recorder.of("on_connected")
    locked = [s for group in client._sockets.values() for s in group if s.locked_until > time.monotonic()]
    assert locked and all(sandbox.account_id not in s.accounts for s in locked)
    assert client.socket_count() == 2 + len(locked)
