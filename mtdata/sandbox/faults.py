"""Faults on demand, for tests of a client's resilience: delays, 429s, dropped sockets, broker outages, restarts.

Usable from Python (``server.faults.add_delay(...)``; the async methods through
``SandboxHandle.call``) and over REST under ``/sandbox/faults`` (authenticated; the token
needs writer access to ``trading-account-management-api``):

* ``GET /sandbox/faults`` active faults; ``DELETE /sandbox/faults`` clears them all;
* ``POST /sandbox/faults/delay {"seconds", "scope"?, "count"?}``: delay the next requests;
* ``POST /sandbox/faults/rate-limit {"count", "retryAfterSeconds", "scope"?, "type"?, "requestType"?}``: 429s;
* ``POST /sandbox/faults/drop-sockets {"accountId"?}``: close client sockets (all, or one account's);
* ``POST /sandbox/faults/broker {"accountId", "connected"}``: the simulated broker goes away or comes back;
* ``POST /sandbox/faults/downgrade {"accountId", "symbol", "updates", "unsubscriptions"}``;
* ``POST /sandbox/faults/restart``: stop and start the server on the same port and data dir, after answering.
* ``POST /sandbox/faults/packets {"accountId", "action", "count"?}``: disturb the next ``count`` (default 1)
  numbered packets of the account's current streams: ``swap`` pairs, ``skip`` a sequence number (a gap),
  ``duplicate`` them (tests of the client's packet orderer, protocol §7.6).

``scope`` is ``rest``, ``socket`` or ``all`` (default); ``count`` omitted means until cleared.
Delays and 429s live in memory (a restart clears them); a broker outage is written to the
account (``connectionStatus: DISCONNECTED_FROM_BROKER``) and so survives a restart.
The control endpoints themselves are never delayed nor rate-limited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .appkeys import PRINCIPAL
from .auth import PROVISIONING_API
from .errors import ApiError, TooManyRequestsError, ValidationError
from .realtime.streams import PACKET_FAULTS, PacketFault
from .timeutil import iso_ms, now_ms

if TYPE_CHECKING:
    from .server import SandboxServer

PREFIX = "/sandbox/faults"
SCOPES = ("rest", "socket", "all")
BROKER_DOWN = "DISCONNECTED_FROM_BROKER"


class UnavailableError(ApiError):
    """501: the fault needs something this server does not have (a restart hook)."""

    status = 501
    name = "NotImplementedError"


@dataclass
class Delay:
    """Delay matching requests by ``seconds``; ``count`` None = until cleared (``requestType`` narrows socket
    requests, e.g. ``trade``)."""

    seconds: float
    scope: str = "all"
    count: int | None = None
    requestType: str | None = None


@dataclass
class RateLimit:
    """Answer the next ``count`` matching requests with 429 (``requestType`` narrows socket requests)."""

    count: int
    retryAfterSeconds: float
    scope: str = "all"
    type: str | None = None
    requestType: str | None = None


def _matches(rule: Delay | RateLimit, scope: str, request_type: str | None) -> bool:
    if rule.count == 0 or rule.scope not in (scope, "all"):
        return False
    return getattr(rule, "requestType", None) in (None, request_type)


def _consume(rule: Delay | RateLimit) -> None:
    if rule.count is not None:
        rule.count -= 1


class Faults:
    """Fault state of one server and the control API that changes it."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.delays: list[Delay] = []
        self.rate_limits: list[RateLimit] = []
        #: Called (no arguments) to restart the server; registered by whoever owns the server's life.
        self.restart_hook: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        where = "json_extract(doc, '$.connectionStatus') = ?"
        self._broker_down = {doc["_id"] for doc in server.store.select("accounts", where, [BROKER_DOWN])}

    # -- applying faults -----------------------------------------------------------------------

    async def _apply(self, scope: str, request_type: str | None) -> None:
        self.delays = [d for d in self.delays if d.count != 0]
        self.rate_limits = [r for r in self.rate_limits if r.count != 0]
        delay = 0.0
        for rule in self.delays:
            if _matches(rule, scope, request_type):
                _consume(rule)
                delay += rule.seconds
        if delay:
            await asyncio.sleep(delay)
        for limit in self.rate_limits:
            if _matches(limit, scope, request_type):
                _consume(limit)
                retry_at = iso_ms(now_ms() + int(limit.retryAfterSeconds * 1000))
                extra = {"type": limit.type} if limit.type else {}
                raise TooManyRequestsError("Too many requests (sandbox fault)", retry_at, **extra)

    async def before_request(self, request: web.Request) -> None:
        """Apply configured REST faults (delays, then 429) before a request is handled."""
        if not request.path.startswith(PREFIX):
            await self._apply("rest", None)

    async def before_socket_request(self, sid: str, request: dict[str, Any]) -> None:
        """Apply configured socket faults before the hub handles ``request`` (raises TooManyRequestsError)."""
        await self._apply("socket", request.get("type") if isinstance(request, dict) else None)

    def broker_connected(self, account_id: str) -> bool:
        """Whether the simulated broker of ``account_id`` is reachable (False after a broker fault)."""
        return account_id not in self._broker_down

    # -- changing faults ------------------------------------------------------------------------

    def add_delay(
        self, seconds: float, scope: str = "all", count: int | None = None, request_type: str | None = None
    ) -> Delay:
        """Delay the next ``count`` requests of ``scope`` (all of them until cleared if None), only socket requests
        of ``request_type`` if given (``trade``: a trade reaches the broker ``seconds`` late)."""
        rule = Delay(seconds, scope, count, request_type)
        self.delays.append(rule)
        return rule

    def add_rate_limit(self, count: int, retry_after_seconds: float, scope: str = "all", type: str | None = None,
                       request_type: str | None = None) -> RateLimit:  # fmt: skip
        """Answer the next ``count`` requests of ``scope`` with TooManyRequestsError."""
        rule = RateLimit(count, retry_after_seconds, scope, type, request_type)
        self.rate_limits.append(rule)
        return rule

    async def drop_sockets(self, account_id: str | None = None) -> int:
        """Close client sockets (all, or those subscribed to ``account_id``); returns how many."""
        if account_id is not None:
            self.server.accounts.get(account_id)
        return await self.server.hub.drop_sockets(account_id=account_id)

    async def set_broker(self, account_id: str, connected: bool) -> None:
        """Disconnect (or reconnect) the simulated broker of an account and tell its streams."""
        doc = self.server.accounts.get(account_id)
        if connected:
            self._broker_down.discard(account_id)
            if doc.get("connectionStatus") == BROKER_DOWN:
                self.server.accounts.save({**doc, "connectionStatus": "CONNECTED"})
        else:
            self._broker_down.add(account_id)
            if doc.get("connectionStatus") == "CONNECTED":
                self.server.accounts.save({**doc, "connectionStatus": BROKER_DOWN})
        await self.server.hub.broker_connection_changed(account_id, connected)

    async def downgrade(self, account_id: str, symbol: str, updates: list[Any], unsubscriptions: list[Any]) -> None:
        """Send a ``downgradeSubscription`` packet to the streams of an account."""
        self.server.accounts.get(account_id)
        await self.server.hub.send_downgrade(
            account_id=account_id, symbol=symbol, updates=updates, unsubscriptions=unsubscriptions
        )

    def add_packet_fault(self, account_id: str, action: str, count: int = 1) -> int:
        """Disturb the next ``count`` numbered packets of each current stream of an account; returns the streams hit."""
        if action not in PACKET_FAULTS:
            raise ValidationError.field("action", f"must be one of {', '.join(PACKET_FAULTS)}", action)
        self.server.accounts.get(account_id)
        streams = [s for c in list(self.server.hub.connections.values()) for s in c.account_streams(account_id)
                   if s.subscribed]  # fmt: skip
        for stream in streams:
            stream.fault = PacketFault(action, count)
        return len(streams)

    def _packet_faults(self) -> list[dict[str, Any]]:
        return [{"accountId": s.account_id, "instanceIndex": s.instance_index, "action": s.fault.action,
                 "count": s.fault.count} for c in list(self.server.hub.connections.values())
                for s in c.streams.values() if s.fault is not None]  # fmt: skip

    def request_restart(self, delay: float = 0.1) -> None:
        """Restart the server after ``delay`` seconds (so a REST answer can reach its client first)."""
        hook = self.restart_hook
        if hook is None:
            raise UnavailableError("This sandbox cannot restart itself: no restart hook is registered")

        async def later() -> None:
            await asyncio.sleep(delay)
            hook()

        task = asyncio.get_running_loop().create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def clear(self) -> None:
        """Remove every delay and 429 and reconnect every disconnected broker."""
        self.delays.clear()
        self.rate_limits.clear()
        for conn in list(self.server.hub.connections.values()):
            for stream in conn.streams.values():
                stream.fault = None
        for account_id in sorted(self._broker_down):
            await self.set_broker(account_id, True)

    def snapshot(self) -> dict[str, Any]:
        """The active faults, as ``GET /sandbox/faults`` shows them."""
        snapshot = {
            "delays": [asdict(d) for d in self.delays if d.count != 0],
            "rateLimits": [asdict(r) for r in self.rate_limits if r.count != 0],
            "brokerDisconnected": sorted(self._broker_down),
            "restartAvailable": self.restart_hook is not None,
        }
        packet_faults = self._packet_faults()
        if packet_faults:  # shown only while some are active
            snapshot["packetFaults"] = packet_faults
        return snapshot

    # -- REST -----------------------------------------------------------------------------------

    def setup_routes(self, app: web.Application) -> None:
        """Register the ``/sandbox/faults`` control endpoints."""
        routes = [
            ("GET", "", self._get),
            ("DELETE", "", self._delete),
            ("POST", "/delay", self._post_delay),
            ("POST", "/rate-limit", self._post_rate_limit),
            ("POST", "/drop-sockets", self._post_drop),
            ("POST", "/broker", self._post_broker),
            ("POST", "/downgrade", self._post_downgrade),
            ("POST", "/restart", self._post_restart),
            ("POST", "/packets", self._post_packets),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, PREFIX + path, _guarded(handler))

    async def _get(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        return _json(self.snapshot())

    async def _delete(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        await self.clear()
        return web.Response(status=204)

    async def _post_delay(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        seconds, count = _number(body, "seconds", 0, 300), _count(body, required=False)
        rule = self.add_delay(seconds, _scope(body), count, _text(body, "requestType"))  # type: ignore[arg-type]
        return _json(asdict(rule), 201)

    async def _post_rate_limit(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        count = _count(body, required=True)
        retry = _number(body, "retryAfterSeconds", 0, 86400)
        rule = self.add_rate_limit(count, retry, _scope(body), _text(body, "type"), _text(body, "requestType"))  # type: ignore[arg-type]
        return _json(asdict(rule), 201)

    async def _post_drop(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        return _json({"dropped": await self.drop_sockets(_text(body, "accountId"))})

    async def _post_broker(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        account_id = _text(body, "accountId", required=True)
        connected = body.get("connected")
        if not isinstance(connected, bool):
            raise ValidationError.field("connected", "must be true or false", connected)
        await self.set_broker(account_id, connected)  # type: ignore[arg-type]
        return _json({"accountId": account_id, "connected": connected})

    async def _post_downgrade(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        account_id = _text(body, "accountId", required=True)
        symbol = _text(body, "symbol", required=True)
        lists = {}
        for name in ("updates", "unsubscriptions"):
            items = body.get(name, [])
            if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("type"), str)
                                                      for i in items):  # fmt: skip
                raise ValidationError.field(name, "must be a list of market data subscriptions {type, ...}")
            lists[name] = items
        await self.downgrade(account_id, symbol, lists["updates"], lists["unsubscriptions"])  # type: ignore[arg-type]
        return _json({"accountId": account_id, "symbol": symbol, **lists})

    async def _post_packets(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        account_id = _text(body, "accountId", required=True)
        action = _text(body, "action", required=True)
        count = _count(body, required=False) or 1
        streams = self.add_packet_fault(account_id, action, count)  # type: ignore[arg-type]
        return _json({"accountId": account_id, "action": action, "count": count, "streams": streams}, 201)

    async def _post_restart(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = _json({"restarting": True}, 202)
        self.request_restart()
        return response


def _guarded(handler: Callable[..., Any]) -> Callable[[web.Request], Any]:
    """Wrap a control handler: writer access to the provisioning API, and a JSON object body for POSTs."""

    async def handle(request: web.Request) -> web.StreamResponse:
        request[PRINCIPAL].require(PROVISIONING_API, write=True)
        body: Any = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                raise ValidationError.field("body", "must be a JSON object") from None
        if not isinstance(body, dict):
            raise ValidationError.field("body", "must be a JSON object")
        return await handler(request, body)

    return handle


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _scope(body: dict[str, Any]) -> str:
    scope = body.get("scope", "all")
    if scope not in SCOPES:
        raise ValidationError.field("scope", f"must be one of {', '.join(SCOPES)}", scope)
    return scope


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValidationError.field(name, f"must be a number from {low:g} to {high:g}", value)
    return float(value)


def _count(body: dict[str, Any], required: bool) -> int | None:
    value = body.get("count")
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise ValidationError.field("count", "must be an integer from 1 to 1000000", value)
    return value


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValidationError.field(name, "must be a non-empty string", value)
    return value
