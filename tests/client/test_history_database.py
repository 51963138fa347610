"""FilesystemHistoryDatabase: file naming, round trip with dates, torn tails and crashes mid-flush, clear."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mtdata.client.history.database import FilesystemHistoryDatabase
from mtdata.errors import ValidationException

T0 = datetime(2024, 3, 1, 12, 0, 5, 123000, tzinfo=UTC)


def deal(i: int) -> dict[str, Any]:
    return {"id": str(100 + i), "type": "DEAL_TYPE_BUY", "time": T0 + timedelta(seconds=i), "profit": i / 4,
            "brokerTime": "2024-03-01 14:00:05.123", "positionId": str(50 + i // 2)}  # fmt: skip


def order(i: int) -> dict[str, Any]:
    return {"id": str(200 + i), "type": "ORDER_TYPE_BUY", "state": "ORDER_STATE_FILLED", "time": T0,
            "doneTime": T0 + timedelta(seconds=i), "trailingStopLoss": {"threshold": {"thresholds": []}}}  # fmt: skip


async def test_round_trip_with_spec_file_names_and_wire_dates(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path / "store")
    assert await db.load_history("acc1", "MetaApi") == {"historyOrders": [], "deals": []}
    await db.flush("acc1", "MetaApi", [order(0)], [deal(0), deal(1)])
    await db.flush("acc1", "MetaApi", [], [deal(2)])
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [
        "acc1-MetaApi-deals.bin",
        "acc1-MetaApi-historyOrders.bin",
    ]
    first = (tmp_path / "store" / "acc1-MetaApi-deals.bin").read_bytes().split(b"\n")[0]
    assert b'"time":"2024-03-01T12:00:05.123Z"' in first  # the wire's ISO format on disk
    history = await db.load_history("acc1", "MetaApi")
    assert history == {"historyOrders": [order(0)], "deals": [deal(0), deal(1), deal(2)]}
    assert await db.load_history("acc1", "RPC") == {"historyOrders": [], "deals": []}


async def test_default_directory_is_dot_metaapi_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = FilesystemHistoryDatabase()
    await db.flush("acc", "app", [], [deal(0)])
    assert (tmp_path / ".metaapi" / "acc-app-deals.bin").exists()
    await db.clear("acc", "app")
    assert not (tmp_path / ".metaapi" / "acc-app-deals.bin").exists()
    await db.clear("acc", "app")  # nothing to delete: fine


@pytest.mark.parametrize("account_id", ["", "../x", "a/b", ".hidden", None, 5])
async def test_bad_names_are_refused_before_touching_files(tmp_path: Path, account_id: Any) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    with pytest.raises(ValidationException) as caught:
        await db.flush(account_id, "app", [], [deal(0)])
    assert caught.value.details[0]["parameter"] == "account_id"
    assert list(tmp_path.iterdir()) == []


async def test_torn_tail_is_ignored_on_load_and_cut_before_the_next_append(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await db.flush("acc", "app", [], [deal(0), deal(1)])
    path = db.path("acc", "app", "deals")
    intact = path.read_bytes()
    with path.open("ab") as handle:  # what a crash in the middle of a write leaves
        handle.write(b'{"id":"999","time":"2024-03-0')
    assert (await db.load_history("acc", "app"))["deals"] == [deal(0), deal(1)]
    await db.flush("acc", "app", [], [deal(2)])
    assert path.read_bytes().startswith(intact)
    assert (await db.load_history("acc", "app"))["deals"] == [deal(0), deal(1), deal(2)]


async def test_garbage_lines_are_skipped_and_later_lines_replace_earlier_ones(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await db.flush("acc", "app", [], [deal(0)])
    path = db.path("acc", "app", "deals")
    with path.open("ab") as handle:
        handle.write(b"\0\0\0\0\n[1,2]\n{not json}\n")
    await db.flush("acc", "app", [], [deal(1), {**deal(0), "profit": 9.5}])
    assert (await db.load_history("acc", "app"))["deals"] == [deal(0), deal(1), {**deal(0), "profit": 9.5}]


async def test_a_file_of_only_a_torn_line_loads_empty_and_is_reset(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    path = db.path("acc", "app", "deals")
    path.write_bytes(b'{"id":"1","ti')
    assert (await db.load_history("acc", "app"))["deals"] == []
    await db.flush("acc", "app", [], [deal(3)])
    assert (await db.load_history("acc", "app"))["deals"] == [deal(3)]


async def test_chunked_loading_of_many_records(tmp_path: Path) -> None:
    db = FilesystemHistoryDatabase(tmp_path)
    await db.flush("acc", "app", [], [deal(i) for i in range(2500)])
    chunks = [chunk async for chunk in db.iter_history("acc", "app", "deals", chunk_lines=1000)]
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert [d for c in chunks for d in c] == [deal(i) for i in range(2500)]


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime, timedelta
    from mtdata.client.history.database import FilesystemHistoryDatabase

    async def main():
        db = FilesystemHistoryDatabase(sys.argv[1])
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        batch = 0
        while True:
            deals = [{"id": str(batch * 20000 + i), "time": t0 + timedelta(seconds=i), "comment": "x" * 200}
                     for i in range(20000)]
            await db.flush("acc", "app", [], deals)
            batch += 1
            print(batch, flush=True)

    asyncio.run(main())
    """
)


async def test_a_writer_killed_mid_flush_never_corrupts_earlier_batches(tmp_path: Path) -> None:
    """SIGKILL a process that keeps flushing 5 MB batches; every complete batch must load intact."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert process.stdout is not None
    for _ in range(3):  # three batches acknowledged as flushed, then kill during a later one
        process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    process.wait()
    db = FilesystemHistoryDatabase(tmp_path)
    deals = (await db.load_history("acc", "app"))["deals"]
    assert len(deals) >= 3 * 20000
    assert [int(d["id"]) for d in deals] == list(range(len(deals)))  # a prefix, in order, no damaged record
    assert all(d["comment"] == "x" * 200 for d in deals)
    await db.flush("acc", "app", [], [deal(0)])
    assert (await db.load_history("acc", "app"))["deals"][-1] == deal(0)
