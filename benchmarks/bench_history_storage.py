"""MemoryHistoryStorage with 1,000,000 deals: memory, query times, and loading that history from disk.

Run alone: ``python -m benchmarks.bench_history_storage`` (``--deals N`` for another size). Deals shaped like
the sandbox's (17-19 fields, unique ids and broker times) go in through the listener method ``on_deal_added``.
Targets: RSS growth < 300 MB, a time-range query (1,000 deals) < 5 ms. Loading from the filesystem database
(with the snapshot ``close()`` writes, then from the JSON lines alone) runs in fresh interpreters so their
memory figures are not blurred by the first storage.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import report
from mtdata.client.history.database import FilesystemHistoryDatabase
from mtdata.client.history.memory import MemoryHistoryStorage

DEALS = 1_000_000
T0 = datetime(2022, 1, 3, tzinfo=UTC)
#: One deal a minute on average: a million deals span about two years.
SPACING_MS = 60_000
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD")
STREAM = "vint-hill:0:ps-mpa-0"
RSS_TARGET_MB = 300
QUERY_TARGET_MS = 5


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def deals(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Deals as the sandbox writes them: opening and closing pairs, a few with comments and client ids."""
    rng = random.Random(seed)
    time_ms = int(T0.timestamp() * 1000)
    for i in range(count):
        time_ms += rng.randrange(1, 2 * SPACING_MS)
        moment = datetime.fromtimestamp(time_ms / 1000, UTC)
        opening = i % 2 == 0
        deal: dict[str, Any] = {
            "id": str(10_000_000 + i),
            "platform": "mt5",
            "type": rng.choice(("DEAL_TYPE_BUY", "DEAL_TYPE_SELL")),
            "entryType": "DEAL_ENTRY_IN" if opening else "DEAL_ENTRY_OUT",
            "symbol": SYMBOLS[(i // 2) % len(SYMBOLS)],
            "magic": 0,
            "time": moment,
            "brokerTime": (moment + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            "volume": rng.choice((0.01, 0.1, 0.5, 1.0)),
            "price": round(rng.uniform(1.05, 1.1), 5),
            "commission": 0,
            "swap": 0,
            "profit": 0.0 if opening else round(rng.uniform(-200, 200), 2),
            "positionId": str(10_000_000 + i - i % 2),
            "orderId": str(10_000_000 + i),
            "reason": "DEAL_REASON_CLIENT",
        }
        if rng.random() < 0.3:
            deal["stopLoss"] = round(deal["price"] - 0.005, 5)
        if rng.random() < 0.1:
            deal["comment"] = f"grid #{rng.randrange(100)}"
            deal["clientId"] = f"TE_{i:08d}"
        yield deal


def timed_ms(call: Any, repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of ``call()`` over ``repeats`` runs, and the size of its last result.

    CPU time is what the query costs; wall time also counts the waits for a core on a shared machine.
    """
    walls, cpus, size = [], [], 0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(call())
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return statistics.median(walls), statistics.median(cpus), size


async def fill(count: int, directory: str) -> None:
    """Feed ``count`` deals through the listener, report memory and query times, then save them."""
    gc.collect()
    before = rss_mb()
    storage = MemoryHistoryStorage(FilesystemHistoryDatabase(directory), flush_delay=3600)
    await storage.initialize("bench", "MetaApi")
    started = time.perf_counter()
    for deal in deals(count):
        await storage.on_deal_added(STREAM, deal)
    added = time.perf_counter() - started
    gc.collect()
    grown = rss_mb() - before
    report("history storage: deals held", count, "deals")
    report("history storage: on_deal_added rate", count / added, "deals/s")
    report("history storage: RSS growth", grown, "MB", RSS_TARGET_MB, higher_is_better=False)
    report("history storage: RSS per deal", grown * 1e6 / count, "bytes")

    last = await storage.last_deal_time()
    assert last is not None
    span_ms = (last - T0).total_seconds() * 1000
    rng = random.Random(1)

    def window(minutes: float) -> Any:
        start = T0 + timedelta(milliseconds=rng.uniform(0, span_ms - minutes * 60_000))
        return lambda: storage.get_deals_by_time_range(start, start + timedelta(minutes=minutes))

    sizes = (
        ("~1 deal", 1, None),
        ("~100 deals", 100, None),
        ("~1,000 deals", 1000, QUERY_TARGET_MS),
        ("1 day", 1440, None),
    )
    for label, minutes, target in sizes:
        samples = [timed_ms(window(minutes), 3) for _ in range(30)]  # 30 random windows, 3 runs each
        size = statistics.median(s[2] for s in samples)
        report(f"history storage: range {label} ({size:,.0f}), wall best", min(s[0] for s in samples), "ms")
        report(f"history storage: range {label}, wall median", statistics.median(s[0] for s in samples), "ms")
        cpu = statistics.median(s[1] for s in samples)
        report(f"history storage: range {label}, CPU median", cpu, "ms", target, higher_is_better=False)
    ids = [str(10_000_000 + rng.randrange(count)) for _ in range(1000)]
    _, cpu, _ = timed_ms(lambda: [storage.get_deals_by_ticket(i) for i in ids], 3)
    report("history storage: get_deals_by_ticket, CPU", cpu * 1000 / len(ids), "µs")
    _, cpu, _ = timed_ms(lambda: [storage.get_deals_by_position(i) for i in ids], 3)
    report("history storage: get_deals_by_position, CPU", cpu * 1000 / len(ids), "µs")

    started = time.perf_counter()
    await storage.flush()
    report("history storage: flush to the filesystem database", time.perf_counter() - started, "s")
    started = time.perf_counter()
    await storage.close()
    report("history storage: snapshot on close", time.perf_counter() - started, "s")
    for entry in os.scandir(directory):
        report(f"history storage: file {entry.name.split('-', 2)[-1]}", entry.stat().st_size / 1e6, "MB")


async def load(directory: str, label: str) -> None:
    """Load the saved history into a new storage (in a fresh interpreter, so RSS growth is its own)."""
    gc.collect()
    before = rss_mb()
    storage = MemoryHistoryStorage(FilesystemHistoryDatabase(directory))
    started = time.perf_counter()
    await storage.initialize("bench", "MetaApi")
    seconds = time.perf_counter() - started
    gc.collect()
    grown = rss_mb() - before
    count = len(storage.get_deals_by_time_range(T0, T0 + timedelta(days=3650)))
    report(f"history storage: load, {label}", seconds, "s")
    report(f"history storage: load rate, {label}", count / seconds, "deals/s")
    report(f"history storage: RSS growth after load, {label}", grown, "MB", RSS_TARGET_MB, higher_is_better=False)


def main() -> None:
    """Fill, query and save in this process; load in a child process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=DEALS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        asyncio.run(load(args.load, args.label))
        return
    with tempfile.TemporaryDirectory(prefix="mtdata-bench-history-") as directory:
        asyncio.run(fill(args.deals, directory))
        child = [sys.executable, "-m", "benchmarks.bench_history_storage", "--load", directory, "--label"]
        subprocess.run([*child, "snapshot"], check=True)
        for snapshot in Path(directory).glob("*.snapshot"):
            snapshot.unlink()
        subprocess.run([*child, "JSON lines only"], check=True)


if __name__ == "__main__":
    main()
