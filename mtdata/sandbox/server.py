"""The sandbox server: one aiohttp application serving MetaApi's REST API and socket.io on loopback.

:class:`SandboxServer` is the asyncio service (start/stop inside a running loop);
:class:`SandboxHandle` runs one on a private event-loop thread so scripts, notebooks
and pytest fixtures can use it without an event loop of their own.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from ..redaction import protect, redact
from ..socketio_compat import GatherManager, GuardedServer, disconnect_all, owned_service_task
from .accounts import DEMO_SERVER, Accounts, new_account
from .appkeys import PRINCIPAL, SANDBOX
from .auth import Principal, TokenService, full_access_rules
from .broker.engine import Broker
from .config import SandboxConfig
from .errors import ApiError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError
from .faults import Faults
from .market import Market
from .realtime import Hub
from .rest import setup_routes
from .store import Store

log = logging.getLogger("mtdata.sandbox")

#: Longest request line and header accepted (aiohttp's default is 8 KB; a longer one gets a plain-text 400).
MAX_HEADER_BYTES = 32 * 1024

#: Paths that need no token: the socket.io endpoint authenticates itself, ``/`` is a health page.
_OPEN_PATHS = ("/ws", "/ws/")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response encoded with orjson (fast enough for 1000-candle pages)."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json",
                        headers=headers)  # fmt: skip


def error_response(error: ApiError) -> web.Response:
    """The cloud's structured error body for ``error``."""
    return json_response(error.body(), status=error.status)


#: Error classes by HTTP status, for refusals made outside the sandbox's handlers (aiohttp's, engine.io's).
_BY_STATUS: dict[int, type[ApiError]] = {400: ValidationError, 401: UnauthorizedError, 403: ForbiddenError,
                                         404: NotFoundError, 409: ConflictError}  # fmt: skip


def _foreign(status: int, message: str) -> ApiError:
    """A refusal made outside the sandbox's handlers as the cloud's error, with its own HTTP status."""
    error = _BY_STATUS.get(status, ApiError)(message[:200])
    error.status = status
    return error


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPNotFound:
        return error_response(NotFoundError(f"Endpoint {request.method} {request.path} not found"))
    except web.HTTPMethodNotAllowed:
        return error_response(NotFoundError(f"Method {request.method} is not allowed on {request.path}"))
    except web.HTTPRequestEntityTooLarge:
        return error_response(ValidationError.field("body", "is too large"))
    except web.HTTPException as http:
        if http.status < 400:
            raise
        return error_response(_foreign(http.status, http.reason or "Request failed"))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(ApiError("Internal error while processing the request"))
    if response.status >= 400 and response.content_type != "application/json" and not response.prepared:
        # engine.io answers its own refusals on /ws in plain text (a JSON string at best)
        text = response.text if isinstance(response, web.Response) else None
        return error_response(_foreign(response.status, (text or response.reason).strip('"')))
    return response


