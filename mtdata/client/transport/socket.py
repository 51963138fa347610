"""One socket.io connection of the client (protocol §4.2-§4.4): handshake, its own reconnect loop, clean shutdown.

A :class:`SocketConnection` serves one (region, instance number) group for up to
:data:`MAX_ACCOUNTS_PER_SOCKET` accounts. python-socketio's own reconnection is off; on a loss
the connection reconnects with a jittered doubling backoff, a new ``clientId`` and a new
``sessionId``, and tells its owner (who resubscribes the accounts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
from typing import Any, Protocol
from urllib.parse import quote

import engineio
import socketio

from ...errors import TimeoutException
from .subscriptions import backoff

log = logging.getLogger("mtdata.client.transport")

#: Accounts sharing one socket (protocol §4.3).
MAX_ACCOUNTS_PER_SOCKET = 100


def random_id(length: int = 32) -> str:
    """A request / session id in the SDK's shape: random lowercase letters."""
    return "".join(random.choices(string.ascii_lowercase, k=length))


class _EngineIOClient(engineio.AsyncClient):
    """engineio's client, dispatching each message without re-inspecting its (coroutine) handler every time."""

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "message" and kwargs.get("run_async"):
            return asyncio.ensure_future(self.handlers["message"](*args))
        return await super()._trigger_event(event, *args, **kwargs)


class _SocketIOClient(socketio.AsyncClient):
    """python-socketio's client with a short path for plain events (``2[...]``: default namespace, no ack, text).

    The library builds a Packet, logs and inspects the handler for every event; at tens of thousands of
    prices per second that is a fifth of the client's time. Anything else takes the library's path.
    """

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _EngineIOClient

    async def _handle_eio_message(self, data: Any) -> None:
        if data.__class__ is str and data.startswith("2[") and not self._binary_packet:
            try:
                event = json.loads(data[1:])
            except ValueError:
                event = None
            if event.__class__ is list and event and event[0].__class__ is str:
                handler = self.handlers.get("/", {}).get(event[0])
                if handler is not None:
                    result = handler(*event[1:])
                    if asyncio.iscoroutine(result):
                        await result
                return
        await super()._handle_eio_message(data)


class SocketOwner(Protocol):
    """What a socket connection needs from the client that owns it."""

    async def socket_base_url(self, region: str, instance_number: int) -> str: ...
    async def on_packet(self, socket: SocketConnection, data: Any) -> None: ...
    def on_answer(self, socket: SocketConnection, kind: str, data: Any) -> None: ...
    def on_socket_lost(self, socket: SocketConnection) -> None: ...
    async def on_socket_reconnected(self, socket: SocketConnection) -> None: ...


class SocketConnection:
    """One socket.io client connection shared by the accounts of a region and instance number."""

    def __init__(self, owner: SocketOwner, token: str, region: str, instance_number: int, connect_timeout: float,
                 reconnect: tuple[float, float]) -> None:  # fmt: skip
        self.owner = owner
        self.region = region
        self.instance_number = instance_number
        self.accounts: set[str] = set()
        self.session_id = random_id()
        self.client_id: str | None = None
        self.pending: set[str] = set()  # request ids sent on this connection and not yet answered
        self.locked_until = 0.0  # monotonic time before which no account is added (a subscription quota, §3.2)
        self._token = token
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._sio: socketio.AsyncClient | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        """Whether the socket is connected (the default namespace's ``connect`` was seen)."""
        return self._connected.is_set()

    def start(self) -> None:
        """Start connecting in the background (idempotent)."""
        if self._task is None and self._sio is None and not self._closing:
            self._task = asyncio.get_running_loop().create_task(self._connect_loop(reconnect=False))

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the socket is connected; TimeoutException after ``timeout`` seconds."""
        if self._connected.is_set():
            return
        self.start()
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise TimeoutException(
                f"Socket of {self.region}:{self.instance_number} not connected in {timeout} s"
            ) from None

    async def emit(self, payload: dict[str, Any]) -> None:
        """Send a ``request`` event."""
        sio = self._sio
        if sio is None or not self._connected.is_set():
            raise ConnectionError("socket not connected")
        await sio.emit("request", payload)

    async def _connect_loop(self, reconnect: bool) -> None:
        attempt = 0
        while not self._closing:
            if attempt or reconnect:
                await asyncio.sleep(backoff(*self._reconnect, attempt))
            attempt += 1
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.info("socket %s:%s connect failed: %s", self.region, self.instance_number, error)
                continue
            if reconnect:
                await self.owner.on_socket_reconnected(self)
            break
        if self._task is asyncio.current_task():
            self._task = None

    async def _connect_once(self) -> None:
        base = await self.owner.socket_base_url(self.region, self.instance_number)
        client_id = f"{random.random():.10f}"
        url = f"{base}?auth-token={quote(self._token, safe='.-_~')}&clientId={client_id}&protocol=3"
        sio = _SocketIOClient(reconnection=False)
        namespace_up = asyncio.Event()
        sio.on("connect", namespace_up.set)
        sio.on("disconnect", lambda: self._on_disconnect(sio))
        sio.on("synchronization", self._on_synchronization)
        sio.on("response", lambda data: self.owner.on_answer(self, "response", data))
        sio.on("processingError", lambda data: self.owner.on_answer(self, "processingError", data))
        try:
            await asyncio.wait_for(sio.connect(url, socketio_path="ws", headers={"Client-Id": client_id}),
                                   self._connect_timeout)  # fmt: skip
            await asyncio.wait_for(namespace_up.wait(), self._connect_timeout)
        except BaseException:
            await _shutdown(sio)
            raise
        if self._closing:
            await _shutdown(sio)
            return
        self._sio, self.client_id, self.session_id = sio, client_id, random_id()
        self._connected.set()

    async def _on_synchronization(self, data: Any) -> None:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return
        if isinstance(data, dict):
            await self.owner.on_packet(self, data)

    def _on_disconnect(self, sio: socketio.AsyncClient) -> None:
        if sio is not self._sio or self._closing:
            return
        log.warning("socket %s:%s lost, reconnecting", self.region, self.instance_number)
        self._connected.clear()
        self._sio = None
        self.owner.on_socket_lost(self)  # the old client ends its own read loop and closes its session
        if self._task is not None:  # still telling listeners about the previous reconnect
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._connect_loop(reconnect=True))

    async def close(self) -> None:
        """Stop reconnecting and disconnect (idempotent)."""
        self._closing = True
        self._connected.clear()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        sio, self._sio = self._sio, None
        if sio is not None:
            await _shutdown(sio)


async def _shutdown(sio: socketio.AsyncClient) -> None:
    """Disconnect a python-socketio client and close its aiohttp session (engineio only schedules that)."""
    http = sio.eio.http
    try:
        await sio.disconnect()
    except Exception:
        log.debug("socket disconnect failed", exc_info=True)
    http = http or sio.eio.http
    if http is not None and not http.closed:
        await http.close()
    await asyncio.sleep(0)  # let engineio's own close task of the session finish
