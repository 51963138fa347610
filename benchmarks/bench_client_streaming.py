"""Client streaming: price updates/s through a streaming connection vs a bare python-socketio client, and the
time of a first synchronization of a large account vs a resynchronization with unchanged hashes.

The sandbox runs in its own process (this module with ``--serve``), with a benchmark-only socket event
``burst`` registered on its socket.io server: ``{"count": n, "accountId"?: id}`` sends ``n`` numbered
``prices`` packets (one price each, 10 symbols in turn, each price carrying its index ``n``) to the
synchronized stream of ``accountId``, or to the asking socket itself when no account is given. Both
clients thus receive the same packets from the same server in the same run:

(a) a bare python-socketio 4.x client counting packets (the yardstick), then a ``StreamingMetaApiConnection``
    (packet orderer, terminal state updated and a decorator listener called per price) receiving
    ``BURST`` prices: the ratio of the two rates (target >= 0.75) and the lost / misordered updates (target 0);
(b) an account seeded through the client's RPC connection with real trades (5,000 round trips = 10,000
    deals, 500 open positions, 500 pending orders): seconds of the first synchronization of a new client
    (``connect()`` to ``wait_synchronized()``), then of a resynchronization of that live connection after
    the server authenticates its stream again (benchmark-only event ``reauthenticate``; collections matched
    by hash, deals from the last one held), target >= 5x faster; and, for information, a new connection
    whose history is reloaded from a ``FilesystemHistoryDatabase``. The seeded symbol holds its price:
    the sandbox ignores no field when hashing, so a moving ``currentPrice`` would change the hashes.

Run alone: ``python -m benchmarks.bench_client_streaming`` (``--quick`` for a smaller run).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import socketio

from benchmarks.common import SYMBOLS, WEEKDAY, SandboxInfo, child_sandbox, report, serve_child_sandbox
from mtdata.client import FilesystemHistoryDatabase, MemoryHistoryStorage, MetaApi, SynchronizationListener
from mtdata.socketio_compat import disable_client_sigint_handler

BURST = 100_000
RAW_PACKETS = 100_000
TARGET_RATIO = 0.75
TARGET_RESYNC_SPEEDUP = 5.0
ROUND_TRIPS = 5_000
OPEN_POSITIONS = 500
PENDING_ORDERS = 500
WORKERS = 8


# -- the sandbox process ------------------------------------------------------------------------------


def serve(data_dir: str) -> None:
    """Run a sandbox with the ``burst`` event until killed (the child process of this benchmark)."""
    from mtdata.sandbox import start
    from mtdata.sandbox.timeutil import iso_ms

    handle = start(data_dir=data_dir, start=WEEKDAY)
    server = handle.server
    hub, market = server.hub, server.market

    async def hold_still(symbol: str) -> None:
        # the sandbox serves empty hashing-ignored field lists, so position and order hashes include
        # currentPrice / profit: the seeded symbol holds its price for the resync to find them unchanged
        quote, now = market.price(symbol), market.now_ms()
        market.force_path(symbol, [(now - 1000, quote["bid"], quote["ask"]), (now + 10**9, quote["bid"], quote["ask"])])

    handle.call(hold_still("EURUSD"))

    async def burst(sid: str, data: dict[str, Any]) -> None:
        account_id = data.get("accountId")
        if account_id:
            conn, stream = next((c, s) for c, s in hub._subscribed(account_id) if s.synchronized)

            async def send(packet: dict[str, Any]) -> None:
                await hub.send(conn, stream, packet)

            header = stream.header("prices")
        else:

            async def send(packet: dict[str, Any]) -> None:
                packet["sequenceNumber"] = packet["prices"][0]["n"]
                packet["sequenceTimestamp"] = base
                await hub.emit(sid, "synchronization", packet)

            header = {"type": "prices", "accountId": "raw", "instanceIndex": 0, "host": "ps-mpa-0"}
        templates = [market.price(symbol) for symbol in SYMBOLS]
        base = market.now_ms()
        for n in range(int(data["count"])):
            price = {**templates[n % len(templates)], "time": iso_ms(base + n), "n": n}
            await send({**header, "prices": [price], "equity": 10000.0, "margin": 0.0, "freeMargin": 10000.0})
            if n % 64 == 0:
                await asyncio.sleep(0)

    async def reauthenticate(sid: str, data: dict[str, Any]) -> None:
        # an ``authenticated`` for the account's synchronized streams, as after a server-side terminal restart
        for conn, stream in hub._subscribed(data["accountId"]):
            if stream.synchronized:
                await hub.authenticate(conn, stream, None)

    server.sio.on("burst", burst)  # type: ignore[union-attr]
    server.sio.on("reauthenticate", reauthenticate)  # type: ignore[union-attr]
    serve_child_sandbox(handle, data_dir, "bench.json")


@contextmanager
def sandbox_with_burst() -> Iterator[SandboxInfo]:
    """The sandbox of :func:`serve` in a child process."""
    with child_sandbox(["-m", "benchmarks.bench_client_streaming", "--serve"], "bench.json") as info:
        yield info


# -- (a) price updates --------------------------------------------------------------------------------


@dataclass
class Rate:
    """Packets/s received, and client CPU seconds per packet (what the client could take if the server were faster)."""

    per_second: float
    cpu_per_packet: float


def _rate(times: list[float], cpu: list[float]) -> Rate:
    return Rate((len(times) - 1) / (times[-1] - times[0]), (cpu[-1] - cpu[0]) / (len(times) - 1))


async def raw_rate(box: SandboxInfo, count: int) -> Rate:
    """Packets/s a bare python-socketio client receives from the burst."""
    client = socketio.AsyncClient(reconnection=False)
    done = asyncio.Event()
    times: list[float] = []
    cpu: list[float] = []

    def on_packet(packet: dict) -> None:
        times.append(time.perf_counter())
        if len(times) in (1, count):
            cpu.append(time.process_time())
        if len(times) == count:
            done.set()

    client.on("synchronization", on_packet)
    await client.connect(f"{box.url}?auth-token={box.token}&protocol=3", socketio_path="ws")
    await client.emit("burst", {"count": count})
    await asyncio.wait_for(done.wait(), 300)
    await client.disconnect()
    return _rate(times, cpu)


async def connection_rate(box: SandboxInfo, count: int) -> tuple[Rate, int, int]:
    """Prices/s through a streaming connection (terminal state + a listener), lost and misordered updates."""
    async with MetaApi.sandbox(box.url, box.token) as api:
        account = await api.metatrader_account_api.get_account(box.account_id)
        connection = account.get_streaming_connection()
        state = {"next": 0, "misordered": 0, "received": 0}
        times: list[float] = []
        cpu: list[float] = []
        done = asyncio.Event()

        @connection.on_price_updated
        def on_price(price: dict[str, Any]) -> None:
            n = price.get("n")
            if n is None:
                return
            times.append(time.perf_counter())
            if n in (0, count - 1):
                cpu.append(time.process_time())
            if n != state["next"]:
                state["misordered"] += 1
            state["next"] = n + 1
            state["received"] += 1
            if n == count - 1:
                done.set()

        await connection.connect()
        await connection.wait_synchronized()
        control = socketio.AsyncClient(reconnection=False)
        await control.connect(f"{box.url}?auth-token={box.token}&protocol=3", socketio_path="ws")
        await control.emit("burst", {"count": count, "accountId": box.account_id})
        await asyncio.wait_for(done.wait(), 600)
        await control.disconnect()
        last = {symbol: connection.terminal_state.price(symbol)["n"] for symbol in SYMBOLS}
        expected = {symbol: max(n for n in range(count) if n % len(SYMBOLS) == i) for i, symbol in enumerate(SYMBOLS)}
        stale = sum(last[symbol] != expected[symbol] for symbol in SYMBOLS)
        await connection.close()
        return _rate(times, cpu), count - state["received"] + stale, state["misordered"]


# -- (b) synchronization --------------------------------------------------------------------------------


async def seed(box: SandboxInfo, round_trips: int, positions: int, orders: int) -> None:
    """Real trades through the client's RPC connection: round trips (2 deals each), open positions, pending orders."""
    async with MetaApi.sandbox(box.url, box.token) as api:
        account = await api.metatrader_account_api.get_account(box.account_id)
        rpc = account.get_rpc_connection()
        await rpc.connect()
        await rpc.wait_synchronized()
        price = await rpc.get_symbol_price("EURUSD")
        # popped from the end: round trips first, while the account holds few positions (the broker is faster)
        jobs: list[tuple[str, int]] = [("open", i) for i in range(positions)] + [("pending", i) for i in range(orders)]
        jobs += [("round", i) for i in range(round_trips)]

        async def worker() -> None:
            while jobs:
                kind, _ = jobs.pop()
                if kind == "round":
                    opened = await rpc.create_market_buy_order("EURUSD", 0.01)
                    await rpc.close_position(opened["positionId"])
                elif kind == "open":
                    await rpc.create_market_sell_order("EURUSD", 0.01)
                else:
                    await rpc.create_limit_buy_order("EURUSD", 0.01, round(price["bid"] * 0.8, 5))

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        await rpc.close()