@web.middleware
async def _authenticate(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in _OPEN_PATHS or request.path == "/":
        return await handler(request)
    server: SandboxServer = request.app[SANDBOX]
    await server.faults.before_request(request)
    request[PRINCIPAL] = server.tokens.verify(request.headers.get("auth-token"))
    return await handler(request)


class SandboxServer:
    """One sandbox: store, tokens, market, socket hub and REST routes, bound to one port."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        """The server's settings (a ``data_dir`` of None becomes the temporary directory made for the server)."""
        # the market first: a bad replay file is refused before the data directory is made or touched
        self.market = Market(self.config.seed, self.config.speed, self.config.replay, start_ms=self.config.start_ms,
                             broker_clock=self.config.broker_clock)  # fmt: skip
        """The simulated market: the symbols' prices (``market.price(symbol)``), the same for the same seed, and its
        clock (``market.now_ms()``)."""
        self._temp_dir: str | None = None
        if self.config.data_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="mtdata-sandbox-")
            self.config = replace(self.config, data_dir=Path(self._temp_dir))
        self.data_dir: Path = Path(self.config.data_dir)  # type: ignore[arg-type]
        """The directory of the sandbox's database (the config's, or a temporary one removed by :meth:`stop`)."""
        self.store = Store(self.data_dir)
        """The sandbox's SQLite database in :attr:`data_dir`: settings, tokens, accounts, positions, orders, deals..."""
        self.tokens = TokenService(self.store)
        """Issues and verifies the API tokens (``tokens.issue(user_id, rules)``)."""
        self.accounts = Accounts(self.store)
        """The account and replica documents in :attr:`store` (``accounts.get(account_id)``, deploy, save)."""
        self.faults = Faults(self)
        """Fault injection: delays, rate limits, dropped sockets, a broker disconnected (``faults.add_delay(...)``;
        also over REST under ``/sandbox/faults``)."""
        self.hub = Hub(self)
        """The socket.io side: every client connection and its synchronization and market-data streams."""
        self.broker = Broker(self)
        """Executes the accounts' trades against :attr:`market` and :attr:`store`."""
        self.hub.trade_executor = self.broker.execute
        user_id, token, account_id = self._bootstrap()
        self.user_id = user_id
        """The sandbox user's id (made on the first run, kept in :attr:`data_dir`)."""
        self.token = token
        """The sandbox user's full-access API token (made on the first run): the ``auth-token`` clients send."""
        self.account_id = account_id
        """The id of the demo account made and deployed on the first run, ready to connect to."""
        protect(self.token)  # no log record of the process shows it whole
        self.sio: GuardedServer | None = None
        """The socket.io server (path ``/ws``), made by :meth:`build_app` (None before)."""
        self._runner: web.AppRunner | None = None
        self._eio_service: asyncio.Task | None = None
        self.port: int = self.config.port
        """The port served: the config's, or once :meth:`start` bound it, the free port taken for 0."""

    def _bootstrap(self) -> tuple[str, str, str]:
        """The sandbox user, its full-access token and its demo account (created on first run)."""
        store = self.store
        user_id = store.setting("user_id")
        if user_id is None:
            user_id = uuid.uuid4().hex
            store.set_setting("user_id", user_id)
        token = store.setting("root_token")
        if token is None:
            token = self.tokens.issue(user_id, full_access_rules())
            store.set_setting("root_token", token)
        account_id = store.setting("demo_account_id")
        if account_id is None:
            fields = {"name": "Sandbox demo", "server": DEMO_SERVER, "login": "50001", "platform": "mt5",
                      "magic": 0}  # fmt: skip
            doc = new_account(user_id, fields, self.config.region)
            self.accounts.deploy_now(doc)
            account_id = doc["_id"]
            store.set_setting("demo_account_id", account_id)
        return user_id, token, account_id

    def restart_config(self) -> SandboxConfig:
        """The configuration to start this server again: same port and data dir, the market clock running on."""
        return replace(self.config, port=self.port, start_ms=self.market.now_ms())

    @property
    def url(self) -> str:
        """Base URL of every REST endpoint and of the socket.io server (path ``/ws``)."""
        return f"http://{self.config.host}:{self.port}"

    def principal(self, token: str | None) -> Principal:
        """Verify a token (socket connections use this; REST goes through the middleware)."""
        return self.tokens.verify(token)

    def build_app(self) -> web.Application:
        """The aiohttp application with socket.io attached and every route registered."""
        app = web.Application(middlewares=[_errors, _authenticate], client_max_size=16 * 1024 * 1024)
        app[SANDBOX] = self
        self.sio = GuardedServer(
            async_mode="aiohttp",
            client_manager=GatherManager(),
            cors_allowed_origins="*",
            ping_interval=25,
            ping_timeout=60,
            max_http_buffer_size=1_000_000,
        )
        self.sio.attach(app, socketio_path="ws")
        self.hub.attach(self.sio)
        app.router.add_get("/", self._health)
        setup_routes(app)
        self.faults.setup_routes(app)
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return json_response({"service": "mtdata sandbox", "region": self.config.region})

    async def start(self) -> None:
        """Bind the configured host and port (0 = any free port) and start background loops."""
        app = self.build_app()
        # headers up to 32 KB (a long narrowed token), so such a request gets the application's JSON answer
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, max_line_size=MAX_HEADER_BYTES,
                                     max_field_size=MAX_HEADER_BYTES)  # fmt: skip
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.port, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        self._eio_service = owned_service_task(self.sio.eio)  # type: ignore[union-attr]
        await self.hub.start()
        self.broker.start()
        log.info("sandbox listening on %s (token %s)", self.url, redact(self.token))

    async def stop(self, remove_temp: bool = True) -> None:
        """Stop serving, drop every socket, close the store (and remove a temporary data dir)."""
        await self.broker.stop()
        await self.hub.stop()
        if self._eio_service is not None:
            self._eio_service.cancel()
            await asyncio.gather(self._eio_service, return_exceptions=True)
        if self.sio is not None:
            await disconnect_all(self.sio.eio)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.store.close()
        if remove_temp and self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


