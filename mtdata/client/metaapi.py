"""``MetaApi``: the client's entry point; one token, one option set, one HTTP connection pool.

api = MetaApi(token)                               # the cloud (https hosts of protocol §1.2)
api = MetaApi.sandbox("http://127.0.0.1:8080", token)  # a local sandbox (every host is that URL)
account = await api.metatrader_account_api.get_account(account_id)
await api.close()
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import httpx

from ..errors import MetaApiException, NotConnectedException, ValidationException, redact
from ..redaction import protect
from . import checks
from .connections.registry import ConnectionRegistry
from .models import MetaApiOpts
from .monitoring.latency_monitor import LatencyMonitor
from .monitoring.latency_service import LatencyService
from .options import MetaApiOptions, parse_options
from .rest.accounts import MetatraderAccountApi
from .rest.context import ClientContext
from .rest.generator import MetatraderAccountGeneratorApi
from .rest.history_api import HistoricalMarketDataClient
from .rest.hosts import Hosts
from .rest.http import HttpClient
from .rest.profiles import ProvisioningProfileApi
from .rest.tokens import TokenManagementApi
from .state.hash_manager import TerminalHashManager
from .transport.websocket import WebsocketClient


class MetaApi:
    """The MetaApi client: the REST APIs as properties; ``await close()`` when done (or ``async with``).

    Nothing runs in the constructor: no task, no request; the first request opens a connection.
    The socket client and the connection registry are created on the first streaming or RPC
    connection and closed by :meth:`close`. ``transport`` is an httpx transport seam for tests.
    """

    def __init__(
        self, token: str, opts: MetaApiOpts | None = None, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise checks.fail("token", "must be a non-empty string", "<redacted>" if token else token)
        protect(token)  # no log record of the process shows it whole (engineio logs the socket's URL)
        self._token = token
        self._options = parse_options(opts)
        options = self._options
        http = HttpClient(token, options.retry_opts, options.request_timeout, transport)
        hosts = Hosts(http, options.domain, options.url)
        self._context = ClientContext(http, hosts, options, token)
        history = HistoricalMarketDataClient(self._context)
        self._history = history
        self._accounts = MetatraderAccountApi(self._context, history, lambda: self.connection_registry)
        self._profiles = ProvisioningProfileApi(self._context)
        self._generator = MetatraderAccountGeneratorApi(self._context)
        self._tokens = TokenManagementApi(self._context)
        self._latency = LatencyMonitor()
        self._client: WebsocketClient | None = None
        self._registry: ConnectionRegistry | None = None
        self._latency_service: LatencyService | None = None

    @classmethod
    def sandbox(cls, url: str, token: str, opts: MetaApiOpts | None = None, **kwargs: Any) -> MetaApi:
        """A client of a local sandbox at ``url`` (plain http on loopback is fine; the sandbox routes by path)."""
        return cls(token, {**(opts or {}), "url": url}, **kwargs)

    def __repr__(self) -> str:
        target = self._options.url or self._options.domain
        return f"MetaApi(token={redact(self._token)}, target={target!r})"

    async def __aenter__(self) -> MetaApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def options(self) -> MetaApiOptions:
        """The validated options."""
        return self._options

    @property
    def context(self) -> ClientContext:
        """Shared plumbing for the socket layer (HTTP client, hosts, options)."""
        return self._context

    @property
    def historical_market_data_client(self) -> HistoricalMarketDataClient:
        """The market-data REST client both connections use."""
        return self._history

    @property
    def metatrader_account_api(self) -> MetatraderAccountApi:
        """Trading accounts and their replicas."""
        return self._accounts

    @property
    def provisioning_profile_api(self) -> ProvisioningProfileApi:
        """Provisioning profiles."""
        return self._profiles

    @property
    def metatrader_account_generator_api(self) -> MetatraderAccountGeneratorApi:
        """The demo-account generator."""
        return self._generator

    @property
    def token_management_api(self) -> TokenManagementApi:
        """Narrowed-down tokens."""
        return self._tokens

    @property
    def latency_monitor(self) -> LatencyMonitor:
        """Latency statistics (filled by the socket layer once latency tracking is on)."""
        return self._latency

    @property
    def latency_service(self) -> LatencyService:
        """Probe-connect latency per region and the fastest region (protocol §4.2; measured on request)."""
        if self._latency_service is None:
            self._latency_service = LatencyService(self._context, self._latency)
        return self._latency_service

    @property
    def websocket_client(self) -> WebsocketClient:
        """The socket client every connection of this ``MetaApi`` shares (created on first use)."""
        if self.closed:
            raise NotConnectedException("this MetaApi was closed")
        if self._client is None:
            latency = self._latency if self._options.enable_latency_tracking else None
            self._client = WebsocketClient(self._context, latency)
        return self._client

    @property
    def connection_registry(self) -> ConnectionRegistry:
        """One streaming and one RPC connection per account (created on first use)."""
        if self._registry is None:
            hashes = TerminalHashManager(self._context, self._options.keep_hash_trees)
            self._registry = ConnectionRegistry(self._context, self.websocket_client, self._history, hashes)
        return self._registry

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._context.http.closed

    async def close(self) -> None:
        """Close every connection, the socket client and the HTTP connection pool (idempotent)."""
        registry, client = self._registry, self._client
        self._registry = None
        try:
            if registry is not None:
                await registry.close()
        finally:
            if client is not None:
                await client.close()
            await self._context.http.close()

    @staticmethod
    def enable_logging(level: int = logging.DEBUG) -> None:
        """Log the client's requests, retries and waits (logger ``mtdata.client``) to stderr."""
        logger = logging.getLogger("mtdata.client")
        logger.setLevel(level)
        if not any(getattr(h, "_mtdata", False) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler._mtdata = True  # type: ignore[attr-defined]
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
            logger.addHandler(handler)

    @staticmethod
    def format_error(err: BaseException) -> dict[str, Any]:
        """A dict describing ``err`` for logs: name, message, status, URL, details / metadata / codes."""
        info: dict[str, Any] = {"name": type(err).__name__, "message": str(err)}
        if isinstance(err, MetaApiException):
            for key in ("status_code", "url", "details", "metadata", "numeric_code", "string_code"):
                value = getattr(err, key, None)
                if value is not None:
                    info[key] = value
        if err.__traceback__ is not None and not isinstance(err, ValidationException):
            info["trace"] = "".join(traceback.format_tb(err.__traceback__))
        return info
