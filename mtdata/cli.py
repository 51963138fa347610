"""The ``mtdata`` command: ``sandbox`` runs a local MetaApi-compatible server, ``demo`` shows the notebook layer
working (:mod:`mtdata.demo`), ``export`` downloads candles into a partitioned Parquet dataset.

:class:`RawStream` speaks the bare wire (python-socketio 4.x); benchmarks and tests reuse it as a minimal
streaming client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import ipaddress
import json
import os
import random
import shutil
import signal
import string
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: File the sandbox command writes into its data dir: how scripts and notebooks find the server.
SANDBOX_FILE = "sandbox.json"


def _random_id(length: int = 32) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=length))


class RequestFailed(RuntimeError):
    """A ``processingError`` answer to a request; ``body`` is the error packet as sent."""

    def __init__(self, body: dict) -> None:
        super().__init__(f"{body.get('error')}: {body.get('message')}")
        self.body = body


class RawStream:
    """One streaming session over bare socket.io: subscribe, synchronize, then market data (protocol §11.1)."""

    def __init__(self, url: str, token: str, account_id: str, on_packet: Callable[[dict], Any] | None = None) -> None:
        import socketio

        from .redaction import protect

        protect(token)  # engineio logs the URL, whose query carries the token
        self.url, self.token, self.account_id, self.on_packet = url, token, account_id, on_packet
        self.sio = socketio.AsyncClient(reconnection=False)
        self._waiting: dict[str, asyncio.Future] = {}
        self._packet_waits: list[tuple[str, asyncio.Future]] = []
        self.sio.on("response", self._on_response)
        self.sio.on("processingError", self._on_error)
        self.sio.on("synchronization", self._on_packet)

    async def _on_response(self, data: Any) -> None:
        data = json.loads(data) if isinstance(data, str) else data
        future = self._waiting.pop(data.get("requestId"), None)
        if future and not future.done():
            future.set_result(data)

    async def _on_error(self, data: dict) -> None:
        future = self._waiting.pop(data.get("requestId"), None)
        if future and not future.done():
            future.set_exception(RequestFailed(data))

    async def _on_packet(self, packet: Any) -> None:
        packet = json.loads(packet) if isinstance(packet, str) else packet
        for kind, future in list(self._packet_waits):
            if packet.get("type") == kind and not future.done():
                future.set_result(packet)
        if self.on_packet is not None:
            self.on_packet(packet)

    def expect(self, packet_type: str) -> asyncio.Future:
        """A future resolved by the next synchronization packet of ``packet_type``."""
        future = asyncio.get_running_loop().create_future()
        self._packet_waits.append((packet_type, future))
        future.add_done_callback(lambda f: self._packet_waits.remove((packet_type, f)))
        return future

    async def request(self, type: str, timeout: float = 30, **fields: Any) -> dict:
        """Send a ``request`` packet and return its ``response`` (:class:`RequestFailed` on ``processingError``)."""
        request_id = fields.pop("requestId", None) or _random_id()
        future = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        stamps = {"clientProcessingStarted": _iso_now()}
        payload = {"type": type, "accountId": self.account_id, "requestId": request_id, "application": "MetaApi",
                   "instanceIndex": 0, "timestamps": stamps, **fields}  # fmt: skip
        await self.sio.emit("request", payload)
        return await asyncio.wait_for(future, timeout)

    async def open(self, timeout: float = 30) -> None:
        """Connect, subscribe, wait for ``authenticated`` and run one full synchronization."""
        client_id = f"{random.random():.10f}"
        query = f"?auth-token={self.token}&clientId={client_id}&protocol=3"
        await self.sio.connect(self.url + query, socketio_path="ws", headers={"Client-Id": client_id},
                               transports=["websocket"])  # fmt: skip
        authenticated = self.expect("authenticated")
        await self.request("subscribe", sessionId=_random_id())
        host = (await asyncio.wait_for(authenticated, timeout)).get("host")
        finished = self.expect("dealSynchronizationFinished")
        epoch = "1970-01-02T03:46:40.000Z"
        hashes: dict[str, Any] = {"specificationsHashes": [], "positionsHashes": [], "ordersHashes": []}
        await self.request("synchronize", version=2, host=host, startingHistoryOrderTime=epoch, startingDealTime=epoch,
                           **hashes)  # fmt: skip
        await asyncio.wait_for(finished, timeout)

    async def subscribe(self, symbol: str, subscriptions: list[dict] | None = None) -> None:
        """``subscribeToMarketData`` (quotes by default)."""
        await self.request("subscribeToMarketData", symbol=symbol, subscriptions=subscriptions or [{"type": "quotes"}])

    async def close(self) -> None:
        """Disconnect (the server ends the account's streams on this socket)."""
        if self.sio.connected:
            await self.sio.disconnect()


def _iso_now() -> str:
    from .sandbox.timeutil import iso_now

    return iso_now()


# -- mtdata sandbox -----------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _announce(server: Any, temporary: bool) -> None:
    info = {"url": server.url, "token": server.token, "accountId": server.account_id, "port": server.port,
            "dataDir": str(server.data_dir), "pid": os.getpid()}  # fmt: skip
    path = server.data_dir / SANDBOX_FILE
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(info, file)
    os.replace(partial, path)
    note = " (temporary, removed on exit)" if temporary else ""
    print(f"mtdata sandbox listening on {server.url}\n"
          f"  data dir: {server.data_dir}{note}\n"
          f"export MTDATA_SANDBOX_URL={server.url}\n"
          f"export MTDATA_SANDBOX_TOKEN={server.token}\n"
          f"export MTDATA_ACCOUNT_ID={server.account_id}\n"
          "Press Ctrl+C to stop.", flush=True)  # fmt: skip


async def _serve(config: Any, temporary: bool) -> None:
    """Run sandbox servers until SIGINT/SIGTERM; a restart fault starts a new one on the same port and dir."""
    from .sandbox import SandboxServer

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while True:
        server = SandboxServer(config)
        await server.start()
        restart = asyncio.Event()
        server.faults.restart_hook = restart.set
        _announce(server, temporary)
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(restart.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        await server.stop(remove_temp=False)
        if stop.is_set():
            (server.data_dir / SANDBOX_FILE).unlink(missing_ok=True)
            print("mtdata sandbox stopped", flush=True)
            return
        config = server.restart_config()
        print("mtdata sandbox restarting", flush=True)


def _sandbox(args: argparse.Namespace) -> int:
    from .errors import ValidationException
    from .sandbox import ReplaySource, SandboxConfig

    if not _is_loopback(args.host) and not args.allow_remote:
        print(f"refusing to listen on {args.host}: the sandbox has one full-access token and no TLS; "
              "pass --allow-remote to expose it anyway", file=sys.stderr)  # fmt: skip
        return 2
    replay = []
    for item in args.replay:
        symbol, sep, path = item.partition("=")
        if not sep or not symbol or not path:
            print(f"--replay expects SYMBOL=PATH, got {item!r}", file=sys.stderr)
            return 2
        replay.append(ReplaySource(symbol, Path(path)))
    start_ms = None
    if args.start:
        from .sandbox.errors import ValidationError
        from .sandbox.timeutil import parse_iso_ms

        try:
            start_ms = parse_iso_ms(args.start, "--start")
        except ValidationError as error:
            print(error.message, file=sys.stderr)
            return 2
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="mtdata-sandbox-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(host=args.host, port=args.port, data_dir=data_dir, seed=args.seed, speed=args.speed,
                           start_ms=start_ms, replay=tuple(replay), broker_clock=args.broker_clock)  # fmt: skip
    try:
        asyncio.run(_serve(config, temporary=not args.data_dir))
    except ValidationException as error:  # a bad --replay file: refused before the data dir is opened
        print(error.message, file=sys.stderr)
        return 2
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


# -- mtdata demo and export ---------------------------------------------------------------------


def _session(args: argparse.Namespace) -> Any:
    """The session of an export: the cloud (--token), a sandbox elsewhere (--url) or an embedded sandbox."""
    import mtdata

    cache = args.cache or None
    if args.url:
        from .client import checks

        token = checks.text("--token", args.token or os.environ.get("MTDATA_SANDBOX_TOKEN"))
        return mtdata.connect(token, args.account_id, url=args.url, cache=cache)
    if args.token:
        return mtdata.connect(args.token, args.account_id, cache=cache)
    return mtdata.connect(cache=cache, sandbox={"seed": args.seed})


def _export(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from . import arguments
    from .client import checks
    from .errors import MetaApiException
    from .io import to_parquet

    try:
        symbols = arguments.symbol_list("--symbols", args.symbols)
        timeframe = arguments.timeframe(args.timeframe)
        start = arguments.moment("--start", args.start, optional=False)
        end = arguments.moment("--end", args.end)
        arguments.ordered(start, end)
        checks.integer("--workers", args.workers, 1, 256, optional=True)
        with _session(args) as session:
            total, cursor, stop = 0, start, end
            newest = None if end is not None else _newest_opens(session, symbols, timeframe)
            if newest is not None:  # up to now: each symbol's newest candle (in progress while it trades) left out
                stop = max(newest.values(), default=start)
            if args.dask or args.workers is not None:  # the cluster's workers download and write, a period a task
                from .dask import cluster

                keep = functools.partial(_complete, newest=newest) if newest is not None else None
                with cluster.client(args.dask, args.workers):
                    total, cursor = cluster.export(session, symbols, timeframe, start, stop, args.out, keep), stop
            while cursor < stop:  # [start, end) a month at a time: memory stays flat, finished months stay written
                last = min(cursor + timedelta(days=30), stop)
                frame = session.candles(symbols, timeframe, cursor, last)
                if newest is not None:
                    frame = _complete(frame, newest)
                to_parquet(frame, args.out, timeframe=timeframe, partitioned=True)
                total += len(frame)
                cursor = last
    except MetaApiException as error:
        print(f"mtdata export: {error}", file=sys.stderr)
        return 2
    print(f"wrote {total:,} {timeframe} candles of {', '.join(symbols)} to {args.out} (symbol=/timeframe=/date=)")
    return 0


def _complete(frame: Any, newest: dict[str, Any]) -> Any:
    """The candles of ``frame`` opened before their symbol's newest (the one in progress while its market is open)."""
    return frame[frame.index < frame["symbol"].astype(str).map(newest).array]


def _newest_opens(session: Any, symbols: list[str], timeframe: str) -> dict[str, Any]:
    """The open time of each symbol's newest candle (the one in progress while its market is open)."""
    newest = session.candles(symbols, timeframe, limit=1)
    return {str(symbol): time for time, symbol in zip(newest.index, newest["symbol"], strict=True)}


def _demo(args: argparse.Namespace) -> int:
    from .demo import run

    return run(seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mtdata`` command."""
    parser = argparse.ArgumentParser(prog="mtdata", description="MetaTrader data in Jupyter: local sandbox, demo.")
    commands = parser.add_subparsers(dest="command", required=True)
    box = commands.add_parser("sandbox", help="run a local MetaApi-compatible sandbox in the foreground")
    box.add_argument("--host", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    box.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    box.add_argument("--data-dir", help="where accounts and trading state persist (default: a temporary dir)")
    box.add_argument("--seed", type=int, default=0, help="seed of the simulated market")
    box.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall-clock second")
    box.add_argument("--start", metavar="ISO", help="pin the simulated clock's start, e.g. a weekday (default: now)")
    box.add_argument("--replay", action="append", default=[], metavar="SYMBOL=PATH",
                     help="replay ticks or M1 candles from a CSV/Parquet file for SYMBOL (repeatable)")  # fmt: skip
    box.add_argument("--broker-clock", choices=["ny", "eu"], default="ny",
                     help="broker clock: New York close (UTC+2/+3 with US daylight saving) or EU summer time")
    box.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    box.set_defaults(func=_sandbox)
    demo = commands.add_parser(
        "demo", help="start a sandbox; candles, ticks, a book, a trade, latency, a Parquet export"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated market")
    demo.set_defaults(func=_demo)
    export = commands.add_parser("export", help="download candles into a hive-partitioned Parquet dataset")
    export.add_argument("--symbols", required=True, help="comma-separated symbols, e.g. EURUSD,GBPUSD")
    export.add_argument("--timeframe", default="1m", help="1m, 5m, 1h, 1d ... (or M1, H1, D1)")
    export.add_argument("--start", required=True, metavar="ISO", help="opens from, e.g. 2024-01-01 (UTC midnight)")
    export.add_argument("--end", metavar="ISO", help="opens before, excluded: --end 2024-07-01 stops at June 30's "
                        "last candle (default: now, the candle in progress left out)")  # fmt: skip
    export.add_argument("--out", required=True, help="dataset directory (symbol=/timeframe=/date= partitions)")
    export.add_argument("--token", default=os.environ.get("MTDATA_TOKEN"),
                        help="MetaApi token (default: $MTDATA_TOKEN; none: an embedded sandbox)")  # fmt: skip
    export.add_argument("--account-id", default=os.environ.get("MTDATA_ACCOUNT_ID"), help="account id (default: "
                        "$MTDATA_ACCOUNT_ID)")  # fmt: skip
    export.add_argument("--url", default=os.environ.get("MTDATA_SANDBOX_URL"), help="a sandbox running elsewhere "
                        "(default: $MTDATA_SANDBOX_URL; token from $MTDATA_SANDBOX_TOKEN)")  # fmt: skip
    export.add_argument("--cache", help="cache directory for downloaded candles (default: none)")
    export.add_argument("--seed", type=int, default=0, help="seed of the embedded sandbox's market")
    cluster = export.add_mutually_exclusive_group()
    cluster.add_argument("--dask", metavar="ADDRESS", help="download and write on the Dask cluster of this scheduler "
                         "(e.g. tcp://10.0.0.5:8786); --out must be a path its workers share")  # fmt: skip
    cluster.add_argument("--workers", type=int, metavar="N", help="download and write on a local Dask cluster of N "
                         "worker processes")  # fmt: skip
    export.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mtdata`` console script."""
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return args.func(args)
    return 130
