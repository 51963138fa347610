"""Workarounds for python-socketio 4.6.1 / python-engineio 3.14 on Python 3.11+.

The hosted MetaApi service pins socket.io v2 (Engine.IO v3), so mtdata pins the 4.x line,
which gets no upstream fixes. Two defects matter:

* Server: ``AsyncManager.emit`` (every emit to a room, including a single sid) and
  ``engineio.AsyncServer.disconnect()`` without a sid pass bare coroutines to
  ``asyncio.wait``, which Python 3.11 refuses; the error is lost in a background task and
  the peer waits forever. :class:`GatherManager` and :func:`disconnect_all` send with
  ``asyncio.gather`` instead.
* Server: engineio's ping-timeout monitor task is started lazily and never stopped;
  :func:`owned_service_task` hands it to the server that owns it.
* Client: engineio's asyncio client installs a SIGINT handler on its first connect, after
  which "Interrupt kernel" kills a Jupyter kernel. :func:`disable_client_sigint_handler`
  marks the handler as already installed.

Both sides (sandbox and client) import from here; ``tests/test_socketio_compat.py`` fails
if a workaround stops being needed or stops working.
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import engineio.asyncio_client
import socketio


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
