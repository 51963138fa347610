"""The socket.io side of the sandbox (protocol §4-§8): connections, requests, synchronization, status and market data.

:class:`Hub` owns every socket of one server. Request types are registered in
:mod:`.session` (stream lifecycle, synchronization, trade), :mod:`.rpc` (getters) and
:mod:`.marketdata` (subscriptions and the streaming loop). Faults and the broker engine
drive the hub through :meth:`Hub.drop_sockets`, :meth:`Hub.send_downgrade`,
:meth:`Hub.broker_connection_changed`, :meth:`Hub.publish_update` and
:attr:`Hub.trade_executor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import socketio

from ...socketio_compat import GuardedServer
from ..errors import ApiError, NotFoundError, ValidationError
from ..terminal import Terminal
from ..timeutil import iso_now
from ..validation import finite
from . import fields, rpc, session  # noqa: F401  (registers the request handlers)
from .calls import ROUTES, Call
from .marketdata import MarketFeed
from .streams import Connection, Stream

if TYPE_CHECKING:
    from ..server import SandboxServer

log = logging.getLogger("mtdata.sandbox.realtime")

#: Executes a validated trade for the broker engine: returns the trade ``response`` object (§6.3).
TradeExecutor = Callable[[Call, dict[str, Any]], Awaitable[dict[str, Any]]]

#: Seconds an account document read for streaming (currency, figures) stays cached.
_DOC_TTL = 1.0


class Hub:
    """Owns every socket connection and stream of one sandbox server."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.sio: GuardedServer | None = None
        self.connections: dict[str, Connection] = {}
        self.terminal = Terminal(server.store, server.market)
        self.feed = MarketFeed(self)
        self.trade_executor: TradeExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._docs: dict[str, tuple[float, dict[str, Any]]] = {}

    def attach(self, sio: GuardedServer) -> None:
        """Register the socket.io event handlers, and the answer to a client event the server refuses."""
        self.sio = sio
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("request", self._on_request)
        sio.on_refused = self._on_refused

    async def start(self) -> None:
        """Start background loops (status packets, market-data streaming)."""
        self._tasks = [asyncio.create_task(self.feed.run()), asyncio.create_task(self._status_loop())]

    async def stop(self) -> None:
        """Stop background loops and forget the connections (the server then closes the sockets)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for sid in list(self.connections):
            self._forget(sid)

    # accounts ----------------------------------------------------------------------------------

    def account(self, account_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The primary account document and the replica document for an account or replica id."""
        return self.server.accounts.primary_of(account_id)

    def _cached_doc(self, account_id: str) -> dict[str, Any] | None:
        now = time.monotonic()
        hit = self._docs.get(account_id)
        if hit is None or hit[0] < now:
            try:
                hit = (now + _DOC_TTL, self.account(account_id)[0])
            except ApiError:
                return None
            self._docs[account_id] = hit
        return hit[1]

    def currency_of(self, account_id: str) -> str:
        """The deposit currency of an account (for prices' tick values)."""
        doc = self._cached_doc(account_id)
        return doc.get("_trading", {}).get("currency", "USD") if doc else "USD"

    def figures_of(self, account_id: str) -> dict[str, Any] | None:
        """Equity, margin, free margin and margin level of an account, or None if it is gone."""
        doc = self._cached_doc(account_id)
        return self.terminal.figures(doc) if doc else None

    def primary_id(self, account_id: str) -> str:
        """The primary account id of an account or replica id (itself when unknown)."""
        doc = self._cached_doc(account_id)
        return doc["_id"] if doc else account_id

    def broker_connected(self, account_id: str) -> bool:
        """Whether the account's terminal is connected to its broker (faults may say no, by primary id)."""
        return self.server.faults.broker_connected(self.primary_id(account_id))

    # sockets -----------------------------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any]) -> None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        token = (query.get("auth-token") or [None])[0]
        try:
            principal = self.server.tokens.verify(token)
        except ApiError as error:
            raise socketio.exceptions.ConnectionRefusedError(error.body()) from None
        client_id = (query.get("clientId") or [None])[0] or environ.get("HTTP_CLIENT_ID")
        conn = self.connections[sid] = Connection(sid, principal, client_id)
        if principal.expires_at is not None:  # a socket that only listens must stop hearing at expiry too
            delay = principal.expires_at - time.time()
            conn.expiry = asyncio.get_running_loop().call_later(delay, conn.stop_streams)

    async def _on_disconnect(self, sid: str) -> None:
        self._forget(sid)

    def _forget(self, sid: str) -> None:
        """Drop a connection, and its expiry timer with it."""
        conn = self.connections.pop(sid, None)
        if conn is not None and conn.expiry is not None:
            conn.expiry.cancel()

    async def emit(self, sid: str, event: str, data: Any) -> None:
        """Send one event to one socket; a vanished socket is not an error."""
        assert self.sio is not None
        try:
            await self.sio.emit(event, data, room=sid)
        except Exception:  # the socket closed under us
            log.debug("emit %s to %s failed", event, sid, exc_info=True)

    async def send(self, conn: Connection, stream: Stream, packet: dict[str, Any], starts_sync: bool = False) -> None:
        """Number a synchronization packet for its stream and send it (as a test packet fault may alter it)."""
        for out in stream.outgoing(packet, starts_sync):
            await self.emit(conn.sid, "synchronization", out)

    def backlog(self, sid: str) -> int:
        """Packets queued for a socket and not yet written (a slow client's backlog grows)."""
        assert self.sio is not None
        socket = self.sio.eio.sockets.get(sid)
        return socket.queue.qsize() if socket is not None else 0

    # requests ----------------------------------------------------------------------------------

    def _parse(self, conn: Connection, data: Any) -> tuple[Call, Any]:
        if not isinstance(data, dict):
            raise ValidationError.field("request", "must be a JSON object")
        request_id = fields.text(data, "requestId", max_length=128)
        request_type = fields.text(data, "type", max_length=64)
        route = ROUTES.get(request_type or "")
        if route is None:
            raise ValidationError.field("type", "is not a known request type", request_type)
        account_id = fields.text(data, "accountId", max_length=128)
        instance_index = fields.integer(data, "instanceIndex", 0, maximum=31)
        if data.get("application") is not None:
            fields.text(data, "application", max_length=256)
        assert request_id is not None and account_id is not None
        doc, replica = self.account(account_id)
        if doc.get("userId") not in (None, conn.principal.user_id):
            raise NotFoundError(f"Trading account with id {account_id} not found")
        call = Call(self, conn, data, request_id, account_id, doc, replica, instance_index)
        route.authorize(call)
        return call, route

    async def _on_refused(self, sid: str, data: Any) -> None:
        """A client event named as socket.io's own (``connect``, ``disconnect``…) or with no name: a processingError."""
        if sid not in self.connections:
            return
        name = data[0] if isinstance(data, list) and data else None
        payload = data[1] if isinstance(data, list) and len(data) > 1 else None
        problem = "is reserved by socket.io" if isinstance(name, str) else "must be named by a string"
        error = ValidationError.field("event", problem, name)
        await self.emit(sid, "processingError", {**error.body(), "requestId": _request_id(payload)})

    async def _on_request(self, sid: str, *args: Any) -> None:
        started = iso_now()
        data = args[0] if len(args) == 1 else list(args)  # a request is one object; anything else is malformed
        conn = self.connections.get(sid)
        if conn is None:
            return
        request_id = _request_id(data)
        account_id = data.get("accountId") if isinstance(data, dict) else None
        try:
            conn.require_token()  # tokens hold for the socket's whole life, not only at connect
            if isinstance(data, dict):
                await self.server.faults.before_socket_request(sid, data)
            call, route = self._parse(conn, data)
            result = await route.handler(call) or {}
        except ApiError as error:
            await self.emit(sid, "processingError", {**error.body(), "requestId": request_id})
            return
        except Exception:
            log.exception("unexpected error handling a socket request")
            failure = ApiError("Internal error while processing the request")
            await self.emit(sid, "processingError", {**failure.body(), "requestId": request_id})
            return
        # a handler may add its own timestamps (a trade's tradeStarted/tradeExecuted, protocol §8)
        timestamps = {"serverProcessingStarted": started, **result.pop("timestamps", {}),
                      "serverProcessingFinished": iso_now()}  # fmt: skip
        response = {"type": "response", "accountId": account_id, "requestId": request_id, **result,
                    "timestamps": timestamps}  # fmt: skip
        await self.emit(sid, "response", response)
        for follow_up in call.after:
            try:
                await follow_up()
            except Exception:
                log.exception("follow-up of %s failed", call.request.get("type"))

    # status and authentication -----------------------------------------------------------------

    def _status(self, stream: Stream, connected: bool | None = None) -> dict[str, Any]:
        packet = stream.header("status")
        packet.update({
            "connected": self.broker_connected(stream.account_id) if connected is None else connected,
            "authenticated": True,
            "healthStatus": {"rpcApiHealthy": True, "restApiHealthy": True},
            "replicas": 1,
            "connectionId": stream.account_id,
        })  # fmt: skip
        return packet

    async def authenticate(self, conn: Connection, stream: Stream, session_id: str | None) -> None:
        """Send ``authenticated`` (with the echoed session id) and a first ``status`` for a subscribed stream."""
        stream.subscribed = True
        packet = stream.header("authenticated")
        packet["replicas"] = 1
        if session_id is not None:
            packet["sessionId"] = session_id
        await self.emit(conn.sid, "synchronization", packet)
        await self.emit(conn.sid, "synchronization", self._status(stream))

    def _subscribed(self, account_id: str | None = None) -> list[tuple[Connection, Stream]]:
        """Subscribed streams: all, or those of an account (given by its own or its primary id)."""
        return [(conn, stream) for conn in list(self.connections.values()) for stream in list(conn.streams.values())
                if stream.subscribed and (account_id is None or account_id == stream.account_id
                                          or account_id == self.primary_id(stream.account_id))]  # fmt: skip

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.server.config.status_interval)
            with contextlib.suppress(Exception):
                for conn, stream in self._subscribed():
                    await self.emit(conn.sid, "synchronization", self._status(stream))

    # hooks for faults and the broker engine ----------------------------------------------------

    async def drop_sockets(self, account_id: str | None = None) -> int:
        """Disconnect client sockets: all, or those subscribed to ``account_id``; returns how many."""
        assert self.sio is not None
        if account_id is None:
            sids = list(self.connections)
        else:
            sids = list(dict.fromkeys(conn.sid for conn, _ in self._subscribed(account_id)))
        for sid in sids:
            with contextlib.suppress(Exception):
                await self.sio.disconnect(sid)
            self._forget(sid)
        return len(sids)

    async def send_downgrade(self, account_id: str, symbol: str, updates: list[Any], unsubscriptions: list[Any]) -> int:
        """Emit ``downgradeSubscription`` to the account's streams subscribed to ``symbol``; returns how many."""
        targets = [(c, s) for c, s in self._subscribed(account_id) if symbol in s.market]
        for conn, stream in targets:
            packet = {**stream.header("downgradeSubscription"), "symbol": symbol, "updates": updates,
                      "unsubscriptions": unsubscriptions}  # fmt: skip
            await self.send(conn, stream, packet)
        return len(targets)

    async def broker_connection_changed(self, account_id: str, connected: bool) -> None:
        """Emit ``status`` with the new broker connection state to the account's streams at once."""
        for conn, stream in self._subscribed(account_id):
            await self.emit(conn.sid, "synchronization", self._status(stream, connected))

    async def publish_update(self, account_id: str, update: dict[str, Any]) -> None:
        """Emit an ``update`` packet (numbered) to every synchronizing or synchronized stream of the account."""
        # the account changed: streamed prices must not show figures of the cached document
        self._docs = {key: hit for key, hit in self._docs.items() if hit[1].get("_id") != account_id}
        now = iso_now()
        for conn, stream in self._subscribed(account_id):
            if stream.sync_id is None:
                continue
            packet = {**stream.header("update"), **update}
            packet.setdefault("timestamps", {"eventGenerated": now, "serverProcessingStarted": now,
                                             "serverProcessingFinished": iso_now()})  # fmt: skip
            await self.send(conn, stream, packet)


def _request_id(data: Any) -> str | int | float | None:
    """The ``requestId`` of a request's payload, to answer with, if it is a string or a number JSON can carry."""
    request_id = data.get("requestId") if isinstance(data, dict) else None
    return request_id if isinstance(request_id, str) else finite(request_id)


__all__ = ["Call", "Hub", "TradeExecutor"]
