"""REST endpoints of the sandbox (spec §2): provisioning, tokens, client API, historical data."""

from __future__ import annotations

from aiohttp import web


def setup_routes(app: web.Application) -> None:
    """Register every REST route on ``app`` (the server is in ``app["sandbox"]``)."""
