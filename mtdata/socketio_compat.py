"""Workarounds for python-socketio 4.6.1 / python-engineio 3.14 on Python 3.11+.

The hosted MetaApi service pins socket.io v2 (Engine.IO v3), so mtdata pins the 4.x line,
which gets no upstream fixes. These defects matter:

* Server: ``AsyncManager.emit`` (every emit to a room, including a single sid) and
  ``engineio.AsyncServer.disconnect()`` without a sid pass bare coroutines to
  ``asyncio.wait``, which Python 3.11 refuses; the error is lost in a background task and
  the peer waits forever. :class:`GatherManager` and :func:`disconnect_all` send with
  ``asyncio.gather`` instead.
* Server: engineio's ping-timeout monitor task is started lazily and never stopped;
  :func:`owned_service_task` hands it to the server that owns it.
* Server: a client's event named ``connect`` or ``disconnect`` (or a second CONNECT packet)
  reaches the server's own connect and disconnect handlers (re-running authentication, or
  forgetting a live socket; a DISCONNECT packet forgets it too, so GuardedServer closes the
  transport then), and a
  malformed event (no name, a name that is not a string) raises in a background task
  ("Task exception was never retrieved"). :class:`GuardedServer` dispatches only well-formed
  events with names socket.io does not reserve, and hands the others to ``on_refused``.
* Client: engineio's asyncio client installs a SIGINT handler on its first connect, after
  which "Interrupt kernel" kills a Jupyter kernel. :func:`disable_client_sigint_handler`
  marks the handler as already installed.

Both sides (sandbox and client) import from here; ``tests/test_socketio_compat.py`` fails
if a workaround stops being needed or stops working.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import engineio.asyncio_client
import socketio

log = logging.getLogger(__name__)

#: Event names socket.io gives a meaning of its own; a client's event never goes by one of them.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                             "removeListener"})  # fmt: skip

#: Told of each refused client event: ``(sid, the event's data as decoded)``.
RefusedEvent = Callable[[str, Any], Awaitable[None]]


class GuardedServer(socketio.AsyncServer):
    """An ``AsyncServer`` that dispatches a client's event only if it has a string name socket.io does not reserve.

    Refused events go to ``on_refused``; a packet that does not decode is dropped (logged at INFO) and an
    exception of an event handler is logged, so nothing a client sends fails in an unobserved task.
    """

    def __init__(self, *args: Any, on_refused: RefusedEvent | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_refused = on_refused

    async def _handle_eio_message(self, sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(sid, data)
        except Exception as error:  # not a socket.io packet: dropped, as the JavaScript server drops one
            log.info("dropped a malformed socket.io packet from %s (%s)", sid, type(error).__name__)

    async def _handle_connect(self, sid: str, namespace: str | None) -> Any:
        if self.manager.is_connected(sid, namespace or "/"):
            return None  # a second CONNECT packet on a live socket would re-run the connect handler
        return await super()._handle_connect(sid, namespace)

    async def _handle_disconnect(self, sid: str, namespace: str | None) -> None:
        await super()._handle_disconnect(sid, namespace)
        socket = self.eio.sockets.get(sid) if (namespace or "/") == "/" else None
        if socket is not None and not socket.closing:
            # a client that left the default namespace is gone: close its transport, or its later events are
            # dropped unanswered while it waits on an open socket
            await socket.close(wait=False)
            self.eio.sockets.pop(sid, None)

    async def _handle_event(self, sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        if isinstance(data, list) and data and isinstance(data[0], str) and data[0] not in RESERVED_EVENTS:
            await super()._handle_event(sid, namespace, id, data)
        elif self.on_refused is not None:
            await self.on_refused(sid, data)

    async def _handle_event_internal(self, server: Any, sid: str, data: Any, namespace: str | None,
                                     id: int | None) -> None:  # fmt: skip
        try:
            await super()._handle_event_internal(server, sid, data, namespace, id)
        except Exception:
            log.exception("the handler of socket.io event %r failed", data[0])


class GatherManager(socketio.AsyncManager):
    """Client manager whose ``emit`` awaits per-client sends with ``asyncio.gather``."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> None:
        if namespace not in self.rooms or room not in self.rooms[namespace]:
            return
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        sends = []
        for sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            ack_id = self._generate_ack_id(sid, namespace, callback) if callback is not None else None
            sends.append(self.server._emit_internal(sid, event, data, namespace, ack_id))
        if sends:
            await asyncio.gather(*sends, return_exceptions=True)


async def disconnect_all(eio: engineio.AsyncServer) -> None:
    """Close every Engine.IO socket of ``eio`` (the library's own version is broken on 3.11+).

    ``wait=False``: a socket whose peer is gone would otherwise wait forever for its send
    queue to drain, and the server's shutdown with it.
    """
    sockets = list(eio.sockets.values())
    await asyncio.gather(*(s.close(wait=False) for s in sockets), return_exceptions=True)
    eio.sockets = {}


def owned_service_task(eio: engineio.AsyncServer) -> asyncio.Task:
    """Run engineio's ping-timeout monitor as a task the caller owns and cancels on stop.

    engineio starts it on the first request and never stops it, so a stopped server
    leaves a pending task behind ("Task was destroyed but it is pending").
    """
    eio.start_service_task = False
    return asyncio.ensure_future(eio._service_task())


def disable_client_sigint_handler() -> None:
    """Stop engineio's asyncio client from taking over SIGINT (keeps Jupyter's interrupt working)."""
    engineio.asyncio_client.async_signal_handler_set = True
