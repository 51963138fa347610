"""Streaming connections against the sandbox: synchronization end to end, listeners of both styles, bad input,
calls on closed or unsynchronized connections, and a close() that leaves nothing behind."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import pytest
from test_streaming_helpers import (
    assert_same_as_server,
    eventually,
    random_trading,
    rpc_connection,
    streaming_connection,
)

from mtdata.client import MetaApi, SynchronizationListener
from mtdata.errors import NotConnectedException, NotSynchronizedException, TradeException, ValidationException
from mtdata.sandbox import SandboxHandle


async def test_synchronization_end_to_end_after_random_trading(api: MetaApi, sandbox: SandboxHandle) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    rpc = await rpc_connection(api, sandbox.account_id)
    assert connection.synchronized and await connection.is_synchronized()
    assert connection.terminal_state.specification("EURUSD")["symbol"] == "EURUSD"
    await random_trading(connection, seed=5)
    await assert_same_as_server(connection, rpc)
    assert connection.terminal_state.positions or connection.terminal_state.orders

    # a second client synchronizes the same account from scratch (history and all)
    fresh_api = MetaApi.sandbox(sandbox.url, sandbox.token)
    try:
        fresh = await streaming_connection(fresh_api, sandbox.account_id)
        await assert_same_as_server(fresh, rpc)
    finally:
        await fresh_api.close()


async def test_trades_carry_client_ids_and_rejections_raise_trade_exceptions(
    api: MetaApi, sandbox: SandboxHandle
) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    response = await connection.create_market_buy_order("EURUSD", 0.1, options={"comment": "test"})
    assert response["stringCode"] == "TRADE_RETCODE_DONE" and response["clientId"].startswith("TE_")
    await eventually(lambda: any(p["id"] == response["positionId"] for p in connection.terminal_state.positions))
    position = next(p for p in connection.terminal_state.positions if p["id"] == response["positionId"])
    assert position["clientId"] == response["clientId"] and position["comment"] == "test"
    with pytest.raises(TradeException) as caught:
        await connection.create_market_buy_order("EURUSD", 0.001)
    assert caught.value.numeric_code == 10014 and caught.value.string_code == "TRADE_RETCODE_INVALID_VOLUME"
    with pytest.raises(TradeException) as caught:
        await connection.close_position("987654321")
    assert caught.value.numeric_code == 4753


class Recorder(SynchronizationListener):
    """A listener class recording prices and positions; ``explode`` makes every price callback raise."""

    def __init__(self, explode: bool = False) -> None:
        self.prices: list[dict[str, Any]] = []
        self.positions: list[str] = []
        self.explode = explode

    async def on_symbol_price_updated(self, instance_index: str, price: dict[str, Any]) -> None:
        self.prices.append(price)
        if self.explode:
            raise RuntimeError("listener failure")

    async def on_position_updated(self, instance_index: str, position: dict[str, Any]) -> None:
        self.positions.append(position["id"])


async def test_listeners_of_both_styles_and_raising_ones_never_break_the_stream(
    api: MetaApi, sandbox: SandboxHandle
) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = account.get_streaming_connection()
    seen: dict[str, list[Any]] = {"connected": [], "price": [], "async_price": [], "deal": [], "position": [],
                                  "info": [], "errors": [], "candles": [], "ticks": [], "books": []}  # fmt: skip

    @connection.on_connected
    def connected() -> None:
        seen["connected"].append(True)

    @connection.on_price_updated
    def price(price: dict[str, Any]) -> None:
        seen["price"].append(price["symbol"])
        raise ValueError("decorated failure")

    @connection.on_symbol_price_updated
    async def async_price(price: dict[str, Any]) -> None:
        seen["async_price"].append(price["symbol"])

    @connection.on_deal_added
    async def deal(deal: dict[str, Any]) -> None:
        seen["deal"].append(deal["id"])

    @connection.on_position_updated
    def position(position: dict[str, Any]) -> None:
        seen["position"].append(position["id"])

    @connection.on_account_information_updated
    def info(information: dict[str, Any]) -> None:
        seen["info"].append(information["balance"])

    @connection.on_error
    async def error(error: Exception) -> None:
        seen["errors"].append(error)

    connection.on_candle_data_received(lambda candle: seen["candles"].append(candle["timeframe"]))
    connection.on_tick_data_received(lambda tick: seen["ticks"].append(tick["symbol"]))
    connection.on_book_data_received(lambda book: seen["books"].append(book["symbol"]))
    assert price.__name__ == "price"  # the decorators return the function
    exploding, recording = Recorder(explode=True), Recorder()
    connection.add_synchronization_listener(exploding)
    connection.add_synchronization_listener(recording)

    await connection.connect()
    await connection.wait_synchronized()
    assert seen["connected"] and seen["info"] and seen["deal"]  # the initial deposit
    await connection.subscribe_to_market_data("EURUSD", [{"type": "quotes"}, {"type": "candles", "timeframe": "1m"},
                                                         {"type": "ticks"}, {"type": "books"}])  # fmt: skip
    response = await connection.create_market_buy_order("EURUSD", 0.1)
    await eventually(lambda: len(recording.prices) >= 5 and len(seen["async_price"]) >= 5, what="prices")
    await eventually(lambda: seen["candles"] and seen["ticks"] and seen["books"], what="market data")
    await eventually(
        lambda: response["positionId"] in seen["position"] and response["positionId"] in recording.positions
    )
    assert len(exploding.prices) >= 5  # still called after raising
    assert any(isinstance(e, ValueError) for e in seen["errors"])
    assert connection.subscribed_symbols() == ["EURUSD"]
    connection.remove_callback(price)
    count = len(seen["price"])
    await eventually(lambda: len(seen["async_price"]) >= count + 3, what="more prices")
    assert len(seen["price"]) == count
    await connection.close()


async def test_bad_input_raises_validation_exceptions_naming_the_argument(api: MetaApi, sandbox: SandboxHandle) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    bad = [
        ("symbol", connection.create_market_buy_order("NOSUCH", 0.1)),
        ("volume", connection.create_market_sell_order("EURUSD", float("nan"))),
        ("symbol", connection.subscribe_to_market_data("NOSUCH")),
        ("subscriptions[0].timeframe", connection.subscribe_to_market_data("EURUSD", {"type": "candles",
                                                                                      "timeframe": "7m"})),
        ("timeout_in_seconds", connection.subscribe_to_market_data("EURUSD", None, -1)),
        ("timeframe", connection.get_candle("EURUSD", "1y")),
        ("symbol", connection.get_symbol_price(42)),
        ("options.timeoutInSeconds", connection.wait_synchronized({"timeoutInSeconds": "soon"})),
        ("options.nonsense", connection.wait_synchronized({"nonsense": 1})),
        ("end_time", connection.get_deals_by_time_range(datetime(2026, 2, 1),
                                                        datetime(2026, 1, 1))),
        ("limit", connection.get_history_orders_by_time_range(datetime(2026, 1, 1),
                                                              datetime(2026, 2, 1), 0, 5000)),
        ("order.type", connection.calculate_margin({"symbol": "EURUSD", "type": "BUY", "volume": 1, "openPrice": 1})),
        ("symbols", connection.refresh_symbol_quotes([])),
    ]  # fmt: skip
    for argument, call in bad:
        with pytest.raises(ValidationException) as caught:
            await call
        assert caught.value.details[0]["parameter"] == argument
    assert connection.terminal_state.positions == [] and connection.subscribed_symbols() == []
    await connection.close()
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    for argument, kwargs in (("history_storage", {"history_storage": {}}),
                             ("history_start_time", {"history_start_time": "2026-01-01"})):  # fmt: skip
        with pytest.raises(ValidationException) as caught:
            account.get_streaming_connection(**kwargs)
        assert caught.value.details[0]["parameter"] == argument


async def test_closed_and_unsynchronized_connections_fail_promptly(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = account.get_streaming_connection()
    with pytest.raises(NotConnectedException):
        await connection.get_positions()  # not connected yet
    with pytest.raises(ValidationException):
        await connection.create_market_buy_order("EURUSD", 0)  # validated before anything else
    await connection.connect()
    with pytest.raises(NotSynchronizedException):
        await connection.subscribe_to_market_data("EURUSD")  # no specifications yet
    waiter = asyncio.ensure_future(connection.wait_synchronized({"synchronizationId": "never"}))
    await asyncio.sleep(0.2)
    await connection.close()
    with pytest.raises(NotConnectedException):
        await asyncio.wait_for(waiter, 10)  # a waiter wakes up when the connection closes
    for call in (connection.get_positions(), connection.create_market_buy_order("EURUSD", 0.1),
                 connection.wait_synchronized(), connection.connect()):  # fmt: skip
        with pytest.raises(NotConnectedException):
            await asyncio.wait_for(call, 10)
    again = account.get_streaming_connection()  # a new connection after the old one closed
    await again.connect()
    await again.wait_synchronized()
    await again.close()


async def test_instances_share_one_connection_and_the_last_close_unsubscribes(
    api: MetaApi, sandbox: SandboxHandle
) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    first, second = account.get_streaming_connection(), account.get_streaming_connection()
    assert first.connection is second.connection
    await first.connect()
    await second.connect()
    await first.wait_synchronized()
    await first.close()
    assert api.websocket_client.is_subscribed(sandbox.account_id) and second.synchronized
    with pytest.raises(NotConnectedException):
        await first.get_positions()
    await second.close()
    assert not api.websocket_client.is_subscribed(sandbox.account_id)


async def test_close_leaves_no_task_socket_or_thread(sandbox: SandboxHandle) -> None:
    threads_before = set(threading.enumerate())
    api = MetaApi.sandbox(sandbox.url, sandbox.token)
    connection = await streaming_connection(api, sandbox.account_id)
    rpc = await rpc_connection(api, sandbox.account_id)
    await connection.subscribe_to_market_data("EURUSD")
    await rpc.get_account_information()
    client = api.websocket_client
    assert client.socket_count() > 0
    await api.close()
    assert client.socket_count() == 0 and client.closed

    def others() -> list[asyncio.Task[Any]]:
        return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]

    # engineio's own tasks end a moment after their socket closes; none may linger
    await eventually(lambda: not others(), 30, "no task left")
    # the event loop's default executor (DNS lookups) belongs to the loop, not to the client
    left = {thread for thread in threading.enumerate() if not thread.name.startswith("asyncio_")}
    assert left <= threads_before, left - threads_before
    with pytest.raises(NotConnectedException):
        await connection.get_positions()


async def test_market_data_lifecycle_and_state_helpers(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    async with account.get_streaming_connection() as connection:
        await connection.wait_connected(60)
        assert await connection.is_connected()
        await connection.wait_synchronized(60)
        price = await connection.subscribe_to_market_data("EURUSD", timeout_in_seconds=30)
        assert price["symbol"] == "EURUSD" and connection.terminal_state.price("EURUSD") is not None
        candles = [{"type": "candles", "timeframe": "1m"}, {"type": "candles", "timeframe": "5m"}]
        assert await connection.subscribe_to_market_data("GBPUSD", candles, wait_for_quote=False) is None
        assert connection.subscribed_symbols() == ["EURUSD", "GBPUSD"]
        await connection.unsubscribe_from_market_data("GBPUSD", [{"type": "candles", "timeframe": "5m"}])
        assert connection.subscriptions("GBPUSD") == [{"type": "candles", "timeframe": "1m"}]
        await connection.refresh_market_data_subscriptions()
        await connection.unsubscribe_from_market_data("GBPUSD", {"type": "candles"})
        assert connection.subscribed_symbols() == ["EURUSD"]
        await connection.unsubscribe_from_all_market_data()
        assert connection.subscribed_symbols() == []
        status = await connection.get_health_status()
        assert status["connected"] and status["synchronized"]
        server_time = await connection.get_server_time()
        assert (await connection.get_account_information())["balance"] == 10000 and server_time["time"]
    assert connection.closed
    assert not api.websocket_client.is_subscribed(sandbox.account_id)


async def test_high_reliability_trades_go_to_both_instances_once(api: MetaApi, sandbox: SandboxHandle) -> None:
    from mtdata.sandbox.accounts import new_account

    server = sandbox.server
    fields = {"name": "High", "server": "Sandbox-Demo", "login": "60002", "platform": "mt5", "magic": 0,
              "reliability": "high"}  # fmt: skip
    doc = new_account(server.user_id, fields, server.config.region)
    server.accounts.deploy_now(doc)
    connection = await streaming_connection(api, doc["_id"])
    assert connection.account.reliability == "high"
    # the sandbox's ``authenticated`` says replicas: 1, which stops the instance-1 subscribe loop: start it again
    await api.websocket_client.ensure_subscribe(doc["_id"], server.config.region, 1)
    await eventually(lambda: len(connection.connection._sync.connected_instances()) == 2, what="both instances")
    response = await connection.create_market_buy_order("EURUSD", 0.1)
    rpc = await rpc_connection(api, doc["_id"])
    positions = await rpc.get_positions()
    assert [p["id"] for p in positions] == [response["positionId"]]  # executed once
    await eventually(lambda: [p["id"] for p in connection.terminal_state.positions] == [response["positionId"]])
    with pytest.raises(TradeException):
        await connection.create_market_buy_order("EURUSD", 0.001)
