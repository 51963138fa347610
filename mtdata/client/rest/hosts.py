"""Base URLs of the cloud's services (protocol §1.2), or one local URL for all of them (the sandbox dispatches by path).

The client-API and market-data hosts need the domain from the domain-settings endpoint
(protocol §1.3), fetched lazily, cached for 10 minutes, one request shared by concurrent callers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .http import HttpClient

SETTINGS_TTL_SECONDS = 600


class Hosts:
    """Builds service base URLs from the ``domain`` option, or maps every service to ``url`` when given."""

    def __init__(self, http: HttpClient, domain: str, url: str | None = None) -> None:
        self._http = http
        self._domain = domain
        self._url = url
        self._settings: dict[str, Any] | None = None
        self._settings_at = 0.0
        self._pending: asyncio.Future[dict[str, Any]] | None = None

    @property
    def provisioning(self) -> str:
        """Accounts, replicas, profiles, experts, the demo generator and domain settings."""
        return self._url or f"https://mt-provisioning-api-v1.{self._domain}"

    @property
    def profile(self) -> str:
        """Token management."""
        return self._url or f"https://profile-api-v1.{self._domain}"

    async def domain_settings(self) -> dict[str, Any]:
        """``{hostname, domain}`` of the client API (cached 10 minutes, one request for concurrent callers)."""
        if self._settings is not None and time.monotonic() - self._settings_at < SETTINGS_TTL_SECONDS:
            return self._settings
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._fetch_settings())
        pending = self._pending
        try:
            return await asyncio.shield(pending)
        finally:
            if pending.done() and self._pending is pending:
                self._pending = None

    async def _fetch_settings(self) -> dict[str, Any]:
        settings = await self._http.request("GET", f"{self.provisioning}/users/current/servers/mt-client-api")
        self._settings, self._settings_at = settings, time.monotonic()
        return settings

    async def client_api(self, region: str) -> str:
        """``https://mt-client-api-v1.{region}.{D}`` (hashing ignored field lists)."""
        if self._url:
            return self._url
        return f"https://mt-client-api-v1.{region}.{(await self.domain_settings())['domain']}"

    async def market_data(self, region: str) -> str:
        """``https://mt-market-data-client-api-v1.{region}.{D}`` (historical candles and ticks)."""
        if self._url:
            return self._url
        return f"https://mt-market-data-client-api-v1.{region}.{(await self.domain_settings())['domain']}"

    async def websocket(self, region: str, instance_number: int, shared_client_api: bool = False) -> str:
        """``https://{H}.{region}-{a|b}.{D}`` for an instance's socket (``{H}`` = ``mt-client-api-v1`` if shared)."""
        if self._url:
            return self._url
        settings = await self.domain_settings()
        host = "mt-client-api-v1" if shared_client_api else settings["hostname"]
        return f"https://{host}.{region}-{chr(97 + instance_number)}.{settings['domain']}"