class Resent(SynchronizationListener):
    """Counts what a synchronization sent (collections in full, deals) and tells when one finishes."""

    def __init__(self) -> None:
        self.collections = 0
        self.deals = 0
        self.finished = asyncio.Event()

    async def on_symbol_specifications_updated(self, instance_index: str, *args: Any) -> None:
        self.collections += 1

    async def on_positions_replaced(self, instance_index: str, positions: list[dict[str, Any]]) -> None:
        self.collections += 1

    async def on_pending_orders_replaced(self, instance_index: str, orders: list[dict[str, Any]]) -> None:
        self.collections += 1

    async def on_deal_added(self, instance_index: str, deal: dict[str, Any]) -> None:
        self.deals += 1

    async def on_deals_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        self.finished.set()


async def timed_sync(api: MetaApi, account_id: str, directory: str, resent: Resent) -> tuple[float, Any]:
    """Seconds from ``connect()`` to ``wait_synchronized()`` of a connection whose history lives in ``directory``."""
    account = await api.metatrader_account_api.get_account(account_id)
    storage = MemoryHistoryStorage(FilesystemHistoryDatabase(directory))
    started = time.perf_counter()
    connection = account.get_streaming_connection(history_storage=storage)
    connection.add_synchronization_listener(resent)
    await connection.connect()
    await connection.wait_synchronized({"timeoutInSeconds": 600})
    return time.perf_counter() - started, connection


