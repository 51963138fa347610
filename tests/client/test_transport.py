"""WebsocketClient against the sandbox: subscription, requests, errors, timeouts, listeners, close()."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
import test_transport_helpers as helpers
from test_transport_helpers import REGION, Recorder, make_client_fixture, subscribed, synchronize, ws_fixture  # noqa: F401

from mtdata.client import MetaApi
from mtdata.client.listeners import LatencyListener
from mtdata.client.transport import websocket as transport
from mtdata.client.transport.subscriptions import Timers
from mtdata.client.transport.websocket import WebsocketClient
from mtdata.errors import (
    NotConnectedException,
    TimeoutException,
    TradeException,
    ValidationException,
)
from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.accounts import new_account

SYNC_ORDER = ["on_synchronization_started", "on_account_information_updated", "on_symbol_specifications_updated",
              "on_positions_replaced", "on_positions_synchronized", "on_pending_orders_replaced",
              "on_pending_orders_synchronized", "on_history_orders_synchronized", "on_deals_synchronized"]  # fmt: skip


async def test_subscribe_connects_and_rpc_answers(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    recorder = await subscribed(ws, sandbox.account_id)
    assert ws.is_subscribed(sandbox.account_id)
    assert ws.connected_instances(sandbox.account_id) == [f"{REGION}:0:ps-mpa-0"]
    assert recorder.of("on_connected")[0] == (f"{REGION}:0:ps-mpa-0", 1)
    info = await ws.request(sandbox.account_id, {"type": "getAccountInformation"}, application="RPC")
    assert info["accountInformation"]["balance"] > 0
    assert isinstance(info["timestamps"]["serverProcessingStarted"], datetime)  # dates converted
    await recorder.wait_for("on_broker_connection_status_changed")
    assert recorder.of("on_broker_connection_status_changed")[0] == (f"{REGION}:0:ps-mpa-0", True)


async def test_synchronization_reaches_listeners_in_order(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    recorder = await subscribed(ws, sandbox.account_id)
    await ws.trade(sandbox.account_id, {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01})
    sync_id = await synchronize(ws, sandbox.account_id, recorder)
    names = [n for n in recorder.names() if n in SYNC_ORDER]
    assert [n for i, n in enumerate(names) if n not in names[:i]] == SYNC_ORDER
    assert recorder.of("on_synchronization_started")[-1] == (f"{REGION}:0:ps-mpa-0", None, None, None, sync_id)
    (positions,) = [args[1] for args in recorder.of("on_positions_replaced")]
    assert len(positions) == 1 and positions[0]["symbol"] == "EURUSD"
    assert isinstance(positions[0]["time"], datetime)
    assert len(recorder.of("on_deal_added")) >= 2  # the deposit and the buy
    assert len(recorder.of("on_symbol_specification_updated")) == len(
        recorder.of("on_symbol_specifications_updated")[0][1]
    )


async def test_prices_and_updates_reach_listeners(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    recorder = await subscribed(ws, sandbox.account_id)
    await synchronize(ws, sandbox.account_id, recorder)
    await ws.request(sandbox.account_id, {"type": "subscribeToMarketData", "symbol": "EURUSD",
                                          "subscriptions": [{"type": "quotes"}, {"type": "candles", "timeframe": "1m"},
                                                            {"type": "ticks"}, {"type": "marketDepth"}]},
                     instance_number=0)  # fmt: skip
    for name in ("on_symbol_prices_updated", "on_symbol_price_updated", "on_candles_updated", "on_books_updated",
                 "on_ticks_updated"):  # fmt: skip
        await recorder.wait_for(name)
    _, prices, equity, *_ = recorder.of("on_symbol_prices_updated")[0]
    assert prices[0]["symbol"] == "EURUSD" and equity > 0
    response = await ws.trade(sandbox.account_id, {"actionType": "ORDER_TYPE_SELL", "symbol": "EURUSD", "volume": 0.02})
    position = await recorder.until(lambda: [a[1] for a in recorder.of("on_position_updated")
                                             if a[1]["id"] == response["positionId"]])  # fmt: skip
    assert position[0]["type"] == "POSITION_TYPE_SELL"
    await recorder.until(lambda: [a for a in recorder.of("on_positions_updated") if a[1]])
    await recorder.until(
        lambda: [a for a in recorder.of("on_deal_added") if a[1].get("positionId") == response["positionId"]]
    )


async def test_processing_errors_are_mapped(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    await subscribed(ws, sandbox.account_id)
    with pytest.raises(ValidationException) as caught:
        await ws.request(sandbox.account_id, {"type": "getSymbolSpecification", "symbol": "NOPE"}, application="RPC")
    assert caught.value.details
    with pytest.raises(ValidationException):
        await ws.request(sandbox.account_id, {"type": "noSuchRequest"}, application="RPC")


async def test_failed_trade_raises_trade_exception(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    await subscribed(ws, sandbox.account_id)
    with pytest.raises(TradeException) as caught:
        await ws.trade(sandbox.account_id, {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.001},
                       application="RPC")  # fmt: skip
    assert caught.value.string_code and caught.value.numeric_code
    done = await ws.trade(sandbox.account_id, {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01},
                          application="RPC")  # fmt: skip
    assert done["stringCode"] == "TRADE_RETCODE_DONE"


async def test_request_timeout(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    await subscribed(ws, sandbox.account_id)
    delay = sandbox.server.faults.add_delay(1.0, scope="socket")
    started = time.monotonic()
    with pytest.raises(TimeoutException):
        await ws.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC", timeout=0.2, retry=False)
    assert time.monotonic() - started >= 0.2
    delay.count = 0


async def test_not_connected_errors(make_client: Callable[..., WebsocketClient], sandbox: SandboxHandle) -> None:
    client = make_client()
    with pytest.raises(NotConnectedException):
        await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC")
    await subscribed(client, sandbox.account_id)
    await client.unsubscribe(sandbox.account_id)
    assert not client.is_subscribed(sandbox.account_id) and client.connected_instances(sandbox.account_id) == []
    with pytest.raises(NotConnectedException):
        await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC")
    await client.close()
    with pytest.raises(NotConnectedException):
        await client.ensure_subscribe(sandbox.account_id, REGION)
    with pytest.raises(NotConnectedException):
        await client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC")


async def test_bad_arguments_fail_before_sending(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    for call in (ws.request("", {"type": "x"}), ws.request(sandbox.account_id, {}),
                 ws.request(sandbox.account_id, {"type": "x"}, instance_number=7),
                 ws.ensure_subscribe(sandbox.account_id, ""), ws.trade(sandbox.account_id, "buy")):  # type: ignore[arg-type]  # fmt: skip
        with pytest.raises(ValidationException):
            await call


async def test_raising_listener_does_not_break_the_stream(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    class Broken(Recorder):
        async def on_account_information_updated(self, instance_index: str, info: dict) -> None:
            raise RuntimeError("listener bug")

    broken = Broken()
    ws.add_synchronization_listener(sandbox.account_id, broken)
    recorder = await subscribed(ws, sandbox.account_id)
    await synchronize(ws, sandbox.account_id, recorder)
    assert recorder.of("on_account_information_updated") and broken.of("on_deals_synchronized")


async def test_close_leaves_no_task_and_no_socket(make_client: Callable[..., WebsocketClient],
                                                   sandbox: SandboxHandle) -> None:  # fmt: skip
    before = asyncio.all_tasks()
    client = make_client()
    recorder = await subscribed(client, sandbox.account_id)
    await synchronize(client, sandbox.account_id, recorder)
    pending = asyncio.ensure_future(client.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC"))
    delay = sandbox.server.faults.add_delay(5.0, scope="socket")
    await asyncio.sleep(0.05)
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(NotConnectedException):
        await pending
    assert await helpers.tasks_left(before) == set()
    assert client.socket_count() == 0
    delay.count = 0
    await recorder.until(lambda: not sandbox.server.hub.connections)


class Stamps(LatencyListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    async def on_response(self, account_id: str, type: str, timestamps: dict) -> None:
        self.calls.append(("response", type, timestamps))

    async def on_trade(self, account_id: str, timestamps: dict) -> None:
        self.calls.append(("trade", "trade", timestamps))


async def test_latency_listener_gets_response_and_trade_timestamps(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    stamps = Stamps()
    ws.latency_listener = stamps
    await subscribed(ws, sandbox.account_id)
    await ws.request(sandbox.account_id, {"type": "getServerTime"}, application="RPC")
    await ws.trade(sandbox.account_id, {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01})
    kinds = [(kind, request_type) for kind, request_type, _ in stamps.calls]
    assert ("response", "getServerTime") in kinds and ("trade", "trade") in kinds
    trade_stamps = stamps.calls[-1][2]
    assert {"clientProcessingStarted", "tradeStarted", "tradeExecuted", "clientProcessingFinished"} <= set(trade_stamps)
    assert all(isinstance(value, datetime) for value in trade_stamps.values())


async def test_packets_of_unknown_accounts_are_answered_with_unsubscribe(make_client: Callable[..., WebsocketClient],
                                                                          sandbox: SandboxHandle) -> None:  # fmt: skip
    ws = make_client(unsubscribeThrottlingIntervalInSeconds=0.5)
    await subscribed(ws, sandbox.account_id)
    seen: list[dict] = []
    faults = sandbox.server.faults
    original = faults.before_socket_request

    async def spy(sid: str, request: dict) -> None:
        seen.append(request)
        await original(sid, request)

    faults.before_socket_request = spy  # type: ignore[method-assign]
    socket = ws._socket_of[(sandbox.account_id, 0)]
    stray = {"type": "prices", "accountId": "stranger", "instanceIndex": 0, "prices": []}
    for _ in range(3):
        await ws.on_packet(socket, dict(stray))
    recorder = Recorder()
    await recorder.until(lambda: [r for r in seen if r.get("accountId") == "stranger"])
    unsubscribes = [r for r in seen if r.get("accountId") == "stranger"]
    assert len(unsubscribes) == 1 and unsubscribes[0]["type"] == "unsubscribe"  # throttled
    await asyncio.sleep(0.6)  # the option's interval passed: the next stray packet is answered again
    await ws.on_packet(socket, dict(stray))
    await recorder.until(lambda: len([r for r in seen if r.get("accountId") == "stranger"]) == 2)


async def test_cloud_socket_urls_follow_the_domain_settings() -> None:
    settings = {"hostname": "mt-client-api-dedicated", "domain": "agiliumtrade.ai"}

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/users/current/servers/mt-client-api"
        return httpx.Response(200, json=settings)

    transport = httpx.MockTransport(answer)  # the cloud cannot run here
    async with MetaApi("a.b.c", transport=transport) as api:
        client = WebsocketClient(api.context)
        assert (
            await client.socket_base_url("vint-hill", 0)
            == "https://mt-client-api-dedicated.vint-hill-a.agiliumtrade.ai"
        )
        assert await client.socket_base_url("london", 1) == "https://mt-client-api-dedicated.london-b.agiliumtrade.ai"
    async with MetaApi("a.b.c", {"useSharedClientApi": True}, transport=transport) as api:
        client = WebsocketClient(api.context)
        assert await client.socket_base_url("vint-hill", 1) == "https://mt-client-api-v1.vint-hill-b.agiliumtrade.ai"


async def test_accounts_share_sockets_up_to_the_limit(ws: WebsocketClient, sandbox: SandboxHandle,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(transport, "MAX_ACCOUNTS_PER_SOCKET", 2)
    server = sandbox.server
    base = {"name": "Test", "server": "Sandbox-Demo", "login": "60001", "platform": "mt5", "magic": 0}
    accounts = [sandbox.account_id]
    for _ in range(2):
        doc = new_account(server.user_id, dict(base), server.config.region)
        server.accounts.deploy_now(doc)
        accounts.append(doc["_id"])
    recorders = [await subscribed(ws, account_id) for account_id in accounts]
    assert ws.socket_count() == 4  # two per instance: 2 accounts + 1 account
    for account_id, recorder in zip(accounts, recorders, strict=True):
        assert recorder.of("on_connected") and ws.connected_instances(account_id)
        answer = await ws.request(account_id, {"type": "getAccountInformation"}, application="RPC")
        assert answer["accountId"] == account_id


async def test_unreachable_server_times_out_and_closes_cleanly(make_client: Callable[..., WebsocketClient]) -> None:
    before = asyncio.all_tasks()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(url=f"http://127.0.0.1:{port}", connectTimeout=0.3)
    await client.ensure_subscribe("acc", REGION)
    with pytest.raises(TimeoutException):
        await client.request("acc", {"type": "getServerTime"}, application="RPC", retry=False)
    await client.close()
    assert await helpers.tasks_left(before) == set()


async def test_one_request_id_on_both_instances(ws: WebsocketClient, sandbox: SandboxHandle) -> None:
    server = sandbox.server
    base = {"name": "High", "server": "Sandbox-Demo", "login": "60002", "platform": "mt5", "magic": 0,
            "reliability": "high"}  # fmt: skip
    doc = new_account(server.user_id, base, server.config.region)
    server.accounts.deploy_now(doc)
    account_id = doc["_id"]
    recorder = await subscribed(ws, account_id)
    await ws.ensure_subscribe(account_id, REGION, 1)
    await recorder.until(lambda: len(ws.connected_instances(account_id)) == 2)
    # a high-reliability trade goes to both instances with one requestId: each answer resolves its own request
    calls = [ws.request(account_id, {"type": "getServerTime", "requestId": "samerequestid"}, instance_number=n,
                        application="RPC") for n in (0, 1)]  # fmt: skip
    answers = await asyncio.gather(*calls)
    assert [a["requestId"] for a in answers] == ["samerequestid"] * 2


async def test_status_packets_keep_streams_alive_and_carry_the_broker_state(
    mtdata_sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    box = mtdata_sandbox_factory(status_interval=0.1, deploy_delay=0.05)
    api = MetaApi.sandbox(box.url, box.token)
    client = WebsocketClient(api.context, timers=Timers(status_timeout=1.0))
    try:
        recorder = await subscribed(client, box.account_id)
        await recorder.wait_for("on_broker_connection_status_changed", 15)  # 1.5 s of statuses: no silence
        assert "on_disconnected" not in recorder.names()
        await asyncio.to_thread(box.call, box.server.faults.set_broker(box.account_id, False))
        await recorder.until(
            lambda: (f"{REGION}:0:ps-mpa-0", False) in recorder.of("on_broker_connection_status_changed")
        )
        assert recorder.of("on_health_status")[-1][1]["rpcApiHealthy"] is True
        assert "on_disconnected" not in recorder.names()
    finally:
        await client.close()
        await api.close()
