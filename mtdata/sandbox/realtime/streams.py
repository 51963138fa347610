"""Per-connection state: who is connected, which account streams they hold, how those streams number packets.

A *stream* is (socket, accountId, instanceIndex, host), as the client's packet orderer
keys it (§7.6): one gapless ``sequenceNumber`` counter and a non-decreasing
``sequenceTimestamp``. Packets before the stream's first ``synchronizationStarted``
carry no numbers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ..auth import Principal
from ..errors import UnauthorizedError
from ..timeutil import now_ms

#: Market-data subscription types of ``subscribeToMarketData`` (§5.3).
MARKET_DATA_TYPES = ("quotes", "candles", "ticks", "marketDepth")


def host_of(instance_index: int) -> str:
    """The server process name the sandbox reports for an instance number."""
    return f"ps-mpa-{instance_index}"


@dataclass
class MarketSubscription:
    """One market-data subscription of a stream: its type, timeframe, interval and delivery state.

    ``interval_ms`` None (not given): changes are coalesced to one packet per streaming-loop
    step; N > 0: at most one packet per N ms; 0: no throttling, every tick of a quotes
    subscription goes out as its own ``prices`` packet.
    """

    type: str
    timeframe: str | None = None
    interval_ms: int | None = None
    last_sent: float = 0.0
    dirty: bool = False
    pending_ticks: list[dict[str, Any]] = field(default_factory=list)

    def due(self, wall: float, tolerance_ms: float = 0.0) -> bool:
        """Whether the subscription's interval has elapsed since its last packet (less ``tolerance_ms``).

        The streaming loop passes half its period, so a 100 ms interval on a 20 ms loop averages
        about 100 ms rather than rounding up to the next step every time.
        """
        return (wall - self.last_sent) * 1000 >= (self.interval_ms or 0) - tolerance_ms

    @property
    def every_tick(self) -> bool:
        """A quotes subscription that asked for no throttling (``intervalInMilliseconds: 0``)."""
        return self.type == "quotes" and self.interval_ms == 0

    def wire(self) -> dict[str, Any]:
        """The subscription as the client sent it."""
        out: dict[str, Any] = {"type": self.type}
        if self.timeframe:
            out["timeframe"] = self.timeframe
        if self.interval_ms is not None:
            out["intervalInMilliseconds"] = self.interval_ms
        return out


#: Test faults on a stream's numbered packets (``POST /sandbox/faults/packets``).
PACKET_FAULTS = ("swap", "skip", "duplicate")


@dataclass
class PacketFault:
    """Disturb the next ``count`` numbered packets of a stream (never a ``synchronizationStarted``).

    ``swap``: each pair goes out in reverse order (numbers stay true, so the client must reorder);
    ``skip``: each packet skips a sequence number (a gap that never fills: the client must resync);
    ``duplicate``: each packet is sent twice with the same number.
    """

    action: str
    count: int
    held: dict[str, Any] | None = None


@dataclass
class Stream:
    """One account stream on one socket."""

    account_id: str
    instance_index: int
    host: str
    subscribed: bool = False
    sync_id: str | None = None
    synchronized: bool = False
    sequence: int = 0
    last_timestamp: int = 0
    numbered: bool = False
    market: dict[str, list[MarketSubscription]] = field(default_factory=dict)
    #: Per symbol, the market time (wire ISO) its prices on this stream are up to: no older price may follow.
    prices_through: dict[str, str] = field(default_factory=dict)
    fault: PacketFault | None = None

    def stop(self) -> None:
        """End the stream's subscription: no more status, synchronization or market data (numbering continues)."""
        self.subscribed = False
        self.sync_id = None
        self.synchronized = False
        self.market.clear()

    def header(self, packet_type: str) -> dict[str, Any]:
        """The common fields of a packet of this stream."""
        return {"type": packet_type, "accountId": self.account_id, "instanceIndex": self.instance_index,
                "host": self.host}  # fmt: skip

    def stamp(self, packet: dict[str, Any], starts_sync: bool = False) -> dict[str, Any]:
        """Give ``packet`` the stream's next sequence number and timestamp (when numbering has begun)."""
        now = now_ms()
        if starts_sync:
            stamp_ms = max(now, self.last_timestamp + 1)
            self.numbered = True
        elif not self.numbered:
            return packet
        else:
            stamp_ms = max(now, self.last_timestamp)
        self.sequence += 1
        self.last_timestamp = stamp_ms
        packet["sequenceNumber"] = self.sequence
        packet["sequenceTimestamp"] = stamp_ms
        return packet

    def outgoing(self, packet: dict[str, Any], starts_sync: bool = False) -> list[dict[str, Any]]:
        """The packets to emit for ``packet``: itself, stamped, unless a :class:`PacketFault` disturbs it."""
        fault = self.fault
        if fault is None or starts_sync or not self.numbered:
            return [self.stamp(packet, starts_sync)]
        if fault.action == "skip":
            self.sequence += 1
        stamped = self.stamp(packet)
        if fault.action == "swap" and fault.held is None:
            fault.held = stamped
            return []
        fault.count -= 1
        if fault.count <= 0:
            self.fault = None
        if fault.action == "swap":
            held, fault.held = fault.held, None
            return [stamped, held]  # type: ignore[list-item]
        if fault.action == "duplicate":
            return [stamped, dict(stamped)]
        return [stamped]


@dataclass
class Connection:
    """A connected socket: its principal, client id and account streams."""

    sid: str
    principal: Principal
    client_id: str | None
    connected_at: float = field(default_factory=time.monotonic)
    streams: dict[tuple[str, int], Stream] = field(default_factory=dict)
    #: Ends the streams when the token expires (a socket that only listens sends no request to check it).
    expiry: asyncio.TimerHandle | None = None

    def require_token(self) -> None:
        """Raise UnauthorizedError if the socket's token has expired since it connected, ending every stream."""
        try:
            self.principal.require_unexpired()
        except UnauthorizedError:
            self.stop_streams()
            raise

    def stop_streams(self) -> None:
        """End every stream of this socket (its token expired)."""
        for stream in self.streams.values():
            stream.stop()

    def stream(self, account_id: str, instance_index: int) -> Stream:
        """The stream of ``account_id`` on ``instance_index``, created on first use."""
        key = (account_id, instance_index)
        found = self.streams.get(key)
        if found is None:
            found = self.streams[key] = Stream(account_id, instance_index, host_of(instance_index))
        return found

    def account_streams(self, account_id: str) -> list[Stream]:
        """Every stream of this socket for ``account_id``."""
        return [s for (a, _), s in self.streams.items() if a == account_id]
