"""Capacity: 50 streaming clients x 10 symbols at 10 updates/s each, for 10 s: delivery latency p50/p99.

Latency = client receive time - the price's ``timestamps.serverProcessingFinished`` (one machine, one
clock). The sandbox runs in its own process; the 50 clients share this one.
Run alone: ``python -m benchmarks.bench_capacity``. Target: p99 < 50 ms.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.common import SYMBOLS, WEEKDAY, epoch_seconds, report, sandbox_process
from mtdata.cli import RawStream
from mtdata.socketio_compat import disable_client_sigint_handler

CLIENTS = 50
SECONDS = 10.0
INTERVAL_MS = 100
TARGET_P99_MS = 50.0


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile ``p`` (0..100) of ``values``."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def run() -> None:
    """Connect the clients, stream for SECONDS, print the latency figures."""
    disable_client_sigint_handler()
    latencies: list[float] = []
    recording = False

    def on_packet(packet: dict) -> None:
        if not recording or packet.get("type") != "prices":
            return
        now = time.time()
        for price in packet.get("prices", ()):
            finished = price.get("timestamps", {}).get("serverProcessingFinished")
            if finished:
                latencies.append((now - epoch_seconds(finished)) * 1000)

    with sandbox_process("--speed", "100", "--start", WEEKDAY) as box:
        streams = [RawStream(box.url, box.token, box.account_id, on_packet=on_packet) for _ in range(CLIENTS)]
        for batch in range(0, CLIENTS, 10):
            await asyncio.gather(*(s.open(timeout=60) for s in streams[batch : batch + 10]))
        subscription = [{"type": "quotes", "intervalInMilliseconds": INTERVAL_MS}]
        await asyncio.gather(*(s.subscribe(symbol, subscription) for s in streams for symbol in SYMBOLS))
        await asyncio.sleep(1.0)
        recording, started = True, time.perf_counter()
        await asyncio.sleep(SECONDS)
        recording, elapsed = False, time.perf_counter() - started
        await asyncio.gather(*(s.close() for s in streams))
    if not latencies:
        raise RuntimeError("no prices with timestamps.serverProcessingFinished were received")
    report(f"capacity: prices delivered (of {CLIENTS * len(SYMBOLS) * 1000 // INTERVAL_MS:,} asked)",
           len(latencies) / elapsed, "prices/s")  # fmt: skip
    report("capacity: latency p50", percentile(latencies, 50), "ms")
    report("capacity: latency p99", percentile(latencies, 99), "ms", TARGET_P99_MS, higher_is_better=False)


def main() -> None:
    """Run the benchmark."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