class SandboxHandle:
    """A sandbox running on its own event-loop thread: ``.url``, ``.token``, ``.account_id``.

    Use it as a context manager (or call :meth:`stop`). :meth:`restart` stops the server
    and starts a new one on the same port and data directory, as a crash and restart would.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mtdata-sandbox", daemon=True)
        self._thread.start()
        self._temp_dir: str | None = None
        if config.data_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="mtdata-sandbox-")
            config = replace(config, data_dir=Path(self._temp_dir))
        self.config = config
        """The server's settings (a ``data_dir`` of None becomes the handle's temporary directory, removed by
        :meth:`stop`)."""
        try:
            self.server = self._launch(config)
            """The :class:`SandboxServer` running on the handle's thread (a new one after :meth:`restart`); run its
            coroutines with :meth:`call`."""
        except BaseException:  # e.g. a bad replay file: leave no thread or temporary directory behind
            self._close()
            raise

    def _launch(self, config: SandboxConfig) -> SandboxServer:
        async def boot() -> SandboxServer:
            server = SandboxServer(config)
            # restart() blocks on this loop, so a restart asked for over REST runs it from another thread
            server.faults.restart_hook = lambda: threading.Thread(target=self.restart, daemon=True).start()
            await server.start()
            return server

        return self.call(boot())

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the sandbox's loop and return its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def url(self) -> str:
        """Base URL of every REST endpoint and of the socket.io server (path ``/ws``)."""
        return self.server.url

    @property
    def token(self) -> str:
        """The sandbox user's full-access API token: the ``auth-token`` clients send."""
        return self.server.token

    @property
    def account_id(self) -> str:
        """The id of the demo account made and deployed on the first run, ready to connect to."""
        return self.server.account_id

    @property
    def data_dir(self) -> Path:
        """The directory of the sandbox's database (the config's, or a temporary one)."""
        return self.server.data_dir

    @property
    def port(self) -> int:
        """The port served (the free port taken when the config asked for 0)."""
        return self.server.port

    @property
    def ws_url(self) -> str:
        """URL for a socket.io client (path ``ws``), with the token in the query as the cloud expects."""
        return f"{self.url}?auth-token={self.token}"

    def restart(self) -> None:
        """Stop the server and start it again on the same port and data directory (the market clock runs on)."""
        config = self.server.restart_config()
        self.call(self.server.stop(remove_temp=False))
        self.server = self._launch(config)

    def stop(self) -> None:
        """Stop the server and its thread; a temporary data directory is removed."""
        if not self._loop.is_running():
            return
        try:
            self.call(self.server.stop(remove_temp=False))
        finally:
            self._close()

    def _close(self) -> None:
        """Stop the loop and its thread; remove a temporary data directory."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxHandle(url={self.url!r}, account_id={self.account_id!r}, token={redact(self.token)!r})"
