"""One streaming and one RPC connection per account, shared by every caller; handed out as instances.

``account.get_streaming_connection()`` returns a :class:`StreamingMetaApiConnectionInstance`: its
``connect()`` / ``close()`` open and release its share of the account's connection, every other
attribute is the shared connection's. The last instance to close closes the connection; when neither
kind of connection of an account is left, the account is unsubscribed from the socket.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Generator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from ...errors import NotConnectedException
from .. import checks
from ..history.storage import HistoryStorage
from .route import Route, route
from .rpc import RpcMetaApiConnection
from .streaming import StreamingMetaApiConnection

if TYPE_CHECKING:
    from ..rest.accounts import MetatraderAccount
    from ..rest.context import ClientContext
    from ..rest.history_api import HistoricalMarketDataClient
    from ..state.hash_manager import TerminalHashManager
    from ..transport.websocket import WebsocketClient


class ConnectionInstance:
    """One caller's handle on a shared connection: ``connect()``/``close()`` are its own, the rest is shared.

    Awaiting the instance gives the instance (the seed awaits ``get_streaming_connection()``). After
    ``close()`` the instance refuses calls (``NotConnectedException``); ask the account for a new one.
    """

    def __init__(self, connection: StreamingMetaApiConnection | RpcMetaApiConnection) -> None:
        self._connection = connection
        self.instance_id = secrets.token_hex(8)
        """This instance's random id (16 hex digits), by which the shared connection counts the instances holding it."""
        self._opened = False
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._connection!r}, instance_id={self.instance_id!r})"

    @property
    def connection(self) -> StreamingMetaApiConnection | RpcMetaApiConnection:
        """The shared connection behind this instance."""
        return self._connection

    @property
    def opened(self) -> bool:
        """True after :meth:`connect` (until :meth:`close`)."""
        return self._opened and not self._closed

    async def connect(self) -> None:
        """Open the shared connection (if this is the first instance) and hold it until :meth:`close`."""
        if self._closed:
            raise NotConnectedException("this connection instance was closed; get a new one from the account")
        self._opened = True
        await self._connection.connect(self.instance_id)

    async def close(self) -> None:
        """Release the shared connection (idempotent); the last instance closes it."""
        if self._closed:
            return
        self._closed = True
        if self._opened:
            await self._connection.close(self.instance_id)

    def __await__(self) -> Generator[Any, None, Self]:
        """``await account.get_streaming_connection()`` (the seed's style) gives the instance itself."""
        return self
        yield  # a generator: nothing to wait for

    async def __aenter__(self) -> ConnectionInstance:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(self._connection, name)
        if self._closed and inspect.iscoroutinefunction(value):

            async def refused(*args: Any, **kwargs: Any) -> Any:
                raise NotConnectedException("this connection instance was closed; get a new one from the account")

            return refused
        return value


class StreamingMetaApiConnectionInstance(ConnectionInstance):
    """A caller's handle on the account's :class:`StreamingMetaApiConnection`."""


class RpcMetaApiConnectionInstance(ConnectionInstance):
    """A caller's handle on the account's :class:`RpcMetaApiConnection`."""


class ConnectionRegistry:
    """The connections of one ``MetaApi``, keyed by account id."""

    def __init__(
        self,
        context: ClientContext,
        client: WebsocketClient,
        history_client: HistoricalMarketDataClient,
        hash_manager: TerminalHashManager,
    ) -> None:
        self._context = context
        self._client = client
        self._history_client = history_client
        self._hash_manager = hash_manager
        self._streaming: dict[str, StreamingMetaApiConnection] = {}
        self._rpc: dict[str, RpcMetaApiConnection] = {}

    def connect_streaming(
        self,
        account: MetatraderAccount,
        history_storage: HistoryStorage | None = None,
        history_start_time: datetime | None = None,
    ) -> StreamingMetaApiConnectionInstance:
        """An instance of the account's streaming connection (created on first use; nothing is sent yet).

        ``history_storage`` and ``history_start_time`` apply when the connection is created. With the
        ``region`` option, an account with no presence in that region is refused (``ValidationException``).
        """
        connection = self._streaming.get(account.id)
        if connection is None or connection.closed:
            connection = StreamingMetaApiConnection(
                self._context, account, self._client, self._history_client, self._hash_manager,
                history_storage, history_start_time, on_closed=self.remove_streaming, route=self._route(account),
            )  # fmt: skip
            self._streaming[account.id] = connection
        return StreamingMetaApiConnectionInstance(connection)

    def connect_rpc(self, account: MetatraderAccount) -> RpcMetaApiConnectionInstance:
        """An instance of the account's RPC connection (created on first use; nothing is sent yet; refused as
        :meth:`connect_streaming` is for an account outside the ``region`` option's region)."""
        connection = self._rpc.get(account.id)
        if connection is None or connection.closed:
            connection = RpcMetaApiConnection(account, self._client, self._history_client, self.remove_rpc,
                                              route=self._route(account))  # fmt: skip
            self._rpc[account.id] = connection
        return RpcMetaApiConnectionInstance(connection)

    def _route(self, account: MetatraderAccount) -> Route:
        return route(account, self._context.options.region)

    async def remove_streaming(self, account: MetatraderAccount | StreamingMetaApiConnection) -> None:
        """Forget the account's streaming connection; unsubscribe the account when no RPC connection needs it.

        ``account`` is the account (as in the seed and the official SDK) or the closed connection itself.
        """
        await self._forget(self._streaming, self._rpc, account)

    async def remove_rpc(self, account: MetatraderAccount | RpcMetaApiConnection) -> None:
        """Forget the account's RPC connection; unsubscribe the account when no streaming connection needs it."""
        await self._forget(self._rpc, self._streaming, account)

    async def _forget(self, kind: dict[str, Any], other: dict[str, Any], account: Any) -> None:
        """Drop ``account``'s entry of ``kind`` (a given connection only if it is the registered one)."""
        closed = account if isinstance(account, StreamingMetaApiConnection | RpcMetaApiConnection) else None
        account_id = closed.account.id if closed is not None else getattr(account, "id", None)
        if not isinstance(account_id, str):
            raise checks.fail("account", "must be a MetatraderAccount or one of its connections", account)
        known = closed or kind.get(account_id)
        if closed is None or kind.get(account_id) is closed:
            kind.pop(account_id, None)
        if account_id not in other:
            await self._client.unsubscribe(known.route.account_id if known is not None else account_id)

    def remove(self, account_id: str) -> None:
        """Forget both connections of an account (without closing them)."""
        self._streaming.pop(account_id, None)
        self._rpc.pop(account_id, None)

    async def close(self) -> None:
        """Close every connection (every instance of it)."""
        for connection in [*self._streaming.values(), *self._rpc.values()]:
            await connection.close_all()
        self._streaming.clear()
        self._rpc.clear()


__all__ = [
    "ConnectionInstance",
    "ConnectionRegistry",
    "RpcMetaApiConnectionInstance",
    "StreamingMetaApiConnectionInstance",
]
