"""The server restarted mid-stream: the streaming connection resubscribes and resynchronizes from its history times
and hashes, market data comes back, and the local copy again equals the server's (no duplicate, no missing deal)."""

from __future__ import annotations

import asyncio
from typing import Any

from test_streaming_helpers import (
    assert_same_as_server,
    eventually,
    random_trading,
    rpc_connection,
    streaming_connection,
)

from mtdata.client import MetaApi
from mtdata.sandbox import SandboxHandle


async def test_server_restart_mid_stream(api: MetaApi, sandbox: SandboxHandle) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    connected: list[bool] = []
    prices: list[Any] = []
    connection.on_connected(lambda: connected.append(True))
    connection.on_price_updated(prices.append)
    await connection.subscribe_to_market_data("EURUSD")
    await random_trading(connection, seed=11, steps=8)
    rpc = await rpc_connection(api, sandbox.account_id)
    await assert_same_as_server(connection, rpc)
    deals_before = len(connection.history_storage.deals)

    await asyncio.to_thread(sandbox.restart)
    await eventually(lambda: len(connected) >= 1, 60, "the stream to come back")
    await connection.wait_synchronized({"timeoutInSeconds": 60})
    await rpc.wait_synchronized(60)
    # market data is restored: prices keep coming after the resynchronization
    seen = len(prices)
    await eventually(lambda: len(prices) >= seen + 3, 30, "prices after the restart")
    assert connection.subscribed_symbols() == ["EURUSD"]

    await random_trading(connection, seed=12, steps=8)
    await assert_same_as_server(connection, rpc)
    assert len(connection.history_storage.deals) >= deals_before


async def test_sockets_dropped_resubscribes_and_keeps_history(api: MetaApi, sandbox: SandboxHandle) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    rpc = await rpc_connection(api, sandbox.account_id)
    await connection.create_market_buy_order("EURUSD", 0.1)
    disconnected: list[bool] = []
    connection.on_disconnected(lambda: disconnected.append(True))
    connected: list[bool] = []
    connection.on_connected(lambda: connected.append(True))
    dropped = await asyncio.to_thread(sandbox.call, sandbox.server.hub.drop_sockets())
    assert dropped > 0
    await eventually(lambda: disconnected and connected, 60, "the stream to drop and come back")
    await connection.wait_synchronized({"timeoutInSeconds": 60})
    await connection.create_market_sell_order("EURUSD", 0.1)
    await assert_same_as_server(connection, rpc)
