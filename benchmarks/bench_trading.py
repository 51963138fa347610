"""Trading: sustained market orders from one client (open, then close), trades/s and latency percentiles.

One RawStream client on a sandbox in its own process (clock pinned to a weekday) runs
``WORKERS`` loops over one socket, each opening a 0.01-lot EURUSD position and closing it
again. Every trade is committed to SQLite (WAL, ``synchronous=NORMAL``: a committed trade
survives the process being killed; only a power loss of the host could lose the newest
commits) before its response is sent. Run alone: ``python -m benchmarks.bench_trading``.
Targets: >= 1,000 trades/s, p99 < 20 ms.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from benchmarks.common import WEEKDAY, report, sandbox_process
from mtdata.cli import RawStream
from mtdata.socketio_compat import disable_client_sigint_handler

SECONDS = 5.0
WORKERS = 4
TARGET_RATE = 1000
TARGET_P99_MS = 20


async def _worker(stream: RawStream, deadline: float, latencies: list[float]) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        opened = await stream.request(
            "trade", trade={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01}
        )
        middle = time.perf_counter()
        close = {"actionType": "POSITION_CLOSE_ID", "positionId": opened["response"]["positionId"]}
        await stream.request("trade", trade=close)
        latencies += [middle - started, time.perf_counter() - middle]


def _children_cpu() -> float | None:
    """CPU seconds (user + system) used so far by this process's children (the sandbox); None off Linux."""
    try:
        pids = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
        ticks = sum(sum(int(v) for v in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
                    for pid in pids)  # fmt: skip
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


async def run() -> None:
    """Trade for ``SECONDS`` and print trades/s, round trips/s, p50/p99 latency and the sandbox's CPU per trade."""
    disable_client_sigint_handler()
    with sandbox_process("--start", WEEKDAY) as box:
        stream = RawStream(box.url, box.token, box.account_id)
        await stream.open()
        await _worker(stream, time.perf_counter() + 0.5, [])  # warm up
        latencies: list[float] = []
        cpu_before = _children_cpu()
        started = time.perf_counter()
        await asyncio.gather(*(_worker(stream, started + SECONDS, latencies) for _ in range(WORKERS)))
        elapsed = time.perf_counter() - started
        cpu_after = _children_cpu()
        await stream.close()
    latencies.sort()
    p50, p99 = (latencies[int((len(latencies) - 1) * q)] * 1000 for q in (0.5, 0.99))
    report(f"trading: market orders, {WORKERS} in flight", len(latencies) / elapsed, "trades/s", TARGET_RATE)
    report("trading: open+close round trips", len(latencies) / 2 / elapsed, "round trips/s")
    report("trading: trade latency p50", p50, "ms")
    report("trading: trade latency p99", p99, "ms", TARGET_P99_MS, higher_is_better=False)
    if cpu_before is not None and cpu_after is not None:  # load-independent: what one trade costs the sandbox
        report("trading: sandbox CPU per trade", (cpu_after - cpu_before) / len(latencies) * 1000, "ms")


def main() -> None:
    """Run the benchmark."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
