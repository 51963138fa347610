"""The packet orderer (protocol §7.6): releases numbered synchronization packets of each stream in sequence order.

A stream is ``accountId:instanceIndex:host``. Packets without ``sequenceNumber`` pass through.
A gap parks later packets on a wait list (at most :data:`WAIT_LIST_LIMIT` per stream); when the
oldest waiting packet is older than the ordering timeout, ``on_out_of_order`` is called once per
session so the owner can re-subscribe (a new ``authenticated`` brings a full resynchronization).
Timeouts are checked by ``loop.call_later`` handles, not by a task of its own.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Packet = dict[str, Any]

#: Waiting packets kept per stream (the oldest are dropped beyond it).
WAIT_LIST_LIMIT = 100


StreamKey = tuple[str, int, str]


def stream_key(packet: Packet) -> StreamKey:
    """``(accountId, instanceIndex, host)`` of a packet (instance 0 and host "0" when absent)."""
    return packet.get("accountId", ""), packet.get("instanceIndex") or 0, packet.get("host", "0")


@dataclass
class _Stream:
    expected: int | None = None  # the last released sequence number of the session
    session_start: int | None = None  # the last recorded sequenceTimestamp
    waiting: list[tuple[int, float, Packet]] = field(default_factory=list)  # (number, received at, packet)
    out_of_order_emitted: bool = False
    timer: asyncio.TimerHandle | None = None


#: Called with (account_id, instance_number, expected number, actual number, packet) on an ordering timeout.
OutOfOrderCallback = Callable[[str, int, int, int, Packet], None]


class PacketOrderer:
    """Per-stream sequence tracking and wait lists; ``restore_order(packet)`` returns the packets to process now."""

    def __init__(self, on_out_of_order: OutOfOrderCallback, timeout: float = 60.0) -> None:
        self._on_out_of_order = on_out_of_order
        self.timeout = timeout
        self._streams: dict[StreamKey, _Stream] = {}

    def restore_order(self, packet: Packet) -> list[Packet]:
        """The packets released by the arrival of ``packet`` (possibly none, possibly several), in order."""
        number = packet.get("sequenceNumber")
        if number is None:
            return [packet]
        key = stream_key(packet)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        stamp = packet.get("sequenceTimestamp") or 0
        if (
            packet.get("type") == "synchronizationStarted"
            and packet.get("synchronizationId")
            and (stream.session_start is None or stamp > stream.session_start)
        ):
            stream.out_of_order_emitted = False
            stream.expected = number
            stream.session_start = stamp
            stream.waiting = [w for w in stream.waiting if (w[2].get("sequenceTimestamp") or 0) >= stamp]
            released = [packet, *self._release_waiting(key, stream)]
            if stream.waiting and stream.timer is None:
                self._schedule(key, stream)
            return released
        if stream.session_start is not None and stamp < stream.session_start:
            return []
        if stream.expected is not None:
            if number == stream.expected:
                return [packet]
            if number == stream.expected + 1:
                stream.expected = number
                stream.session_start = stamp
                if stream.waiting:
                    return [packet, *self._release_waiting(key, stream)]
                return [packet]
        self._park(key, stream, number, packet)
        return []

    def _park(self, key: StreamKey, stream: _Stream, number: int, packet: Packet) -> None:
        waiting = stream.waiting
        bisect.insort(waiting, (number, time.monotonic(), packet), key=lambda w: w[0])
        if len(waiting) > WAIT_LIST_LIMIT:
            del waiting[: len(waiting) - WAIT_LIST_LIMIT]
        if stream.timer is None:
            self._schedule(key, stream)

    def _release_waiting(self, key: StreamKey, stream: _Stream) -> list[Packet]:
        released: list[Packet] = []
        waiting = stream.waiting
        assert stream.expected is not None
        while waiting and waiting[0][0] in (stream.expected, stream.expected + 1):
            number, _, packet = waiting.pop(0)
            if number == stream.expected + 1:
                stream.expected = number
                stream.session_start = packet.get("sequenceTimestamp") or stream.session_start
            released.append(packet)
        if not waiting and stream.timer is not None:
            stream.timer.cancel()
            stream.timer = None
        return released

    def _schedule(self, key: StreamKey, stream: _Stream) -> None:
        delay = max(0.0, stream.waiting[0][1] + self.timeout - time.monotonic())
        stream.timer = asyncio.get_running_loop().call_later(delay, self._check, key)

    def _check(self, key: StreamKey) -> None:
        stream = self._streams.get(key)
        if stream is None:
            return
        stream.timer = None
        if not stream.waiting:
            return
        number, received, packet = stream.waiting[0]
        if time.monotonic() - received < self.timeout:
            self._schedule(key, stream)
        elif stream.expected is not None and not stream.out_of_order_emitted:
            # once per session; packets waiting before any session have nothing to resynchronize
            stream.out_of_order_emitted = True
            self._on_out_of_order(key[0], key[1], stream.expected + 1, number, packet)

    def waiting(self, key: StreamKey) -> int:
        """How many packets of a stream wait for a missing sequence number."""
        stream = self._streams.get(key)
        return len(stream.waiting) if stream else 0

    def reset_stream(self, key: StreamKey) -> None:
        """Forget a stream (``disconnected``, status timeout): its next session starts from scratch."""
        stream = self._streams.pop(key, None)
        if stream is not None and stream.timer is not None:
            stream.timer.cancel()

    def reset_accounts(self, account_ids: set[str], instance_number: int) -> None:
        """Forget the streams of these accounts on one instance (their socket reconnected)."""
        for key in list(self._streams):
            if key[0] in account_ids and key[1] == instance_number:
                self.reset_stream(key)

    def close(self) -> None:
        """Cancel every pending timeout check and forget all streams."""
        for key in list(self._streams):
            self.reset_stream(key)
