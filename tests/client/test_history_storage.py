"""MemoryHistoryStorage as a synchronization listener: flags, duplicates, last times, loading, debounced flush."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtdata.client.history import memory as history_memory
from mtdata.client.history.database import FilesystemHistoryDatabase
from mtdata.client.history.memory import MemoryHistoryStorage
from mtdata.client.history.storage import HistoryStorage
from mtdata.errors import ValidationException

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
I0, I1 = "vint-hill:0:ps-mpa-0", "vint-hill:1:ps-mpa-1"


def deal(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": str(100 + i), "type": "DEAL_TYPE_SELL", "time": T0 + timedelta(minutes=i), "positionId": "7",
            "profit": 1.5, **extra}  # fmt: skip


def order(i: int) -> dict[str, Any]:
    return {"id": str(200 + i), "type": "ORDER_TYPE_SELL", "state": "ORDER_STATE_FILLED", "positionId": "7",
            "time": T0, "doneTime": T0 + timedelta(minutes=i)}  # fmt: skip


def history_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "mtdata-history-flush"]


async def wait_for(check: Any, timeout: float = 20.0) -> None:
    """Poll ``check()`` until it is truthy (generous timeout: the machine may be loaded)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_flags_follow_the_synchronization_per_stream() -> None:
    storage = MemoryHistoryStorage()
    assert isinstance(storage, HistoryStorage)
    assert not storage.order_synchronization_finished and not storage.deal_synchronization_finished
    await storage.on_connected(I0, 1)
    await storage.on_synchronization_started(I0, None, None, None, "sync1")
    await storage.on_history_orders_synchronized(I0, "sync1")
    assert storage.order_synchronization_finished and not storage.deal_synchronization_finished
    await storage.on_deals_synchronized(I0, "sync1")
    assert storage.deal_synchronization_finished and storage.is_deal_synchronization_finished(I0)
    await storage.on_history_orders_synchronized(I1, "sync2")
    await storage.on_deals_synchronized(I1, "sync2")
    for reset in (
        lambda i: storage.on_synchronization_started(i, None, None, None, "again"),
        storage.on_disconnected,
        storage.on_stream_closed,
    ):
        await reset(I0)
        assert not storage.is_order_synchronization_finished(I0) and not storage.is_deal_synchronization_finished(I0)
        assert storage.order_synchronization_finished  # I1 is still synchronized
        await storage.on_history_orders_synchronized(I0, "x")
        await storage.on_deals_synchronized(I0, "x")
    await storage.on_disconnected(I1)
    await storage.on_stream_closed(I0)
    assert not storage.order_synchronization_finished and not storage.deal_synchronization_finished


async def test_listener_events_fill_indexes_without_duplicates() -> None:
    storage = MemoryHistoryStorage()
    await storage.initialize("acc", "MetaApi")
    assert await storage.last_deal_time() is None and await storage.last_history_order_time() is None
    for i in (2, 0, 1):
        await storage.on_deal_added(I0, deal(i))
        await storage.on_history_order_added(I0, order(i))
    for i in range(3):  # an update replayed after the synchronization, and the same deals from instance 1
        await storage.on_deal_added(I0, deal(i))
        await storage.on_deal_added(I1, deal(i))
    await storage.on_deal_added(I1, deal(1, profit=-3.0))  # a changed deal replaces the old one
    assert storage.deals == [deal(0), deal(1, profit=-3.0), deal(2)]
    assert storage.history_orders == [order(0), order(1), order(2)]
    assert storage.get_deals_by_ticket("101") == [deal(1, profit=-3.0)]
    assert storage.get_deals_by_position("7") == storage.deals and storage.get_deals_by_position("8") == []
    assert storage.get_history_orders_by_ticket("202") == [order(2)]
    assert storage.get_history_orders_by_position("7") == storage.history_orders
    assert storage.get_deals_by_time_range(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)) == [
        deal(1, profit=-3.0),
        deal(2),
    ]
    naive = datetime(2024, 3, 1, 12, 1)  # naive datetimes are UTC
    assert storage.get_history_orders_by_time_range(naive, naive) == [order(1)]
    assert await storage.last_deal_time() == T0 + timedelta(minutes=2)
    assert await storage.last_deal_time(1) == T0 + timedelta(minutes=2)
    assert await storage.last_history_order_time(I0) == T0 + timedelta(minutes=2)
    assert await storage.last_history_order_time(1) is None  # instance 1 delivered no order
    await storage.clear()
    assert storage.deals == [] and await storage.last_deal_time() is None


async def test_bad_arguments_raise_validation_errors() -> None:
    storage = MemoryHistoryStorage()
    with pytest.raises(ValidationException) as caught:
        storage.get_deals_by_time_range("2024-01-01", T0)  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "start_time"
    with pytest.raises(ValidationException):
        storage.get_deals_by_ticket(5)  # type: ignore[arg-type]
    with pytest.raises(ValidationException):
        await storage.last_deal_time(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationException):
        await storage.initialize("", "MetaApi")
    with pytest.raises(ValidationException):
        MemoryHistoryStorage(flush_delay=-1)


