"""Faults on demand, for tests of the client's resilience (TEMPORARY skeleton, filled in by the faults work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .server import SandboxServer


class Faults:
    """Fault state of one server and the control API that changes it."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    async def before_request(self, request: web.Request) -> None:
        """Apply configured REST faults (delays, 429) before a request is handled."""

    def setup_routes(self, app: web.Application) -> None:
        """Register the ``/sandbox/faults`` control endpoints."""
