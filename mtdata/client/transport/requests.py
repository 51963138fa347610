"""Requests on the account's sockets (protocol §5): sending, waiting for the answer, retrying, trades.

:class:`Requests`, the base of :class:`~.websocket.WebsocketClient`, correlates each request with its
``response`` / ``processingError`` by ``requestId`` (a high-reliability trade goes to both instances with one
``requestId``, protocol §6.4), with per-request timeouts and the retry policy of protocol §5.4; requests bound to
an instance wait until a stream of it is connected, and a ``synchronize`` first waits for a slot (protocol §7.7).
Response timestamps go to the latency listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from ...errors import (
    InternalException,
    NotConnectedException,
    NotSynchronizedException,
    TimeoutException,
    TooManyRequestsException,
)
from .. import checks
from ..dates import convert_dates, iso_ms
from ..listeners import LatencyListener
from ..options import MetaApiOptions
from .errors import error_from_processing, trade_result
from .packets import PacketProcessor
from .socket import SocketConnection, random_id
from .subscriptions import seconds_until
from .throttle import SynchronizationThrottler

log = logging.getLogger("mtdata.client.transport")

#: Request types sent on an instance's socket without waiting for the account to be connected (protocol §5.1).
_DIRECT_TYPES = frozenset({"subscribe", "synchronize", "unsubscribe", "refreshMarketDataSubscriptions"})
#: Request types never retried (protocol §5.4).
_NO_RETRY_TYPES = frozenset({"trade", "subscribe"})
_RETRIED = (NotSynchronizedException, TimeoutException, InternalException)
_DEFAULT: Any = object()
Response = dict[str, Any]


class Requests:
    """Requests and their answers; the socket layer (:class:`~.websocket.WebsocketClient`) sets the rest."""

    _options: MetaApiOptions
    _packets: PacketProcessor
    _socket_of: dict[tuple[str, int], SocketConnection]
    _throttler: SynchronizationThrottler
    _latency: LatencyListener | None
    _closed: bool

    def __init__(self) -> None:
        # by (socket, requestId): a high-reliability trade goes to both instances with one requestId (§6.4)
        self._pending: dict[tuple[SocketConnection, str], asyncio.Future[dict[str, Any]]] = {}

    async def request(
        self,
        account_id: str,
        payload: dict[str, Any],
        *,
        instance_number: int | None = None,
        application: str | None = _DEFAULT,
        timeout: float | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send a request and return its response (dates converted); see the contract in the module docstring."""
        checks.text("account_id", account_id)
        checks.mapping("payload", payload)
        request_type = checks.text("payload.type", payload.get("type"))
        checks.choice("instance_number", instance_number, (0, 1), optional=True)
        checks.number("timeout", timeout, minimum=0.001, optional=True)
        request = dict(payload)
        request.setdefault("requestId", random_id())
        request["accountId"] = account_id
        request["application"] = self._options.application if application is _DEFAULT else application
        if instance_number is not None:
            request["instanceIndex"] = instance_number
        wait = self._options.request_timeout if timeout is None else timeout
        if not retry or request_type in _NO_RETRY_TYPES:
            return await self._request_once(request, instance_number, wait)
        return await self._with_retries(request, instance_number, wait)

    async def _with_retries(
        self, request: dict[str, Any], instance_number: int | None, timeout: float
    ) -> dict[str, Any]:
        opts = self._options.retry_opts
        delays = [min(opts.min_delay_in_seconds * 2**i, opts.max_delay_in_seconds) for i in range(opts.retries)]
        for attempt in range(opts.retries + 1):
            try:
                return await self._request_once(dict(request), instance_number, timeout)
            except _RETRIED:
                if attempt == opts.retries or self._packets.tracked(request["accountId"]) is None:
                    raise
                await asyncio.sleep(delays[attempt])
            except TooManyRequestsException as error:
                wait = seconds_until(error.metadata.get("recommendedRetryTime"))
                if attempt == opts.retries or wait > sum(delays[attempt:]):
                    raise
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _request_once(
        self, request: dict[str, Any], instance_number: int | None, timeout: float
    ) -> dict[str, Any]:
        self._check_open()
        account_id, request_type = request["accountId"], request["type"]
        if self._packets.tracked(account_id) is None and request_type != "unsubscribe":
            raise NotConnectedException(f"Account {account_id} is not subscribed: connect it first")
        if request_type in _DIRECT_TYPES:
            number = instance_number or 0
        else:
            number = await self._wait_connected_instance(account_id, instance_number)
        socket = self._socket_of.get((account_id, number))
        if socket is None:
            raise NotConnectedException(f"Account {account_id} is not subscribed on instance {number}")
        await socket.wait_connected(self._options.connect_timeout)
        request_id = request["requestId"]
        if request_type == "synchronize":
            # a new synchronize supersedes the stream's previous one (its slot too), then waits for a slot (§7.7)
            self._packets.supersede(account_id, number, request.get("host"))
            await self._throttler.acquire(socket, request_id)
            self._packets.start_synchronization(account_id, number, request.get("host"), request)
        started = datetime.now(UTC)
        request["timestamps"] = {"clientProcessingStarted": iso_ms(started)}
        try:
            response = await self._exchange(socket, request, timeout)
        except BaseException:
            if request_type == "synchronize":
                self._throttler.release(request_id)  # no packet will come for it
            raise
        timestamps = response.get("timestamps")
        if isinstance(timestamps, dict):
            # the request's own stamp too, so one dict holds every figure of protocol §8
            timestamps.setdefault("clientProcessingStarted", started)
            timestamps["clientProcessingFinished"] = datetime.now(UTC)
        if isinstance(timestamps, dict) and self._latency is not None:
            try:
                await self._latency.on_response(account_id, request_type, timestamps)
            except Exception:
                log.exception("latency listener failed")
        return response

    async def _exchange(self, socket: SocketConnection, request: dict[str, Any], timeout: float) -> Response:
        """Send a request on ``socket`` and wait for its answer (TimeoutException when none comes in time)."""
        request_id, request_type = request["requestId"], request["type"]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[(socket, request_id)] = future
        socket.pending.add(request_id)
        try:
            await socket.emit(request)
            async with asyncio.timeout(timeout):  # (wait_for may lose a cancellation before 3.12)
                return await future
        except TimeoutError:
            raise TimeoutException(
                f"MetaApi websocket client request {request_id} of type {request_type} timed out. "
                "Please make sure your account is connected to broker before retrying request"
            ) from None
        except ConnectionError:
            raise TimeoutException(f"The socket was lost before {request_type} {request_id} was sent") from None
        finally:
            if self._pending.get((socket, request_id)) is future:
                del self._pending[(socket, request_id)]
            socket.pending.discard(request_id)

    async def _wait_connected_instance(self, account_id: str, instance_number: int | None) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._options.connect_timeout
        while True:
            hosts = self._packets.connected.get(account_id, {})
            numbers = sorted(set(hosts.values()))
            if instance_number is None and numbers:
                return numbers[0]
            if instance_number is not None and instance_number in numbers:
                return instance_number
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutException(f"Account {account_id} is not connected (no authenticated stream)")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await asyncio.shield(self._packets.changed(account_id))
            self._check_open()
            if self._packets.tracked(account_id) is None:
                raise NotConnectedException(f"Account {account_id} was unsubscribed")

    async def trade(
        self, account_id: str, trade: dict[str, Any], *, application: str | None = _DEFAULT,
        instance_number: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Execute a trade (never retried); the inner ``response``, or TradeException when it failed (§6.4)."""
        checks.mapping("trade", trade)
        response = await self.request(account_id, {"type": "trade", "trade": trade}, application=application,
                                      instance_number=instance_number, retry=False)  # fmt: skip
        timestamps = response.get("timestamps")
        if isinstance(timestamps, dict) and self._latency is not None:
            try:
                await self._latency.on_trade(account_id, timestamps)
            except Exception:
                log.exception("latency listener failed")
        return trade_result(response)

    def on_answer(self, socket: SocketConnection, kind: str, data: Any) -> None:
        """A ``response`` or ``processingError`` arrived: resolve the request it answers."""
        if isinstance(data, str) and kind == "response":
            try:
                data = json.loads(data)
            except ValueError:
                return
        if not isinstance(data, dict):
            return
        future = self._pending.get((socket, data.get("requestId")))  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if kind == "response":
            future.set_result(convert_dates(data))
        else:
            future.set_exception(error_from_processing(data))

    def _check_open(self) -> None:
        if self._closed:
            raise NotConnectedException("The websocket client is closed")
