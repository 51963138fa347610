"""Streaming: price packets/s the sandbox delivers to one client vs a bare python-socketio emitter.

One client subscribes to quotes of 10 symbols with no throttling (``intervalInMilliseconds: 0``:
one ``prices`` packet per tick) on a sandbox running at ``--speed 1000`` (prices change faster
than the transport), in its own process. The yardstick is :mod:`benchmarks.raw_emitter` (packets
of the same shape, as fast as it can), also in its own process, measured in the same run.
Run alone: ``python -m benchmarks.bench_streaming``. Target: ratio >= 0.70.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import socketio

from benchmarks.common import SYMBOLS, WEEKDAY, report, sandbox_process
from mtdata.cli import RawStream
from mtdata.socketio_compat import disable_client_sigint_handler

SECONDS = 5.0
RAW_PACKETS = 60_000
TARGET = 0.70


async def raw_rate() -> float:
    """Packets/s a bare python-socketio 4.x server delivers to one client."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.raw_emitter"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().split()[1])  # type: ignore[union-attr]
        client = socketio.AsyncClient(reconnection=False)
        done = asyncio.Event()
        times: list[float] = []

        def on_packet(packet: dict) -> None:
            times.append(time.perf_counter())
            if len(times) == RAW_PACKETS:
                done.set()

        client.on("synchronization", on_packet)
        await client.connect(f"http://127.0.0.1:{port}", socketio_path="ws", transports=["websocket"])
        await client.emit("go", {"count": RAW_PACKETS})
        await asyncio.wait_for(done.wait(), 60)
        await client.disconnect()
        return (len(times) - 1) / (times[-1] - times[0])
    finally:
        proc.terminate()
        proc.wait(10)


async def sandbox_rates() -> dict[str, float]:
    """Packets and prices per second the sandbox delivers to one client subscribed to 10 symbols."""
    with sandbox_process("--speed", "1000", "--start", WEEKDAY) as box:
        counts = {"packets": 0, "prices": 0}

        def on_packet(packet: dict) -> None:
            if packet.get("type") == "prices":
                counts["packets"] += 1
                counts["prices"] += len(packet.get("prices", ()))

        stream = RawStream(box.url, box.token, box.account_id, on_packet=on_packet)
        await stream.open()
        unthrottled = [{"type": "quotes", "intervalInMilliseconds": 0}]
        for symbol in SYMBOLS:
            await stream.subscribe(symbol, unthrottled)
        await asyncio.sleep(1.0)  # let the streams reach their steady rate
        before, started = dict(counts), time.perf_counter()
        await asyncio.sleep(SECONDS)
        elapsed = time.perf_counter() - started
        await stream.close()
        return {name: (counts[name] - before[name]) / elapsed for name in counts}


async def run() -> None:
    """Measure both rates and print them with their ratio."""
    disable_client_sigint_handler()
    raw = await raw_rate()
    rates = await sandbox_rates()
    report("streaming: bare python-socketio emit rate", raw, "packets/s")
    report("streaming: sandbox price packets (10 symbols)", rates["packets"], "packets/s")
    report("streaming: sandbox prices in them", rates["prices"], "prices/s")
    report("streaming: sandbox / bare packet ratio", rates["packets"] / raw, "", TARGET)


def main() -> None:
    """Run the benchmark."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
