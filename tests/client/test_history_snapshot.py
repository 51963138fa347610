"""Snapshots of MemoryHistoryStorage: written on close, used on load, ignored whenever they do not check out."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtdata.client.history import memory as history_memory
from mtdata.client.history.database import FilesystemHistoryDatabase
from mtdata.client.history.index import HistoryCollection
from mtdata.client.history.memory import MemoryHistoryStorage

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
STREAM = "vint-hill:0:ps-mpa-0"


def deal(i: int) -> dict[str, Any]:
    record: dict[str, Any] = {"id": str(1000 + i), "type": "DEAL_TYPE_BUY", "time": T0 + timedelta(seconds=i),
                              "brokerTime": f"2024-03-01 14:00:{i % 60:02d}.000", "profit": i / 8, "commission": 0,
                              "positionId": str(500 + i // 2)}  # fmt: skip
    if i % 7 == 0:
        record["trailingStopLoss"] = {"distance": {"distance": i, "units": "RELATIVE_PIPS"}}
    if i % 11 == 0:
        record["comment"] = "ünï ✓"
    return record


@pytest.fixture(autouse=True)
def small_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshot after 50 new records instead of 10,000, so tests stay small."""
    monkeypatch.setattr(history_memory, "SNAPSHOT_AFTER", 50)


async def stored(db: FilesystemHistoryDatabase, count: int, start: int = 0) -> MemoryHistoryStorage:
    """A storage on ``db`` that received ``count`` deals through the listener, then closed."""
    storage = MemoryHistoryStorage(db, flush_delay=3600)
    await storage.initialize("acc", "MetaApi")
    for i in range(start, start + count):
        await storage.on_deal_added(STREAM, deal(i))
    await storage.close()
    return storage


async def reloaded(db: FilesystemHistoryDatabase) -> MemoryHistoryStorage:
    storage = MemoryHistoryStorage(db)
    await storage.initialize("acc", "MetaApi")
    return storage


def test_export_restore_round_trip_of_a_random_collection() -> None:
    rng = random.Random(5)
    collection = HistoryCollection(("time",))
    for i in rng.sample(range(3000), 3000):
        collection.add({**deal(i), "odd": rng.choice([None, True, 2**70, 1.5, "x", [1, {"time": "no"}]])})
    collection.add({**deal(10), "profit": -1.0})  # a replaced record leaves a dead row
    meta, buffers = collection.export()
    restored = HistoryCollection.restore(meta, iter(memoryview(b).cast("B").tobytes() for b in buffers))
    assert restored.all() == collection.all()
    assert restored.by_position("700") == collection.by_position("700")
    assert restored.by_id("1010") == collection.by_id("1010")
    assert restored.last_time() == collection.last_time() and restored.last_time(1) == collection.last_time()
    assert not restored.has_unsaved


async def test_close_writes_a_snapshot_that_the_next_load_uses(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await stored(db, 200)
    assert db.snapshot_path("acc", "MetaApi", "deals").exists()
    assert not db.snapshot_path("acc", "MetaApi", "historyOrders").exists()  # nothing new there
    log = db.path("acc", "MetaApi", "deals")
    data = bytearray(log.read_bytes())
    data[:10] = b"#" * 10  # damage the start of the file: the snapshot covers it, so nothing is lost
    log.write_bytes(bytes(data))
    assert (await reloaded(db)).deals == [deal(i) for i in range(200)]


async def test_records_appended_after_the_snapshot_are_read_from_the_file(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await stored(db, 100)
    snapshot = db.snapshot_path("acc", "MetaApi", "deals").read_bytes()
    await stored(db, 20, start=100)  # fewer than SNAPSHOT_AFTER: the old snapshot stays
    assert db.snapshot_path("acc", "MetaApi", "deals").read_bytes() == snapshot
    storage = await reloaded(db)
    assert storage.deals == [deal(i) for i in range(120)]
    assert await storage.last_deal_time() == deal(119)["time"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "other_log", "garbage"])
async def test_a_snapshot_that_does_not_check_out_is_ignored(tmp_path: Path, damage: str) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await stored(db, 100)
    path = db.snapshot_path("acc", "MetaApi", "deals")
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "garbage":
        path.write_bytes(b"\0" * 100)
    else:  # the history file was replaced by another one the snapshot knows nothing of
        db.path("acc", "MetaApi", "deals").unlink()
        await db.flush("acc", "MetaApi", [], [deal(i) for i in range(500, 700)])
        assert (await reloaded(db)).deals == [deal(i) for i in range(500, 700)]
        return
    assert (await reloaded(db)).deals == [deal(i) for i in range(100)]


async def test_clear_removes_snapshots(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    storage = await stored(db, 100)
    await storage.clear()
    assert list(tmp_path.iterdir()) == []
    assert (await reloaded(db)).deals == []


async def test_the_background_flush_writes_a_snapshot_too(tmp_path: Path) -> None:
    """A process that never calls close() (a killed kernel) still loads fast after a large synchronization."""
    db = FilesystemHistoryDatabase(tmp_path)
    storage = MemoryHistoryStorage(db, flush_delay=0.01)
    await storage.initialize("acc", "MetaApi")
    for i in range(100):
        await storage.on_deal_added(STREAM, deal(i))
    path = db.snapshot_path("acc", "MetaApi", "deals")
    await wait_for(path.exists)
    assert (await reloaded(db)).deals == [deal(i) for i in range(100)]
    await storage.close()


async def wait_for(check: Any, timeout: float = 20.0) -> None:
    """Poll ``check()`` until it is truthy (generous timeout: the machine may be loaded)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_a_load_that_read_many_lines_writes_a_snapshot(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await db.flush("acc", "MetaApi", [], [deal(i) for i in range(100)])  # lines only, no snapshot yet
    assert not db.snapshot_path("acc", "MetaApi", "deals").exists()
    await reloaded(db)
    assert db.snapshot_path("acc", "MetaApi", "deals").exists()
    assert (await reloaded(db)).deals == [deal(i) for i in range(100)]