async def timed_resync(box: SandboxInfo, connection: Any) -> tuple[float, Resent]:
    """Seconds of a resynchronization of a live connection after the server authenticates its stream again."""
    resent = Resent()
    connection.add_synchronization_listener(resent)
    control = socketio.AsyncClient(reconnection=False)
    await control.connect(f"{box.url}?auth-token={box.token}&protocol=3", socketio_path="ws")
    started = time.perf_counter()
    await control.emit("reauthenticate", {"accountId": box.account_id})
    await asyncio.wait_for(resent.finished.wait(), 600)
    elapsed = time.perf_counter() - started
    await control.disconnect()
    connection.remove_synchronization_listener(resent)
    return elapsed, resent


async def sync_times(box: SandboxInfo) -> dict[str, Any]:
    """First synchronization, resync of the live connection, and a new connection on the persisted history."""
    with tempfile.TemporaryDirectory(prefix="mtdata-bench-history-") as directory:
        async with MetaApi.sandbox(box.url, box.token) as api:
            first, connection = await timed_sync(api, box.account_id, directory, Resent())
            deals = len(connection.history_storage.deals)
            held = len(connection.terminal_state.positions) + len(connection.terminal_state.orders)
            live, resent = await timed_resync(box, connection)
            assert len(connection.history_storage.deals) == deals, "the resynchronization lost deals"
            await connection.close()
            reopened_resent = Resent()
            reopened, connection = await timed_sync(api, box.account_id, directory, reopened_resent)
            assert len(connection.history_storage.deals) == deals, "the reopened connection lost deals"
            assert len(connection.terminal_state.positions) + len(connection.terminal_state.orders) == held
            await connection.close()
    return {"first": first, "live": live, "reopened": reopened, "deals": deals, "held": held, "resent": resent,
            "reopened_resent": reopened_resent}  # fmt: skip


async def run(quick: bool = False) -> None:
    """Measure and print every figure."""
    disable_client_sigint_handler()
    scale = 10 if quick else 1
    with sandbox_with_burst() as box:
        raw = await raw_rate(box, RAW_PACKETS // scale)
        rate, lost, misordered = await connection_rate(box, BURST // scale)
        report("client streaming: bare python-socketio receive rate", raw.per_second, "packets/s")
        report("client streaming: streaming connection prices", rate.per_second, "prices/s")
        report("client streaming: connection / bare ratio", rate.per_second / raw.per_second, "", TARGET_RATIO)
        report("client streaming: bare client CPU per packet", raw.cpu_per_packet * 1e6, "µs")
        report("client streaming: connection CPU per price", rate.cpu_per_packet * 1e6, "µs")
        report("client streaming: CPU-bound capacity ratio (bare / connection CPU)",
               raw.cpu_per_packet / rate.cpu_per_packet, "", TARGET_RATIO)  # fmt: skip
        report(f"client streaming: lost or stale of {BURST // scale:,} prices", lost, "", 0, higher_is_better=False)
        report("client streaming: misordered prices", misordered, "", 0, higher_is_better=False)

        started = time.perf_counter()
        await seed(box, ROUND_TRIPS // scale, OPEN_POSITIONS // scale, PENDING_ORDERS // scale)
        report("client streaming: seeding trades/s (RPC connection)",
               (2 * ROUND_TRIPS + OPEN_POSITIONS + PENDING_ORDERS) / scale / (time.perf_counter() - started),
               "trades/s")  # fmt: skip
        times = await sync_times(box)
        first, live, reopened = times["first"], times["live"], times["reopened"]
        resent, reopened_resent = times["resent"], times["reopened_resent"]
        report(f"client streaming: first sync ({times['deals']:,} deals, {times['held']:,} positions+orders)",
               first, "s")  # fmt: skip
        report("client streaming: resync of the live connection", live, "s")
        report("client streaming:   collections / deals it resent", resent.collections, f"/ {resent.deals}")
        report("client streaming: first sync / resync", first / live, "x", TARGET_RESYNC_SPEEDUP)
        report("client streaming: new connection, history from files", reopened, "s")
        report("client streaming:   collections / deals it resent", reopened_resent.collections,
               f"/ {reopened_resent.deals}")  # fmt: skip
        report("client streaming: first sync / new connection on files", first / reopened, "x")


def main() -> None:
    """Run the benchmark (or, with ``--serve DIR``, be its sandbox process)."""
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return
    asyncio.run(run(quick="--quick" in sys.argv))


if __name__ == "__main__":
    main()
