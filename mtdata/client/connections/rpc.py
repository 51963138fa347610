"""RPC connections (protocol §11.2): the terminal's state, history and quotes on request, and trading.

    connection = account.get_rpc_connection()
    await connection.connect()
    await connection.wait_synchronized()
    positions = await connection.get_positions()

:class:`RpcApi` holds the getters both connection kinds share (requests with ``application: "RPC"``);
every argument is validated before anything is sent. A closed connection raises
``NotConnectedException`` at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...errors import NotConnectedException, TimeoutException
from ...hashing import iso_ms
from ...timeframes import MT4_TIMEFRAMES, MT5_TIMEFRAMES
from .. import checks
from ..listeners import ReconnectListener, SynchronizationListener
from ..models import (
    MetatraderAccountInformation,
    MetatraderBook,
    MetatraderCandle,
    MetatraderOrder,
    MetatraderPosition,
    MetatraderSymbolPrice,
    MetatraderSymbolSpecification,
    MetatraderTick,
    ServerTime,
)
from .awaitable import AwaitableBool
from .route import Route
from .synchronization import StateChanges
from .trading import TradingApi, positive, ticket

if TYPE_CHECKING:
    from ..rest.accounts import MetatraderAccount
    from ..rest.history_api import HistoricalMarketDataClient
    from ..transport.websocket import WebsocketClient

#: Default and largest page of the time-range history getters.
HISTORY_LIMIT = 1000


class _Default(float):
    """A default number told apart (by identity) from the same number passed explicitly."""


#: ``wait_synchronized``'s default timeout in seconds.
WAIT_DEFAULT = _Default(300)


def timeframes_of(account: MetatraderAccount) -> tuple[str, ...]:
    """The timeframes the account's platform knows (MT4 has a subset, protocol §10)."""
    return MT4_TIMEFRAMES if str(account.version) == "4" else tuple(MT5_TIMEFRAMES)


def _refresh(options: Any) -> dict[str, Any]:
    raw = checks.mapping("options", options, optional=True) or {}
    checks.known_keys("options", raw, ("refreshTerminalState",))
    if raw.get("refreshTerminalState") is None:
        return {}
    return {"refreshTerminalState": checks.flag("options.refreshTerminalState", raw["refreshTerminalState"])}


