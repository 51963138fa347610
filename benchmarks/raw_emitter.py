"""A bare python-socketio 4.x server that emits prices-shaped packets to one client as fast as it can.

The streaming benchmark's yardstick: ``python -m benchmarks.raw_emitter`` prints ``port N``;
a client connects (path ``ws``) and emits ``go`` with ``{"count": n}``; the server then sends
``n`` ``synchronization`` packets to that client and nothing else.
"""

from __future__ import annotations

import asyncio
import time

import socketio
from aiohttp import web

from mtdata.socketio_compat import GatherManager


def price_packet(n: int, symbol: str = "EURUSD") -> dict:
    """A ``prices`` packet shaped like the sandbox's (one price with latency timestamps)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    price = {"symbol": symbol, "bid": 1.10123, "ask": 1.10135, "profitTickValue": 1.0, "lossTickValue": 1.0,
             "accountCurrencyExchangeRate": 1, "time": stamp, "brokerTime": "2026-11-24 06:00:00.000",
             "timestamps": {"eventGenerated": stamp, "serverProcessingStarted": stamp,
                            "serverProcessingFinished": stamp}}  # fmt: skip
    return {"type": "prices", "accountId": "benchmark", "instanceIndex": 0, "host": "ps-mpa-0",
            "sequenceNumber": n, "sequenceTimestamp": int(now * 1000), "prices": [price],
            "equity": 10000.0, "margin": 0.0, "freeMargin": 10000.0}  # fmt: skip


async def serve() -> None:
    """Serve on a free loopback port until killed."""
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=GatherManager())
    app = web.Application()
    sio.attach(app, socketio_path="ws")

    @sio.on("go")
    async def go(sid: str, data: dict) -> None:
        for n in range(int(data["count"])):
            await sio.emit("synchronization", price_packet(n), room=sid)
            if n % 64 == 0:
                await asyncio.sleep(0)

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"port {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve())
