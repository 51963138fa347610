"""The server restarted mid-stream: the streaming connection resubscribes and resynchronizes from its history times
and hashes, market data comes back, and the local copy again equals the server's (no duplicate, no missing deal)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_streaming_helpers import (
    assert_same_as_server,
    eventually,
    hold_still,
    random_trading,
    rpc_connection,
    streaming_connection,
)

from mtdata.client import FilesystemHistoryDatabase, MemoryHistoryStorage, MetaApi, SynchronizationListener
from mtdata.sandbox import SandboxHandle


@pytest.mark.usefixtures("quick_reconnects")
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


@pytest.mark.usefixtures("quick_reconnects")
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


class Resent(SynchronizationListener):
    """Counts the collections a synchronization sent in full and the deals it sent."""

    def __init__(self) -> None:
        self.collections: list[str] = []
        self.deals = 0

    async def on_symbol_specifications_updated(self, instance_index: str, *args: Any) -> None:
        self.collections.append("specifications")

    async def on_positions_replaced(self, instance_index: str, positions: list[dict[str, Any]]) -> None:
        self.collections.append("positions")

    async def on_pending_orders_replaced(self, instance_index: str, orders: list[dict[str, Any]]) -> None:
        self.collections.append("orders")

    async def on_deal_added(self, instance_index: str, deal: dict[str, Any]) -> None:
        self.deals += 1


async def test_resync_from_persisted_history_and_unchanged_hashes(
    api: MetaApi, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    await hold_still(sandbox)
    storage = MemoryHistoryStorage(FilesystemHistoryDatabase(tmp_path))
    first = await streaming_connection(api, sandbox.account_id, history_storage=storage)
    await random_trading(first, seed=3, steps=10)
    rpc = await rpc_connection(api, sandbox.account_id)
    await assert_same_as_server(first, rpc)
    deals = len(first.history_storage.deals)
    empty = [name for name in ("positions", "orders") if not getattr(first.terminal_state, name)]
    await first.close()

    resent = Resent()
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    storage = MemoryHistoryStorage(FilesystemHistoryDatabase(tmp_path))
    again = account.get_streaming_connection(history_storage=storage)
    again.add_synchronization_listener(resent)
    await again.connect()
    await again.wait_synchronized()
    assert resent.collections == empty  # matched by hash (an empty collection has no hash to offer)
    assert resent.deals <= 2  # only the newest deal(s), from the last stored deal time on
    assert len(again.history_storage.deals) == deals
    await assert_same_as_server(again, rpc)


async def test_history_start_time_limits_the_history_requested(api: MetaApi, sandbox: SandboxHandle) -> None:
    await (await rpc_connection(api, sandbox.account_id)).create_market_buy_order("EURUSD", 0.1)
    later = datetime.now(UTC) + timedelta(days=1)  # after every deal (the sandbox's market clock is pinned earlier)
    connection = await streaming_connection(api, sandbox.account_id, history_start_time=later)
    assert connection.history_storage.deals == []


async def test_subscription_downgrade_is_followed(api: MetaApi, sandbox: SandboxHandle) -> None:
    connection = await streaming_connection(api, sandbox.account_id)
    await connection.subscribe_to_market_data("EURUSD", [{"type": "quotes"}, {"type": "candles", "timeframe": "1m"}])
    updates = [{"type": "quotes", "intervalInMilliseconds": 5000}]
    downgrade = sandbox.server.hub.send_downgrade(sandbox.account_id, "EURUSD", updates, [{"type": "candles"}])
    assert await asyncio.to_thread(sandbox.call, downgrade) == 1
    await eventually(lambda: connection.subscriptions("EURUSD") == updates, what="the downgrade to apply")


async def test_market_data_subscriptions_are_refreshed_periodically(make_api: Any, sandbox: SandboxHandle) -> None:
    api = make_api(refreshSubscriptionsOpts={"minDelayInSeconds": 0.05, "maxDelayInSeconds": 0.1})
    connection = await streaming_connection(api, sandbox.account_id)
    await connection.subscribe_to_market_data("EURUSD", [{"type": "quotes", "intervalInMilliseconds": 0}])

    async def forget() -> list[Any]:  # the server loses the stream's subscriptions (as a failover would)
        streams = [stream for _, stream in sandbox.server.hub._subscribed(sandbox.account_id)]
        for stream in streams:
            stream.market.clear()
        return streams

    streams = await asyncio.to_thread(sandbox.call, forget())
    await eventually(lambda: any("EURUSD" in stream.market for stream in streams), what="the refresh")
    assert next(s for s in streams if "EURUSD" in s.market).market["EURUSD"][0].interval_ms == 0
