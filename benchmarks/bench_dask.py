"""Candles on a Dask cluster: 16 symbols x 1 month of M1, one process against a 2-worker ``LocalCluster``.

Against one sandbox in its own process (clock on a weekday), each way is timed once after a warm-up pass that
made the sandbox's price caches hot for every symbol:

* single process: ``Session.candles`` to a DataFrame, then ``mtdata.to_parquet`` of it;
* cluster: ``candles(..., as_dask=True).compute()`` (the frame brought back to the client), then
  ``mtdata.to_parquet(ddf, root)`` (downloaded and written by the workers; the client receives file names).

Rows/s, and the peak resident memory over each step's start of the client process and of each worker (sampled
every 20 ms from ``/proc``). Writing from the workers, the client's peak stays that of a few partitions' metadata,
not the result's; each worker's is about the partitions it holds at once (threads x a partition), whatever the
range. Run alone: ``python -m benchmarks.bench_dask``.

Measured 2026-12-06 13:30-13:46 UTC, four runs at load average 3-14: single process 80k-331k rows/s (37k-175k with
``to_parquet``), cluster 37k-101k rows/s to the client, 24k-46k rows/s written by the workers; the client's peak rise
96-102 MB in one process, 66-76 MB computing to the client, 0-9 MB when the workers write; workers 0-159 MB.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import distributed

import mtdata
from benchmarks.common import WEEKDAY, report, sandbox_process
from mtdata.dask.cluster import LOOPBACK

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP", "EURJPY", "GBPJPY",
           "EURCHF", "AUDJPY", "EURAUD", "GBPCHF", "XAUUSD", "BTCUSD"]  # fmt: skip
START, END = "2026-10-19", "2026-11-18"  # one month of M1 before the pinned clock
MB = 1 << 20


def rss(pid: int) -> int:
    """Resident bytes of a process now (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def peaks(pids: dict[str, int]) -> Iterator[dict[str, tuple[int, int]]]:
    """The highest resident memory of each process, and how far above its level at the start, sampled every 20 ms."""
    base = {name: rss(pid) for name, pid in pids.items()}
    found = {name: (0, level) for name, level in base.items()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            for name, pid in pids.items():
                level = rss(pid)
                found[name] = (max(found[name][0], level - base[name]), max(found[name][1], level))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        stop.set()
        sampler.join()


def timed(step: Callable[[], Any], pids: dict[str, int]) -> tuple[float, Any, dict[str, tuple[int, int]]]:
    with peaks(pids) as found:
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
    return seconds, result, found


def show(memory: dict[str, tuple[int, int]]) -> None:
    for name, (rise, peak) in memory.items():
        report(f"dask: ... {name}: peak memory (rise over start)", peak / MB, f"MB ({rise / MB:,.0f} MB)")


def main() -> None:
    with (
        sandbox_process("--start", WEEKDAY) as box,
        mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session,
        tempfile.TemporaryDirectory(prefix="mtdata-bench-dask-") as scratch,
    ):
        rows = len(session.candles(SYMBOLS, "1m", START, END))  # warm-up: the sandbox's caches hot
        report("dask: M1 candles, 16 symbols x 1 month", rows, "rows")
        me = {"client": os.getpid()}
        seconds, frame, memory = timed(lambda: session.candles(SYMBOLS, "1m", START, END), me)
        report("dask: single process, Session.candles", rows / seconds, "rows/s")
        show(memory)
        seconds_w, _, memory = timed(lambda: mtdata.to_parquet(frame, Path(scratch) / "pandas"), me)
        report("dask: single process, candles + to_parquet", rows / (seconds + seconds_w), "rows/s")
        frame = None  # freed before the cluster's figures
        with (
            distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, silence_logs=logging.ERROR,
                                     **LOOPBACK) as cluster,
            distributed.Client(cluster) as client,
        ):  # fmt: skip
            workers = {f"worker {i + 1}": pid for i, pid in enumerate(client.run(os.getpid).values())}
            pids = me | workers
            ddf = session.candles(SYMBOLS, "1m", START, END, as_dask=True)
            report("dask: partitions (days) x download tasks (symbols)", ddf.npartitions, f"x {len(SYMBOLS)}")
            ddf.partitions[0].compute()  # workers connect (one session each) before the timing
            seconds, got, memory = timed(ddf.compute, pids)
            assert len(got) == rows, (len(got), rows)
            del got
            report("dask: 2 workers, compute() to the client", rows / seconds, "rows/s")
            show(memory)
            seconds, _, memory = timed(lambda: mtdata.to_parquet(ddf, Path(scratch) / "dask"), pids)
            report("dask: 2 workers, to_parquet by the workers", rows / seconds, "rows/s")
            show(memory)
        same = mtdata.read_parquet(Path(scratch) / "dask").equals(mtdata.read_parquet(Path(scratch) / "pandas"))
        report("dask: datasets equal (1 = yes)", float(same), "")


if __name__ == "__main__":
    main()
