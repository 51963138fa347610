"""A thin raw socket.io client for the realtime tests: send requests, await their answers and packets."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import socketio

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.accounts import new_account

#: How long a wait on the server may take: generous, as a loaded 2-core CI machine can be slow (no test waits it out).
TIMEOUT = 30.0
#: A Wednesday morning: FX trades there, whatever day the tests run on.
WEEKDAY = "2026-11-18T09:00:00Z"


def freeze(box: SandboxHandle, symbols: tuple[str, ...] = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")) -> None:
    """Hold the symbols' prices still, so figures read by separate requests agree to the cent."""
    market = box.server.market
    now = market.now_ms()
    for symbol in symbols:
        price = market.price(symbol)
        market.force_path(symbol, [(now - 1000, price["bid"], price["ask"]), (now + 10**9, price["bid"], price["ask"])])


def request_id() -> str:
    """A fresh request id in the SDK's shape (32 lowercase letters)."""
    return uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


class Wire:
    """Collects everything the server sends to one socket and pairs answers with requests."""

    def __init__(self, client: socketio.AsyncClient, account_id: str) -> None:
        self.client = client
        self.account_id = account_id
        self.packets: list[dict[str, Any]] = []
        self.answers: dict[Any, tuple[str, dict[str, Any]]] = {}
        self.unmatched: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        client.on("response", lambda data: self._answer("response", data))
        client.on("processingError", lambda data: self._answer("processingError", data))
        client.on("synchronization", self._packet)
        client.on("disconnect", self._changed.set)

    @classmethod
    async def connect(cls, sio_connect: Callable[..., Any], sandbox: SandboxHandle, **kwargs: Any) -> Wire:
        """Connect a raw client to ``sandbox`` with its root token (or ``token=``)."""
        token = kwargs.pop("token", sandbox.token)
        client = await sio_connect(sandbox.url, token, **kwargs)
        return cls(client, sandbox.account_id)

    def _answer(self, kind: str, data: Any) -> None:
        if isinstance(data, dict) and data.get("requestId") is not None:
            self.answers[data["requestId"]] = (kind, data)
        else:
            self.unmatched.append((kind, data))
        self._changed.set()

    def _packet(self, data: Any) -> None:
        self.packets.append(data)
        self._changed.set()

    async def until(self, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        """Wait until ``check()`` returns something truthy, and return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the server")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def send(self, payload: Any) -> None:
        """Emit a raw ``request`` event."""
        await self.client.emit("request", payload)

    async def call(self, request_type: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        """Send a request and return ``(kind, answer)``; kind is ``response`` or ``processingError``."""
        rid = fields.pop("requestId", None) or request_id()
        payload = {"type": request_type, "requestId": rid, "accountId": self.account_id, "application": "MetaApi",
                   "timestamps": {"clientProcessingStarted": "2026-01-01T00:00:00.000Z"}, **fields}  # fmt: skip
        await self.send(payload)
        return await self.until(lambda: self.answers.get(rid))

    async def ok(self, request_type: str, **fields: Any) -> dict[str, Any]:
        """A request that must succeed: its ``response``."""
        kind, answer = await self.call(request_type, **fields)
        assert kind == "response", answer
        assert answer["requestId"] and answer["accountId"] == fields.get("accountId", self.account_id)
        return answer

    async def error(self, request_type: str, **fields: Any) -> dict[str, Any]:
        """A request that must fail: its ``processingError``."""
        kind, answer = await self.call(request_type, **fields)
        assert kind == "processingError", answer
        return answer

    def of_type(self, packet_type: str, **match: Any) -> list[dict[str, Any]]:
        """Received packets of one type whose fields equal ``match``."""
        wanted = {"type": packet_type, **match}
        return [p for p in self.packets if all(p.get(k) == v for k, v in wanted.items())]

    async def subscribe(self, instance_index: int = 0) -> dict[str, Any]:
        """Subscribe and wait for ``authenticated``."""
        session = request_id()
        await self.ok("subscribe", instanceIndex=instance_index, sessionId=session)
        return (await self.until(lambda: self.of_type("authenticated", sessionId=session)))[0]

    async def synchronize(self, **fields: Any) -> tuple[str, list[dict[str, Any]]]:
        """Run a synchronization; returns its id and its packets in arrival order."""
        sync_id = request_id()
        base = {"version": 2, "instanceIndex": 0, "host": "ps-mpa-0",
                "startingHistoryOrderTime": "1970-01-02T03:46:40.000Z", "startingDealTime": "1970-01-02T03:46:40.000Z",
                "specificationsHashes": [], "positionsHashes": [], "ordersHashes": []}  # fmt: skip
        await self.ok("synchronize", requestId=sync_id, **{**base, **fields})
        await self.until(lambda: self.of_type("dealSynchronizationFinished", synchronizationId=sync_id))
        return sync_id, [p for p in self.packets if p.get("synchronizationId") == sync_id]


async def on_server(sandbox: SandboxHandle, coro: Any) -> Any:
    """Run a coroutine on the sandbox's loop without blocking this test's loop (its sockets must keep working)."""
    return await asyncio.to_thread(sandbox.call, coro)


def add_account(sandbox: SandboxHandle, **fields: Any) -> str:
    """Create a (deployed unless ``state`` says otherwise) account for the sandbox user; returns its id."""
    server = sandbox.server
    state = fields.pop("state", "DEPLOYED")
    base = {"name": "Test", "server": "Sandbox-Demo", "login": "60001", "platform": "mt5", "magic": 0}
    doc = new_account(server.user_id, {**base, **fields}, server.config.region)
    if state == "DEPLOYED":
        server.accounts.deploy_now(doc)
    else:
        server.accounts.save({**doc, "state": state})
    return doc["_id"]


def put_history(sandbox: SandboxHandle, table: str, account_id: str, ticket: str, time_ms: int, position: str) -> None:
    """Store one history order or deal as the broker engine would."""
    from mtdata.sandbox.timeutil import iso_ms

    kind = "ORDER_TYPE_BUY" if table == "history_orders" else "DEAL_TYPE_BUY"
    doc: dict[str, Any] = {"id": ticket, "type": kind, "symbol": "EURUSD", "time": iso_ms(time_ms),
                           "positionId": position, "volume": 0.1}  # fmt: skip
    if table == "history_orders":
        doc.update(state="ORDER_STATE_FILLED", doneTime=iso_ms(time_ms))
    else:
        doc.update(entryType="DEAL_ENTRY_IN", profit=0.0)
    sandbox.server.store.put(table, ticket, doc, account_id=account_id, time_ms=time_ms, position_id=position)