def _time(name: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise checks.fail(name, "must be a datetime", value)
    return value


def _time_range(start_time: Any, end_time: Any, offset: Any, limit: Any) -> dict[str, Any]:
    start, end = _time("start_time", start_time), _time("end_time", end_time)
    if iso_ms(end) < iso_ms(start):
        raise checks.fail("end_time", "must not be before start_time", end_time)
    return {"startTime": iso_ms(start), "endTime": iso_ms(end),
            "offset": checks.integer("offset", offset, minimum=0),
            "limit": checks.integer("limit", limit, minimum=1, maximum=HISTORY_LIMIT)}  # fmt: skip


class RpcApi(TradingApi):
    """Trade helpers and RPC getters of both connections (they provide ``_rpc``, ``_send_trade``, ``account``)."""

    account: MetatraderAccount  #: The account connected to (the connection's).
    _history_client: HistoricalMarketDataClient

    async def _rpc(self, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        raise NotImplementedError

    async def get_account_information(self, options: dict[str, Any] | None = None) -> MetatraderAccountInformation:
        """Balance, equity, margin … (``options``: ``{"refreshTerminalState": bool}``)."""
        return (await self._rpc({"type": "getAccountInformation", **_refresh(options)}))["accountInformation"]

    async def get_positions(self, options: dict[str, Any] | None = None) -> list[MetatraderPosition]:
        """Open positions."""
        return (await self._rpc({"type": "getPositions", **_refresh(options)})).get("positions") or []

    async def get_position(self, position_id: str, options: dict[str, Any] | None = None) -> MetatraderPosition | None:
        """One open position by id (``NotFoundException`` when there is none)."""
        payload = {"type": "getPosition", "positionId": ticket("position_id", position_id), **_refresh(options)}
        return (await self._rpc(payload)).get("position")

    async def get_orders(self, options: dict[str, Any] | None = None) -> list[MetatraderOrder]:
        """Pending orders."""
        return (await self._rpc({"type": "getOrders", **_refresh(options)})).get("orders") or []

    async def get_order(self, order_id: str, options: dict[str, Any] | None = None) -> MetatraderOrder | None:
        """One pending order by id (``NotFoundException`` when there is none)."""
        payload = {"type": "getOrder", "orderId": ticket("order_id", order_id), **_refresh(options)}
        return (await self._rpc(payload)).get("order")

    async def _history(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self._rpc(payload)
        return {kind: answer.get(kind) or [], "synchronizing": bool(answer.get("synchronizing"))}

    async def get_history_orders_by_ticket(self, ticket_id: str) -> dict[str, Any]:
        """``{historyOrders, synchronizing}`` of one ticket."""
        payload = {"type": "getHistoryOrdersByTicket", "ticket": ticket("ticket", ticket_id)}
        return await self._history("historyOrders", payload)

    async def get_history_orders_by_position(self, position_id: str) -> dict[str, Any]:
        """``{historyOrders, synchronizing}`` of one position."""
        payload = {"type": "getHistoryOrdersByPosition", "positionId": ticket("position_id", position_id)}
        return await self._history("historyOrders", payload)

    async def get_history_orders_by_time_range(
        self, start_time: datetime, end_time: datetime, offset: int = 0, limit: int = HISTORY_LIMIT
    ) -> dict[str, Any]:
        """``{historyOrders, synchronizing}`` done in ``[start_time, end_time)``, paged by ``offset``/``limit``."""
        payload = {"type": "getHistoryOrdersByTimeRange", **_time_range(start_time, end_time, offset, limit)}
        return await self._history("historyOrders", payload)

    async def get_deals_by_ticket(self, ticket_id: str) -> dict[str, Any]:
        """``{deals, synchronizing}`` of one ticket."""
        return await self._history("deals", {"type": "getDealsByTicket", "ticket": ticket("ticket", ticket_id)})

    async def get_deals_by_position(self, position_id: str) -> dict[str, Any]:
        """``{deals, synchronizing}`` of one position."""
        payload = {"type": "getDealsByPosition", "positionId": ticket("position_id", position_id)}
        return await self._history("deals", payload)

    async def get_deals_by_time_range(
        self, start_time: datetime, end_time: datetime, offset: int = 0, limit: int = HISTORY_LIMIT
    ) -> dict[str, Any]:
        """``{deals, synchronizing}`` in ``[start_time, end_time)``, paged by ``offset``/``limit``."""
        payload = {"type": "getDealsByTimeRange", **_time_range(start_time, end_time, offset, limit)}
        return await self._history("deals", payload)

    async def get_symbols(self) -> list[str]:
        """Every symbol the broker offers."""
        return (await self._rpc({"type": "getSymbols"}))["symbols"]

    async def get_symbol_specification(self, symbol: str) -> MetatraderSymbolSpecification:
        """A symbol's specification."""
        payload = {"type": "getSymbolSpecification", "symbol": self._check_symbol("symbol", symbol)}
        return (await self._rpc(payload))["specification"]

    def _quote_request(self, kind: str, symbol: Any, keep_subscription: Any) -> dict[str, Any]:
        return {"type": kind, "symbol": self._check_symbol("symbol", symbol),
                "keepSubscription": checks.flag("keep_subscription", keep_subscription)}  # fmt: skip

    async def get_symbol_price(self, symbol: str, keep_subscription: bool = False) -> MetatraderSymbolPrice:
        """The latest price of ``symbol``."""
        return (await self._rpc(self._quote_request("getSymbolPrice", symbol, keep_subscription)))["price"]

    async def get_candle(self, symbol: str, timeframe: str, keep_subscription: bool = False) -> MetatraderCandle:
        """The current candle of ``symbol`` in ``timeframe``."""
        payload = self._quote_request("getCandle", symbol, keep_subscription)
        payload["timeframe"] = checks.choice("timeframe", timeframe, timeframes_of(self.account))
        return (await self._rpc(payload))["candle"]

    async def get_tick(self, symbol: str, keep_subscription: bool = False) -> MetatraderTick:
        """The latest tick of ``symbol``."""
        return (await self._rpc(self._quote_request("getTick", symbol, keep_subscription)))["tick"]

    async def get_book(self, symbol: str, keep_subscription: bool = False) -> MetatraderBook:
        """The current order book of ``symbol``."""
        return (await self._rpc(self._quote_request("getBook", symbol, keep_subscription)))["book"]

    async def get_server_time(self) -> ServerTime:
        """``{time, brokerTime, lastQuoteTime?, lastQuoteBrokerTime?}`` of the trade server."""
        return (await self._rpc({"type": "getServerTime"}))["serverTime"]

    async def calculate_margin(self, order: dict[str, Any]) -> dict[str, Any]:
        """``{margin}`` an order ``{symbol, type: ORDER_TYPE_BUY|ORDER_TYPE_SELL, volume, openPrice}`` needs."""
        raw: dict[str, Any] = checks.mapping("order", order)  # type: ignore[assignment]
        checks.known_keys("order", raw, ("symbol", "type", "volume", "openPrice"))
        checked = {
            "symbol": self._check_symbol("order.symbol", raw.get("symbol")),
            "type": checks.choice("order.type", raw.get("type"), ("ORDER_TYPE_BUY", "ORDER_TYPE_SELL")),
            "volume": positive("order.volume", raw.get("volume")),
            "openPrice": positive("order.openPrice", raw.get("openPrice")),
        }
        return (await self._rpc({"type": "calculateMargin", "order": checked}))["margin"]

    async def refresh_symbol_quotes(self, symbols: list[str]) -> dict[str, Any]:
        """Fresh quotes of ``symbols`` and the account figures at them (``refreshedQuotes``, protocol §9.9)."""
        if not isinstance(symbols, list | tuple) or not symbols:
            raise checks.fail("symbols", "must be a non-empty list of symbols", symbols)
        checked = [self._check_symbol("symbols", symbol) for symbol in symbols]
        return (await self._rpc({"type": "refreshSymbolQuotes", "symbols": checked}))["refreshedQuotes"]

    async def get_historical_candles(
        self, symbol: str, timeframe: str, start_time: datetime | None = None, limit: int | None = None
    ) -> list[MetatraderCandle]:
        """Up to ``limit`` (≤ 1000) candles before ``start_time`` (default: the newest), oldest first (REST);
        ``timeframe`` may instead be the options dict ``{"timeframe", "start", "limit"}`` (naive datetimes: UTC)."""
        account = self.account
        return await self._history_client.get_historical_candles(
            account.id, account.region, symbol, timeframe, start_time, limit
        )

    async def get_historical_ticks(
        self, symbol: str, start_time: datetime | None = None, offset: int | None = None, limit: int | None = None
    ) -> list[MetatraderTick]:
        """Up to ``limit`` (≤ 1000) ticks from ``start_time`` forward, skipping ``offset`` (REST); ``start_time``
        may instead be the options dict ``{"start", "offset", "limit"}``."""
        account = self.account
        return await self._history_client.get_historical_ticks(
            account.id, account.region, symbol, start_time, offset, limit
        )


class _Presence(SynchronizationListener, ReconnectListener):
    """Wakes the RPC connection's waiters whenever a stream of its account comes or goes."""

    def __init__(self, changes: StateChanges) -> None:
        self._changes = changes

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        self._changes.notify()

    async def on_disconnected(self, instance_index: str) -> None:
        self._changes.notify()

    async def on_stream_closed(self, instance_index: str) -> None:
        self._changes.notify()

    async def on_reconnected(self, region: str, instance_number: int) -> None:
        self._changes.notify()


class RpcMetaApiConnection(RpcApi):
    """An RPC connection to one account: getters and trades on request; no local state to synchronize."""

    def __init__(
        self,
        account: MetatraderAccount,
        client: WebsocketClient,
        history_client: HistoricalMarketDataClient,
        on_closed: Callable[[RpcMetaApiConnection], Any] | None = None,
        route: Route | None = None,
    ) -> None:
        self.account = account
        """The account connected to (a :class:`~mtdata.client.MetatraderAccount`: its id, region, type...)."""
        #: Where requests go: the account, or its replica in the ``region`` option's region (``connections.route``).
        self.route = route or Route(account.id, account.region)
        self.client = client
        """The MetaApi's socket layer (:class:`~mtdata.client.WebsocketClient`, shared by its connections): every
        request and trade goes through it."""
        self._history_client = history_client
        self._on_closed = on_closed
        self._instances: set[str] = set()
        self._changes = StateChanges()
        self._presence = _Presence(self._changes)
        self._opened = False

    def __repr__(self) -> str:
        return f"RpcMetaApiConnection(account_id={self.account.id!r}, connected={self._connected()})"

    @property
    def closed(self) -> bool:
        """True once the last instance closed the connection."""
        return self._changes.closed

    async def connect(self, instance_id: str = "default") -> None:
        """Subscribe to the account (nothing else is sent until a request); idempotent per ``instance_id``."""
        if self.closed:
            raise NotConnectedException("this RPC connection was closed; get a new one with get_rpc_connection()")
        self._instances.add(instance_id)
        if self._opened:
            return
        self._opened = True
        self.client.add_synchronization_listener(self.route.account_id, self._presence)
        self.client.add_reconnect_listener(self.route.account_id, self._presence)
        await self.client.ensure_subscribe(self.route.account_id, self.route.region)

    async def close(self, instance_id: str = "default") -> None:
        """Close this instance; the last one unsubscribes (unless a streaming connection still needs the account)."""
        self._instances.discard(instance_id)
        if self._instances or self.closed:
            return
        self._changes.close()
        if self._opened:
            self.client.remove_synchronization_listener(self.route.account_id, self._presence)
            self.client.remove_reconnect_listener(self.route.account_id, self._presence)
        if self._on_closed is not None and self._opened:
            await self._on_closed(self)

    async def close_all(self) -> None:
        """Close the connection whatever instances still hold it."""
        self._instances.clear()
        await self.close()

    def _connected(self) -> bool:
        return self._opened and not self.closed and bool(self.client.connected_instances(self.route.account_id))

    def is_connected(self) -> AwaitableBool:
        """Whether a stream of the account is authenticated (a bool that may also be awaited, as in the seed)."""
        return AwaitableBool(self._connected())

    @property
    def synchronized(self) -> bool:
        """Whether a stream of the account is authenticated (an RPC connection has nothing local to synchronize)."""
        return self._connected()

    def _require_open(self) -> None:
        if self.closed:
            raise NotConnectedException("this RPC connection was closed")
        if not self._opened:
            raise NotConnectedException("call connect() first")

    async def wait_synchronized(
        self, timeout_in_seconds: float = WAIT_DEFAULT, *, timeout: float | None = None
    ) -> None:
        """Wait until the account is authenticated and the server says its terminal is synchronized
        (``timeout`` is the usage document's name of ``timeout_in_seconds``; giving both differently is refused)."""
        if timeout is not None and timeout_in_seconds is not WAIT_DEFAULT:
            timeout = checks.either("timeout_in_seconds", timeout_in_seconds, "timeout", timeout)
        timeout = checks.number("timeout_in_seconds", timeout_in_seconds if timeout is None else timeout, minimum=0)
        self._require_open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # type: ignore[operator]
        while True:
            await self._changes.wait_for(self._connected, deadline - loop.time(), "the account to connect")
            try:
                payload = {"type": "waitSynchronized", "applicationPattern": "RPC", "timeoutInSeconds": 5}
                await self.client.request(self.route.account_id, payload, application="RPC", timeout=6, retry=False)
                return
            except TimeoutException:
                if loop.time() >= deadline:
                    raise

    async def _rpc(self, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        self._require_open()
        return await self.client.request(self.route.account_id, payload, application="RPC", timeout=timeout)

    async def _send_trade(self, trade: dict[str, Any]) -> dict[str, Any]:
        self._require_open()
        return await self.client.trade(self.route.account_id, trade, application="RPC")


__all__ = ["RpcApi", "RpcMetaApiConnection", "timeframes_of"]
