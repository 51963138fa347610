"""The socket.io side of the sandbox (spec §4-§7): subscriptions, synchronization, RPC, market data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import socketio

if TYPE_CHECKING:
    from ..server import SandboxServer


class Hub:
    """Owns every socket connection and stream of one sandbox server."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    def attach(self, sio: socketio.AsyncServer) -> None:
        """Register the socket.io event handlers."""

    async def start(self) -> None:
        """Start background loops (status packets, market-data streaming)."""

    async def stop(self) -> None:
        """Stop background loops."""
