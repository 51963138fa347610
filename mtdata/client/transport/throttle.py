"""Client-side synchronization throttling (protocol §7.7): how many ``synchronize`` run at once.

Per socket at most ``min(max(ceil(accounts / 10), 1), maxConcurrentSynchronizations)``, and at most
``maxConcurrentSynchronizations`` across the sockets of one region and instance number. Extra
synchronizations wait in order (``queueTimeoutInSeconds``, then TimeoutException). A slot is freed
when its synchronization ends (``dealSynchronizationFinished``, superseded, stream lost) or when no
packet carrying its id came for ``synchronizationTimeoutInSeconds``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from typing import TYPE_CHECKING

from ...errors import NotConnectedException, TimeoutException
from ..options import ThrottlerOpts

if TYPE_CHECKING:
    from .socket import SocketConnection


class SynchronizationThrottler:
    """Synchronization slots of one client's sockets; timers only (no task of its own)."""

    def __init__(self, opts: ThrottlerOpts) -> None:
        self._opts = opts
        self._slots: dict[str, tuple[SocketConnection, asyncio.TimerHandle]] = {}
        self._waiters: deque[tuple[SocketConnection, str, asyncio.Future[None]]] = deque()

    def active(self, socket: SocketConnection | None = None) -> list[str]:
        """Synchronization ids holding a slot (of one socket, or all)."""
        return [sync_id for sync_id, (held, _) in self._slots.items() if socket is None or held is socket]

    def _free(self, socket: SocketConnection) -> bool:
        group = (socket.region, socket.instance_number)
        on_socket = in_group = 0
        for held, _ in self._slots.values():
            on_socket += held is socket
            in_group += (held.region, held.instance_number) == group
        limit = min(max(math.ceil(len(socket.accounts) / 10), 1), self._opts.max_concurrent_synchronizations)
        return on_socket < limit and in_group < self._opts.max_concurrent_synchronizations

    def _take(self, socket: SocketConnection, sync_id: str) -> None:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self._opts.synchronization_timeout_in_seconds, self.release, sync_id)
        self._slots[sync_id] = (socket, timer)

    async def acquire(self, socket: SocketConnection, sync_id: str) -> None:
        """Wait for a slot of ``socket`` for ``sync_id`` (TimeoutException after the queue timeout)."""
        if not self._waiters and self._free(socket):
            self._take(socket, sync_id)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (socket, sync_id, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, self._opts.queue_timeout_in_seconds)
        except TimeoutError:
            raise TimeoutException(
                f"Synchronization {sync_id} waited {self._opts.queue_timeout_in_seconds} s for a slot"
            ) from None
        except asyncio.CancelledError:
            self.release(sync_id)  # woken just before being cancelled: give the slot back
            raise
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def touch(self, sync_id: str) -> None:
        """A packet of ``sync_id`` arrived: its slot's silence timer starts again."""
        held = self._slots.get(sync_id)
        if held is not None:
            held[1].cancel()
            self._take(held[0], sync_id)

    def release(self, sync_id: str | None) -> None:
        """Free the slot of ``sync_id`` (if it holds one) and let waiting synchronizations in."""
        held = self._slots.pop(sync_id, None) if sync_id is not None else None
        if held is None:
            return
        held[1].cancel()
        for entry in list(self._waiters):
            socket, waiting_id, future = entry
            if future.done():
                self._waiters.remove(entry)
            elif self._free(socket):
                self._waiters.remove(entry)
                self._take(socket, waiting_id)
                future.set_result(None)

    def close(self) -> None:
        """Drop every slot; waiting synchronizations fail with NotConnectedException."""
        for _, timer in self._slots.values():
            timer.cancel()
        self._slots.clear()
        while self._waiters:
            _, _, future = self._waiters.popleft()
            if not future.done():
                future.set_exception(NotConnectedException("The websocket client was closed"))
