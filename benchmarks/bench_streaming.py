"""Streaming: market data the sandbox delivers to one client vs a bare python-socketio emitter.

One client subscribes to quotes (``intervalInMilliseconds: 0``) and ticks of 10 symbols on a
sandbox running at ``--speed 1000`` (prices change faster than the transport), in its own process.
The yardstick is :mod:`benchmarks.raw_emitter` (one price per packet, as fast as it can), also in
its own process, measured in the same run. The sandbox coalesces each stream's changes into one
``prices`` packet per 20 ms loop step, so its packet rate is capped by design; the compared figure
is price changes delivered (quotes + ticks) per second against the bare packets per second.
Run alone: ``python -m benchmarks.bench_streaming``. Target: ratio >= 0.70.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import socketio

from benchmarks.common import SYMBOLS, report, sandbox_process
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
    """Packets, prices and ticks per second the sandbox delivers to one client subscribed to 10 symbols."""
    with sandbox_process("--speed", "1000") as box:
        counts = {"packets": 0, "prices": 0, "ticks": 0}

        def on_packet(packet: dict) -> None:
            if packet.get("type") == "prices":
                counts["packets"] += 1
                counts["prices"] += len(packet.get("prices", ()))
                counts["ticks"] += len(packet.get("ticks", ()))

        stream = RawStream(box.url, box.token, box.account_id, on_packet=on_packet)
        await stream.open()
        unthrottled = [{"type": "quotes", "intervalInMilliseconds": 0}, {"type": "ticks"}]
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
    report("streaming: bare python-socketio, 1 price/packet", raw, "packets/s")
    report("streaming: sandbox prices packets", rates["packets"], "packets/s")
    report("streaming: sandbox quotes in them", rates["prices"], "prices/s")
    report("streaming: sandbox ticks in them", rates["ticks"], "ticks/s")
    report("streaming: sandbox / bare packets (coalesced)", rates["packets"] / raw, "")
    report("streaming: sandbox (quotes+ticks) / bare packets", (rates["prices"] + rates["ticks"]) / raw, "", TARGET)


def main() -> None:
    """Run the benchmark."""
    asyncio.run(run())


if __name__ == "__main__":
    main()
