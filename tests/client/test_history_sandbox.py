"""A real synchronization fed into MemoryHistoryStorage equals the server's history, with incremental resyncs."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtdata.client.dates import convert_dates, iso_ms
from mtdata.client.history.database import FilesystemHistoryDatabase
from mtdata.client.history.memory import MemoryHistoryStorage
from mtdata.sandbox import SandboxHandle

sys.path.insert(0, str(Path(__file__).parents[1] / "sandbox"))
from test_realtime_helpers import Wire

RPC = {"application": "RPC"}
SPAN = {"startTime": "2000-01-01T00:00:00.000Z", "endTime": "2100-01-01T00:00:00.000Z"}
STREAM = "vint-hill:0:ps-mpa-0"


@pytest.fixture
def box(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox whose market clock starts next Wednesday 09:00 UTC: FX trades, and every trade comes after the
    initial deposit (stamped at the account's wall-clock creation time; a clock pinned in the past would put
    the deposit after the trades, and an incremental sync from the newest deal would then miss them)."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
    return mtdata_sandbox_factory(deploy_delay=0.05, start=wednesday.strftime("%Y-%m-%dT%H:%M:%SZ"))


async def trade(wire: Wire, **fields: Any) -> dict[str, Any]:
    """A trade that must succeed: its response object."""
    response = (await wire.ok("trade", trade=fields))["response"]
    assert response["stringCode"] in ("TRADE_RETCODE_DONE", "TRADE_RETCODE_PLACED"), response
    return response


async def feed(storage: MemoryHistoryStorage, packets: list[dict[str, Any]]) -> None:
    """Hand synchronization / update packets to the storage as the client's packet layer would (dates converted)."""
    for packet in map(convert_dates, copy.deepcopy(packets)):
        kind, sync_id = packet["type"], packet.get("synchronizationId", "")
        if kind == "synchronizationStarted":
            await storage.on_synchronization_started(STREAM, None, None, None, sync_id)
        for order in packet.get("historyOrders") or []:
            await storage.on_history_order_added(STREAM, order)
        for deal in packet.get("deals") or []:
            await storage.on_deal_added(STREAM, deal)
        if kind == "orderSynchronizationFinished":
            await storage.on_history_orders_synchronized(STREAM, sync_id)
        if kind == "dealSynchronizationFinished":
            await storage.on_deals_synchronized(STREAM, sync_id)


async def server_history(wire: Wire) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The server's deals and history orders (RPC), dates converted as the client sees them."""
    deals = convert_dates((await wire.ok("getDealsByTimeRange", **SPAN, **RPC))["deals"])
    orders = convert_dates((await wire.ok("getHistoryOrdersByTimeRange", **SPAN, **RPC))["historyOrders"])
    return deals, orders


async def synchronize(wire: Wire, storage: MemoryHistoryStorage) -> list[dict[str, Any]]:
    """A synchronization starting from the storage's last times; its packets fed to the storage."""
    starts = {}
    for field, last in (
        ("startingHistoryOrderTime", await storage.last_history_order_time(0)),
        ("startingDealTime", await storage.last_deal_time(0)),
    ):
        if last is not None:
            starts[field] = iso_ms(last)
    _, packets = await wire.synchronize(**starts)
    await feed(storage, packets)
    return packets


async def test_synchronized_history_equals_the_servers(box: SandboxHandle, sio_connect: Any, tmp_path: Path) -> None:
    wire = await Wire.connect(sio_connect, box)
    await wire.subscribe()
    await wire.synchronize()
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1)
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="GBPUSD", volume=0.2)
    await trade(wire, actionType="POSITION_PARTIAL", positionId=opened["positionId"], volume=0.04)
    await trade(wire, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"])
    pending = await trade(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=0.5)
    await trade(wire, actionType="ORDER_CANCEL", orderId=pending["orderId"])

    db = FilesystemHistoryDatabase(tmp_path)
    storage = MemoryHistoryStorage(db, flush_delay=3600)
    await storage.initialize(box.account_id, "MetaApi")
    packets = await synchronize(wire, storage)
    assert storage.order_synchronization_finished and storage.deal_synchronization_finished
    deals, orders = await server_history(wire)
    assert len(deals) >= 5 and len(orders) >= 5
    assert storage.deals == deals
    assert storage.history_orders == orders
    assert storage.get_deals_by_position(opened["positionId"]) == [
        d for d in deals if d.get("positionId") == opened["positionId"]
    ]
    assert storage.get_deals_by_time_range(deals[1]["time"], deals[-1]["time"]) == deals[1:]

    await feed(storage, wire.of_type("update"))  # the trades' update packets, replayed: nothing new
    await feed(storage, packets)  # the same synchronization again: nothing new
    assert storage.deals == deals and storage.history_orders == orders

    await trade(wire, actionType="POSITIONS_CLOSE_SYMBOL", symbol="GBPUSD")
    packets = await synchronize(wire, storage)  # incremental: from the newest times held
    sent = [d for p in packets for d in p.get("deals") or []]
    deals, orders = await server_history(wire)
    assert 0 < len(sent) < len(deals)
    assert storage.deals == deals and storage.history_orders == orders

    await storage.close()
    reloaded = MemoryHistoryStorage(db)
    await reloaded.initialize(box.account_id, "MetaApi")
    assert reloaded.deals == deals and reloaded.history_orders == orders
    assert await reloaded.last_deal_time() == deals[-1]["time"]