async def test_initialize_loads_the_database_and_only_new_records_are_saved(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await db.flush("acc", "MetaApi", [order(0)], [deal(0), deal(1)])
    storage = MemoryHistoryStorage(db)
    await storage.initialize("acc", "MetaApi")
    assert storage.deals == [deal(0), deal(1)] and storage.history_orders == [order(0)]
    assert await storage.last_deal_time(1) == T0 + timedelta(minutes=1)  # loaded history counts for each instance
    await storage.on_deal_added(I0, deal(1))  # already stored: not written again
    await storage.on_deal_added(I0, deal(2))
    await storage.close()
    lines = db.path("acc", "MetaApi", "deals").read_bytes().splitlines()
    assert len(lines) == 3
    again = MemoryHistoryStorage(db)
    await again.initialize("acc", "MetaApi")
    assert again.deals == [deal(0), deal(1), deal(2)]
    await again.clear()
    assert not db.path("acc", "MetaApi", "deals").exists() and again.deals == []


async def test_new_records_are_flushed_after_the_delay_by_one_lazy_task(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    storage = MemoryHistoryStorage(db, flush_delay=0.3)
    assert history_tasks() == []  # nothing started by the constructor
    await storage.initialize("acc", "MetaApi")
    path = db.path("acc", "MetaApi", "deals")
    await storage.on_deal_added(I0, deal(0))
    await storage.on_deal_added(I0, deal(1))
    assert len(history_tasks()) == 1 and not path.exists()  # debounced, not written at once
    await wait_for(lambda: path.exists() and not history_tasks())
    assert (await db.load_history("acc", "MetaApi"))["deals"] == [deal(0), deal(1)]
    await storage.on_history_order_added(I0, order(0))
    await wait_for(lambda: not history_tasks())
    assert (await db.load_history("acc", "MetaApi"))["historyOrders"] == [order(0)]


async def test_deal_synchronization_end_flushes_at_once_and_close_leaves_no_task(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    storage = MemoryHistoryStorage(db, flush_delay=3600)
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(I0, deal(0))
    await storage.on_deals_synchronized(I0, "sync")
    await wait_for(lambda: db.path("acc", "MetaApi", "deals").exists() and not history_tasks())
    await storage.on_deal_added(I0, deal(1))
    assert len(history_tasks()) == 1
    await storage.close()
    assert history_tasks() == []
    assert (await db.load_history("acc", "MetaApi"))["deals"] == [deal(0), deal(1)]
    await storage.close()  # idempotent


class FailingDatabase(FilesystemHistoryDatabase):
    """Fails its first flushes, as a full disk would."""

    def __init__(self, directory: Path, failures: int) -> None:
        super().__init__(directory)
        self.failures = failures

    async def flush(self, *args: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        await super().flush(*args)


async def test_a_failed_flush_keeps_the_records_for_the_next_one(tmp_path: Path) -> None:
    db = FailingDatabase(tmp_path, failures=1)
    storage = MemoryHistoryStorage(db, flush_delay=3600)
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(I0, deal(0))
    with pytest.raises(OSError):
        await storage.flush()
    await storage.on_deal_added(I0, deal(1))
    await storage.close()
    assert (await db.load_history("acc", "MetaApi"))["deals"] == [deal(0), deal(1)]


async def test_memory_only_storage_starts_no_task() -> None:
    storage = MemoryHistoryStorage()
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(I0, deal(0))
    await storage.on_deals_synchronized(I0, "s")
    assert history_tasks() == []
    await storage.flush()
    await storage.close()
    assert storage.deals == [deal(0)]


async def test_a_failed_background_flush_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_memory, "FLUSH_RETRY_DELAY", 0.05)
    db = FailingDatabase(tmp_path, failures=2)
    storage = MemoryHistoryStorage(db, flush_delay=0.01)
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(I0, deal(0))
    await wait_for(lambda: not history_tasks())
    assert db.failures == 0
    assert (await db.load_history("acc", "MetaApi"))["deals"] == [deal(0)]


class SeedDatabase:
    """A database with only the seed API's three methods (no chunked loading, no snapshots)."""

    def __init__(self) -> None:
        self.saved: dict[str, list[dict[str, Any]]] = {"historyOrders": [], "deals": []}

    async def load_history(self, account_id: str, application: str) -> dict[str, list[dict[str, Any]]]:
        return {kind: list(records) for kind, records in self.saved.items()}

    async def flush(self, account_id: str, application: str, orders: list[Any], deals: list[Any]) -> None:
        self.saved["historyOrders"] += orders
        self.saved["deals"] += deals

    async def clear(self, account_id: str, application: str) -> None:
        self.saved = {"historyOrders": [], "deals": []}


async def test_a_database_with_only_the_seed_api_works() -> None:
    db = SeedDatabase()
    storage = MemoryHistoryStorage(db)
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(I0, deal(1))
    await storage.on_history_order_added(I0, order(1))
    await storage.close()
    again = MemoryHistoryStorage(db)
    await again.initialize("acc", "MetaApi")
    assert again.deals == [deal(1)] and again.history_orders == [order(1)]
