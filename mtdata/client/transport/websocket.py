"""``WebsocketClient``: the client's socket layer (protocol §4-§7), one per ``MetaApi``, shared by every connection.

Sockets (:mod:`.socket`) are grouped per (region, instance number), up to 100 accounts
each. Requests and their answers are its base, :class:`~.requests.Requests` (protocol §5). Synchronization
packets are checked (subscribed account, socket instance), then ordered and turned into listener calls by
:mod:`.packets`; subscribe loops live in :mod:`.subscriptions`. Nothing runs before the first
``ensure_subscribe``; ``close()`` leaves no socket and no task behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import (
    MetaApiException,
    NotConnectedException,
    TimeoutException,
    TooManyRequestsException,
)
from ...socketio_compat import disable_client_sigint_handler
from .. import checks
from ..dates import iso_ms
from ..listeners import LatencyListener, ReconnectListener, SynchronizationListener
from ..rest.context import ClientContext
from .packets import UNSUBSCRIBED_TYPES, PacketProcessor
from .requests import Requests
from .socket import MAX_ACCOUNTS_PER_SOCKET, SocketConnection, random_id
from .subscriptions import DEFAULT_TIMERS, SubscriptionManager, Timers, seconds_until
from .throttle import SynchronizationThrottler

log = logging.getLogger("mtdata.client.transport")

#: 429 types of ``subscribe`` that lock the socket: the account moves to another socket meanwhile (protocol §3.2).
_SERVER_QUOTA_TYPES = frozenset(
    {"LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_SERVER", "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER_PER_SERVER"}
)
#: The 429 type of ``subscribe`` that locks every subscribe of the client, whatever the socket (protocol §3.2).
_USER_QUOTA_TYPE = "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER"


@dataclass(frozen=True)
class _UserLock:
    """A per-user subscription quota hit: no subscribe before ``until`` (the server's recommended time), nor before
    ``cooldown_ends`` unless fewer than ``accounts`` accounts are subscribed by then (times: ``time.monotonic``)."""

    until: float
    cooldown_ends: float
    accounts: int


class WebsocketClient(Requests):
    """The socket layer of one ``MetaApi``: subscriptions, requests, packets to listeners, reconnection."""

    def __init__(
        self, context: ClientContext, latency_listener: LatencyListener | None = None, *, timers: Timers | None = None
    ) -> None:
        super().__init__()
        self._context = context
        self._options = context.options
        self.timers = timers or DEFAULT_TIMERS
        """The socket layer's timers in seconds (subscribe retries, status timeout, reconnect backoff): the ``timers``
        argument or the defaults (:class:`~mtdata.client.transport.subscriptions.Timers`)."""
        self._subscriptions = SubscriptionManager(self._send_subscribe, self.timers)
        self._throttler = SynchronizationThrottler(self._options.synchronization_throttler)
        self._packets = PacketProcessor(self._subscriptions, self.timers, self._options.packet_ordering_timeout,
                                        self._session_of, self._throttler, latency_listener)  # fmt: skip
        self._latency = latency_listener
        self._sockets: dict[tuple[str, int], list[SocketConnection]] = {}
        self._socket_of: dict[tuple[str, int], SocketConnection] = {}
        self._reconnect_listeners: dict[str, list[ReconnectListener]] = {}
        self._stray_unsubscribed: dict[str, float] = {}
        self._user_lock: _UserLock | None = None
        self._closed = False

    # -- listeners ---------------------------------------------------------------------------------

    def add_synchronization_listener(self, account_id: str, listener: SynchronizationListener) -> None:
        """Add a listener of an account's packets (called in registration order)."""
        self._packets.listeners.add(account_id, listener)

    def remove_synchronization_listener(self, account_id: str, listener: SynchronizationListener) -> None:
        """Remove a synchronization listener."""
        self._packets.listeners.remove(account_id, listener)

    def add_reconnect_listener(self, account_id: str, listener: ReconnectListener) -> None:
        """Add a listener told when the socket of the account reconnects."""
        self._reconnect_listeners.setdefault(account_id, []).append(listener)

    def remove_reconnect_listener(self, account_id: str, listener: ReconnectListener) -> None:
        """Remove a reconnect listener."""
        listeners = self._reconnect_listeners.get(account_id, [])
        if listener in listeners:
            listeners.remove(listener)

    # -- state ---------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @property
    def latency_listener(self) -> LatencyListener | None:
        """The listener fed with request, price, update and trade timestamps."""
        return self._latency

    @latency_listener.setter
    def latency_listener(self, listener: LatencyListener | None) -> None:
        self._latency = listener
        self._packets.latency_listener = listener

    def connected_instances(self, account_id: str) -> list[str]:
        """``region:instance:host`` keys of the account's streams that are authenticated and not lost."""
        return list(self._packets.connected.get(account_id, {}))

    def is_subscribed(self, account_id: str) -> bool:
        """Whether the account is subscribed (``ensure_subscribe`` called and no ``unsubscribe`` since)."""
        return self._packets.tracked(account_id) is not None

    def socket_count(self) -> int:
        """Sockets the client holds (connected or reconnecting)."""
        return sum(len(group) for group in self._sockets.values())

    # -- subscription --------------------------------------------------------------------------

    async def ensure_subscribe(self, account_id: str, region: str, instance_number: int | None = None) -> None:
        """Subscribe an account in ``region`` on instances 0 and 1 (or one): loops run until ``authenticated``."""
        checks.text("account_id", account_id)
        checks.text("region", region)
        checks.choice("instance_number", instance_number, (0, 1), optional=True)
        self._check_open()
        disable_client_sigint_handler()
        instances = (0, 1) if instance_number is None else (instance_number,)
        tracked = self._packets.tracked(account_id)
        known = tracked[1] if tracked is not None and tracked[0] == region else ()
        self._packets.track(account_id, region, tuple(sorted({*known, *instances})))
        for number in instances:
            self._assign_socket(account_id, region, number)
            if not any(n == number for n in self._packets.connected.get(account_id, {}).values()):
                self._subscriptions.schedule_subscribe(account_id, number)

    def _assign_socket(self, account_id: str, region: str, instance_number: int) -> SocketConnection:
        socket = self._socket_of.get((account_id, instance_number))
        if socket is not None and socket.region == region:
            return socket
        if socket is not None:
            socket.accounts.discard(account_id)
        group = self._sockets.setdefault((region, instance_number), [])
        now = time.monotonic()
        socket = next((s for s in group if len(s.accounts) < MAX_ACCOUNTS_PER_SOCKET and s.locked_until <= now), None)
        if socket is None:
            socket = SocketConnection(self, self._context.token, region, instance_number,
                                      self._options.connect_timeout,
                                      (self.timers.reconnect_start, self.timers.reconnect_max))  # fmt: skip
            group.append(socket)
        socket.accounts.add(account_id)
        self._socket_of[(account_id, instance_number)] = socket
        socket.start()
        return socket

    def _session_of(self, account_id: str, instance_number: int) -> str | None:
        socket = self._socket_of.get((account_id, instance_number))
        return socket.session_id if socket else None

    async def _send_subscribe(self, account_id: str, instance_number: int) -> None:
        for attempt in range(2):  # once more on another socket after a per-server quota refusal
            socket = self._socket_of.get((account_id, instance_number))
            if socket is None:
                raise NotConnectedException(f"Account {account_id} has no socket on instance {instance_number}")
            await socket.wait_connected(self._options.connect_timeout)
            self._check_user_lock()
            payload = {"type": "subscribe", "sessionId": socket.session_id}
            try:
                await self.request(account_id, payload, instance_number=instance_number, retry=False)
                return
            except TooManyRequestsException as error:
                if error.metadata.get("type") == _USER_QUOTA_TYPE:
                    self._lock_user(error)
                if attempt or error.metadata.get("type") not in _SERVER_QUOTA_TYPES:
                    raise
                self._lock_socket(socket, account_id, instance_number, error)

    def _subscribed_accounts(self) -> int:
        """Accounts with at least one authenticated stream."""
        return sum(1 for streams in self._packets.connected.values() if streams)

    def _lock_user(self, error: TooManyRequestsException) -> None:
        """A per-user subscription quota refused a subscribe: every subscribe of the client waits (protocol §3.2)."""
        now, cooldown = time.monotonic(), self._options.retry_opts.subscribe_cooldown_in_seconds
        wait = seconds_until(error.metadata.get("recommendedRetryTime"))
        self._user_lock = _UserLock(now + wait, now + cooldown, self._subscribed_accounts())
        log.warning("subscription quota per user: no subscribe for %.0f s, then for up to %.0f s until an account "
                    "is unsubscribed", wait, cooldown)  # fmt: skip

    def _check_user_lock(self) -> None:
        """Refuse a subscribe, without sending it, while the per-user lock holds: before the server's recommended
        time, then until the cooldown ends unless fewer accounts are subscribed than when the quota was hit. The
        subscribe loop takes the refusal as the server's and tries again later."""
        lock, now = self._user_lock, time.monotonic()
        if lock is None:
            return
        if now >= lock.until and (now >= lock.cooldown_ends or self._subscribed_accounts() < lock.accounts):
            self._user_lock = None
            return
        metadata: dict[str, Any] = {"type": _USER_QUOTA_TYPE}
        if now < lock.until:
            metadata["recommendedRetryTime"] = iso_ms(datetime.now(UTC) + timedelta(seconds=lock.until - now))
        raise TooManyRequestsException("Subscriptions are locked by the per-user subscription quota", metadata)

    def _lock_socket(self, socket: SocketConnection, account_id: str, instance_number: int,
                     error: TooManyRequestsException) -> None:  # fmt: skip
        """A per-server subscription quota refused the account: no new subscriptions on this socket for a while,
        and the account moves to another socket (a new clientId), as protocol §3.2 describes."""
        wait = seconds_until(error.metadata.get("recommendedRetryTime"))
        socket.locked_until = time.monotonic() + wait
        log.warning("subscription quota (%s) on socket %s: locked for %.0f s, %s moves to another socket",
                    error.metadata.get("type"), socket.client_id, wait, account_id)  # fmt: skip
        socket.accounts.discard(account_id)
        del self._socket_of[(account_id, instance_number)]
        self._assign_socket(account_id, socket.region, instance_number)

    async def unsubscribe(self, account_id: str) -> None:
        """Stop following an account: its loops stop, ``unsubscribe`` is sent on its sockets, its state is dropped."""
        tracked = self._packets.tracked(account_id)
        self._subscriptions.cancel_account(account_id)
        if tracked is None:
            return
        region, instances = tracked
        sends = [self._unsubscribe_instance(account_id, number) for number in instances]
        await asyncio.gather(*sends)
        await self._packets.emit(account_id, "on_unsubscribe_region", region)
        self._packets.untrack(account_id)
        for number in instances:
            socket = self._socket_of.pop((account_id, number), None)
            if socket is not None:
                socket.accounts.discard(account_id)

    async def _unsubscribe_instance(self, account_id: str, instance_number: int) -> None:
        socket = self._socket_of.get((account_id, instance_number))
        if socket is None or not socket.connected or self._closed:
            return
        try:
            await self.request(account_id, {"type": "unsubscribe"}, instance_number=instance_number, retry=False)
        except MetaApiException as error:  # NotFound, timeouts: the server forgets the account anyway
            log.debug("unsubscribe of %s:%s failed: %s", account_id, instance_number, error)

    # -- socket callbacks ------------------------------------------------------------------------

    async def socket_base_url(self, region: str, instance_number: int) -> str:
        """The socket URL of a region and instance (protocol §1.2), or the ``url`` option for a sandbox."""
        return await self._context.hosts.websocket(region, instance_number, self._options.use_shared_client_api)

    async def on_packet(self, socket: SocketConnection, packet: dict[str, Any]) -> None:
        """A ``synchronization`` packet arrived on ``socket``: checked, then handed to the packet processor."""
        if (packet.get("instanceIndex") or 0) != socket.instance_number:
            return
        account_id = packet.get("accountId")
        if self._packets.tracked(account_id) is None:  # type: ignore[arg-type]
            if packet.get("type") not in UNSUBSCRIBED_TYPES and isinstance(account_id, str):
                self._unsubscribe_stray(socket, account_id)
            return
        await self._packets.receive(packet)

    def _unsubscribe_stray(self, socket: SocketConnection, account_id: str) -> None:
        now = time.monotonic()
        interval = self._options.unsubscribe_throttling_interval_in_seconds  # protocol §7.2
        if now - self._stray_unsubscribed.get(account_id, -1e9) < interval:
            return
        self._stray_unsubscribed[account_id] = now
        request = {"type": "unsubscribe", "requestId": random_id(), "accountId": account_id,
                   "application": self._options.application, "instanceIndex": socket.instance_number,
                   "timestamps": {"clientProcessingStarted": iso_ms(datetime.now(UTC))}}  # fmt: skip
        self._packets.spawn(socket.emit(request))

    def on_socket_lost(self, socket: SocketConnection) -> None:
        """A socket dropped: its streams are lost and its pending requests fail with TimeoutException."""
        for request_id in list(socket.pending):
            future = self._pending.get((socket, request_id))
            if future is not None and not future.done():
                future.set_exception(TimeoutException(f"The socket was lost before request {request_id} was answered"))
        for account_id in list(socket.accounts):
            self._packets.spawn(self._packets.socket_lost(account_id, socket.instance_number))

    async def on_socket_reconnected(self, socket: SocketConnection) -> None:
        """A socket came back: reconnect listeners are told, then every account on it resubscribes."""
        for account_id in list(socket.accounts):
            for listener in list(self._reconnect_listeners.get(account_id, [])):
                try:
                    await listener.on_reconnected(socket.region, socket.instance_number)
                except Exception:
                    log.exception("reconnect listener failed")
            if self.is_subscribed(account_id):
                self._subscriptions.resubscribe_later(account_id, (socket.instance_number,),
                                                     self.timers.reconnect_resubscribe)  # fmt: skip

    # -- shutdown ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Disconnect every socket, cancel every task and fail pending requests with NotConnectedException."""
        if self._closed:
            return
        self._closed = True
        await self._subscriptions.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NotConnectedException("The websocket client was closed"))
        self._pending.clear()
        sockets = [socket for group in self._sockets.values() for socket in group]
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        self._sockets.clear()
        self._socket_of.clear()
        self._throttler.close()
        await self._packets.close()


__all__ = ["Timers", "WebsocketClient"]
