"""Streaming connections (protocol §11.1): a live local copy of an account and its market data.

    connection = account.get_streaming_connection()
    await connection.connect()
    await connection.wait_synchronized()
    await connection.subscribe_to_market_data("EURUSD")
    print(connection.terminal_state.price("EURUSD"), connection.history_storage.deals[-5:])

The connection owns a :class:`TerminalState`, a history storage (default :class:`MemoryHistoryStorage`)
and a :class:`ConnectionHealthMonitor`, registered as synchronization listeners in that order, then its
:class:`Synchronizer`, the decorator callbacks and the user's listeners. Its market-data methods come from
:class:`~.market_data_api.MarketDataApi`. Trades, RPC getters and market data requests validate their arguments
first; a closed connection raises ``NotConnectedException`` at once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...errors import NotConnectedException, TimeoutException
from .. import checks
from ..history.memory import MemoryHistoryStorage
from ..history.storage import HistoryStorage
from ..listeners import SynchronizationListener
from ..models import SynchronizationOptions
from ..monitoring.health import ConnectionHealthMonitor
from ..state.terminal import TerminalState
from ..transport.errors import trade_result
from . import market_data
from .awaitable import AwaitableBool
from .events import ConnectionEvents, DecoratorMixin
from .market_data_api import MarketDataApi
from .route import Route
from .rpc import RpcApi
from .synchronization import Synchronizer, parse_instance, random_id

if TYPE_CHECKING:
    from ..rest.accounts import MetatraderAccount
    from ..rest.context import ClientContext
    from ..rest.history_api import HistoricalMarketDataClient
    from ..state.hash_manager import TerminalHashManager
    from ..transport.websocket import WebsocketClient

log = logging.getLogger("mtdata.client")

_WAIT_KEYS = ("instanceIndex", "applicationPattern", "synchronizationId", "timeoutInSeconds", "intervalInMilliseconds")


def _aware(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise checks.fail(name, "must be a datetime", value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class StreamingMetaApiConnection(RpcApi, MarketDataApi, DecoratorMixin):
    """A streaming connection to one account: terminal state, history, market data, trades and RPC getters."""

    def __init__(
        self,
        context: ClientContext,
        account: MetatraderAccount,
        client: WebsocketClient,
        history_client: HistoricalMarketDataClient,
        hash_manager: TerminalHashManager,
        history_storage: HistoryStorage | None = None,
        history_start_time: datetime | None = None,
        on_closed: Callable[[StreamingMetaApiConnection], Any] | None = None,
        route: Route | None = None,
    ) -> None:
        if history_storage is not None and not isinstance(history_storage, HistoryStorage):
            raise checks.fail("history_storage", "must be a HistoryStorage", history_storage)
        self.history_start_time = _aware("history_start_time", history_start_time)
        """The earliest time of the deals and history orders asked for when synchronizing (an aware datetime; None: the
        whole history); a history storage holding newer records resumes after its newest."""
        self.account = account
        """The account connected to (a :class:`~mtdata.client.MetatraderAccount`: its id, region, type...)."""
        #: Where it streams from: the account, or its replica in the ``region`` option's region (``connections.route``).
        self.route = route or Route(account.id, account.region)
        self.client = client
        """The MetaApi's socket layer (:class:`~mtdata.client.WebsocketClient`, shared by its connections): the
        stream, requests and trades go through it."""
        self._context = context
        self.hash_manager = hash_manager
        """The MetaApi's :class:`~mtdata.client.TerminalHashManager` (shared by its connections): reference hashes of
        specifications, positions and orders, so that a synchronization sends only what changed."""
        self._history_client = history_client
        self._on_closed = on_closed
        self._terminal = TerminalState(self.route.account_id, account.type, account.server, hash_manager, client)
        self._history = history_storage if history_storage is not None else MemoryHistoryStorage()
        self._events = ConnectionEvents()
        self._sync = Synchronizer(self)
        self._health = ConnectionHealthMonitor(self)
        self._market_data = market_data.MarketDataSubscriptions()
        self._user_listeners: list[SynchronizationListener] = []
        self._instances: set[str] = set()
        self._opened = False

    def __repr__(self) -> str:
        return f"StreamingMetaApiConnection(account_id={self.account.id!r}, synchronized={self.synchronized})"

    # state -------------------------------------------------------------------------------------

    @property
    def terminal_state(self) -> TerminalState:
        """The local copy of the terminal: account information, positions, orders, specifications, prices."""
        return self._terminal

    @property
    def history_storage(self) -> HistoryStorage:
        """Deals and history orders received from the server."""
        return self._history

    @property
    def health_monitor(self) -> ConnectionHealthMonitor:
        """Quote streaming, broker connection and synchronization health."""
        return self._health

    @property
    def closed(self) -> bool:
        """True once the last instance closed the connection."""
        return self._sync.changes.closed

    @property
    def synchronized(self) -> bool:
        """Whether a stream finished the orders and deals of its latest synchronization."""
        return self._sync.is_synchronized()

    def is_connected(self) -> AwaitableBool:
        """Whether a stream of the account is authenticated (a bool that may also be awaited, as in the seed)."""
        return AwaitableBool(bool(self._sync.connected_instances()))

    def is_synchronized(
        self, instance_index: int | None = None, synchronization_id: str | None = None
    ) -> AwaitableBool:
        """Whether the stream (of ``instance_index`` if given) finished its latest (or the given) synchronization
        (a bool that may also be awaited)."""
        checks.integer("instance_index", instance_index, minimum=0, optional=True)
        checks.text("synchronization_id", synchronization_id, optional=True)
        return AwaitableBool(self._sync.is_synchronized(instance_index, synchronization_id))

    async def get_health_status(self) -> dict[str, Any]:
        """``{connected, connectedToBroker, quoteStreamingHealthy, synchronized, healthy, message}``."""
        return self._health.health_status

    def subscribed_symbols(self) -> list[str]:
        """Symbols with market-data subscriptions."""
        return self._market_data.symbols()

    def subscriptions(self, symbol: str) -> list[dict[str, Any]]:
        """The market-data subscriptions of ``symbol``."""
        return self._market_data.get(checks.text("symbol", symbol))  # type: ignore[arg-type]

    # lifecycle ---------------------------------------------------------------------------------

    def _listeners(self) -> list[SynchronizationListener]:
        return [self._terminal, self._history, self._health, self._sync, self._events, *self._user_listeners]

    async def connect(self, instance_id: str = "default") -> None:
        """Subscribe to the account (synchronization follows in the background); idempotent per ``instance_id``."""
        if self.closed:
            raise NotConnectedException("this connection was closed; get a new one with get_streaming_connection()")
        self._instances.add(instance_id)
        if self._opened:
            return
        self._opened = True
        await self._history.initialize(self.account.id, self.client_application)
        for listener in self._listeners():
            self.client.add_synchronization_listener(self.route.account_id, listener)
        self.client.add_reconnect_listener(self.route.account_id, self._sync)
        self._health.start()
        await self.client.ensure_subscribe(self.route.account_id, self.route.region)
        self._sync.spawn(self._refresh_market_data_loop(), "market data refresh")
        # streams authenticated before this connection listened (an RPC connection of the account came
        # first) send no new ``authenticated``: tell the listeners now, so synchronization starts
        for instance_index in self.client.connected_instances(self.route.account_id):
            for listener in self._listeners():
                try:
                    await listener.on_connected(instance_index, 1)
                except Exception as error:
                    log.exception("a listener's on_connected raised")
                    await self.report_error(error)

    @property
    def client_application(self) -> str:
        """The application name of the client's options (history files are kept per account and application)."""
        return self._context.options.application

    async def close(self, instance_id: str = "default") -> None:
        """Close this instance; the last one stops the streams, flushes the history and unsubscribes the account."""
        self._instances.discard(instance_id)
        if self._instances or self.closed:
            return
        await self._sync.close()
        await _maybe_await(self._health.stop())
        if self._opened:
            for listener in self._listeners():
                self.client.remove_synchronization_listener(self.route.account_id, listener)
            self.client.remove_reconnect_listener(self.route.account_id, self._sync)
        self._terminal.close()
        closer = getattr(self._history, "close", None)
        if closer is not None:
            await _maybe_await(closer())
        if self._on_closed is not None and self._opened:
            await self._on_closed(self)

    async def close_all(self) -> None:
        """Close the connection whatever instances still hold it."""
        self._instances.clear()
        await self.close()

    def add_synchronization_listener(self, listener: SynchronizationListener) -> None:
        """Add a listener (called after the terminal state, history and decorators, in order of addition)."""
        if not isinstance(listener, SynchronizationListener):
            raise checks.fail("listener", "must be a SynchronizationListener", listener)
        self._user_listeners.append(listener)
        if self._opened and not self.closed:
            self.client.add_synchronization_listener(self.route.account_id, listener)

    def remove_synchronization_listener(self, listener: SynchronizationListener) -> None:
        """Remove a listener added with :meth:`add_synchronization_listener`."""
        if listener in self._user_listeners:
            self._user_listeners.remove(listener)
            if self._opened:
                self.client.remove_synchronization_listener(self.route.account_id, listener)

    async def report_error(self, error: BaseException) -> None:
        """Hand a background failure to the ``on_error`` callbacks."""
        await self._events.emit("error", error)

    # waiting -----------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.closed:
            raise NotConnectedException("this streaming connection was closed")
        if not self._opened:
            raise NotConnectedException("call connect() first")

    async def wait_connected(self, timeout_in_seconds: float | None = None, *, timeout: float | None = None) -> None:
        """Wait until a stream of the account is authenticated (``TimeoutException`` after the timeout, default
        60 s; ``timeout`` is the usage document's name of ``timeout_in_seconds``)."""
        seconds = checks.either("timeout_in_seconds", timeout_in_seconds, "timeout", timeout)
        timeout = checks.number("timeout_in_seconds", 60 if seconds is None else seconds, minimum=0)
        self._require_open()
        await self._sync.changes.wait_for(lambda: bool(self._sync.connected_instances()), timeout, "a connection")

    async def wait_synchronized(
        self, options: SynchronizationOptions | float | None = None, *, timeout: float | None = None
    ) -> None:
        """Wait for the latest synchronization (orders and deals), then for the server (``waitSynchronized``).

        ``options`` (``SynchronizationOptions``): ``instanceIndex``, ``applicationPattern`` (default ``RPC``),
        ``synchronizationId``, ``timeoutInSeconds`` (default 300), ``intervalInMilliseconds`` (accepted; the
        wait is event-driven). A number is taken as ``timeoutInSeconds``, and so is ``timeout=``.
        """
        if isinstance(options, int | float) and not isinstance(options, bool):
            options = {"timeoutInSeconds": options}
        raw: dict[str, Any] = checks.mapping("options", options, optional=True) or {}
        checks.known_keys("options", raw, _WAIT_KEYS)
        if timeout is not None:
            raw["timeoutInSeconds"] = checks.either("options.timeoutInSeconds", raw.get("timeoutInSeconds"),
                                                    "timeout", timeout)  # fmt: skip
        number = checks.integer("options.instanceIndex", raw.get("instanceIndex"), minimum=0, optional=True)
        pattern = checks.text("options.applicationPattern", raw.get("applicationPattern"), optional=True) or "RPC"
        sync_id = checks.text("options.synchronizationId", raw.get("synchronizationId"), optional=True)
        timeout = checks.number("options.timeoutInSeconds", raw.get("timeoutInSeconds", 300), minimum=0)
        checks.number("options.intervalInMilliseconds", raw.get("intervalInMilliseconds"), minimum=0, optional=True)
        self._require_open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # type: ignore[operator]
        what = f"synchronization of account {self.account.id}"
        await self._sync.changes.wait_for(lambda: self._sync.is_synchronized(number, sync_id), timeout, what)
        instance = self._sync.synchronized_instance(number, sync_id)
        remaining = max(deadline - loop.time(), 0.001)
        payload = {"type": "waitSynchronized", "applicationPattern": pattern, "timeoutInSeconds": remaining}
        instance_number = parse_instance(instance)[1] if instance else None
        await self.client.request(
            self.route.account_id, payload, instance_number=instance_number, timeout=remaining + 1
        )

    # requests ----------------------------------------------------------------------------------

    def _instance_number(self) -> int | None:
        instance = self._sync.synchronized_instance() or next(iter(self._sync.connected_instances()), None)
        return parse_instance(instance)[1] if instance else None

    def _check_symbol(self, name: str, symbol: Any) -> str:
        """A symbol of the account: refused when the synchronized specifications do not list it."""
        checks.text(name, symbol)
        if self._terminal.specifications and self._terminal.specification(symbol) is None:
            raise checks.fail(name, "is not a symbol of this account", symbol)
        return symbol

    async def _rpc(self, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        self._require_open()
        return await self.client.request(self.route.account_id, payload, application="RPC", timeout=timeout)

    async def _send_trade(self, trade: dict[str, Any]) -> dict[str, Any]:
        self._require_open()
        numbers = sorted({parse_instance(i)[1] for i in self._sync.connected_instances()})
        if self.account.reliability == "high" and len(numbers) > 1:
            return await self._trade_on_every_instance(trade, numbers)
        return await self.client.trade(self.route.account_id, trade, instance_number=self._instance_number())

    async def _trade_on_every_instance(self, trade: dict[str, Any], numbers: list[int]) -> dict[str, Any]:
        """High reliability (protocol §6.4): the trade goes to every instance with one requestId (the server
        executes it once); the first answer wins, transport failures of one instance are outlived."""
        payload = {"type": "trade", "trade": trade, "requestId": random_id()}
        sends = [asyncio.ensure_future(self.client.request(self.route.account_id, dict(payload), instance_number=number,
                                                           retry=False)) for number in numbers]  # fmt: skip
        failure: BaseException | None = None
        try:
            for finished in asyncio.as_completed(sends):
                try:
                    return trade_result(await finished)
                except (NotConnectedException, TimeoutException) as error:
                    failure = failure or error
            assert failure is not None
            raise failure
        finally:
            for send in sends:
                send.cancel()
            await asyncio.gather(*sends, return_exceptions=True)

    async def _request(self, payload: dict[str, Any], instance_number: int | None = None) -> dict[str, Any]:
        number = self._instance_number() if instance_number is None else instance_number
        return await self.client.request(self.route.account_id, payload, instance_number=number)


__all__ = ["StreamingMetaApiConnection"]
