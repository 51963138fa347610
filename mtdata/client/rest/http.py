"""One shared ``httpx.AsyncClient`` with the SDK's retry policy (protocol §2.10) and error mapping (protocol §3.3).

Retried: transport errors, 409, 500 and any status not named below, with exponential backoff
``min(2**n * minDelay, maxDelay)`` up to ``retries`` times. 202 repeats the identical request
(same ``transaction-id``) after ``Retry-After`` until ``longRunningRequestTimeoutInMinutes``.
429 waits until ``metadata.recommendedRetryTime`` without counting a retry. 400, 401, 403 and
404 are raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from ...errors import (
    ConflictException,
    ForbiddenException,
    InternalException,
    MetaApiException,
    NotFoundException,
    TimeoutException,
    TooManyRequestsException,
    UnauthorizedException,
    ValidationException,
    redact,
)
from ..options import RetryPolicy

logger = logging.getLogger("mtdata.client")

_NOT_RETRIED: dict[int, type[MetaApiException]] = {
    401: UnauthorizedException,
    403: ForbiddenException,
    404: NotFoundException,
}
_RETRIED: dict[int, type[MetaApiException]] = {409: ConflictException, 500: InternalException}
#: Headers of classic pagination: ``api-version: 2``, and the sandbox's opt-in to the documented ``{count, items}``
#: shape (protocol §2.1: SDK 29.1.1 needs a plain array, so the sandbox only sends ``{count, items}`` when asked).
CLASSIC_PAGINATION = {"api-version": "2", "mtdata-pagination": "count-items"}
#: Connections per ``MetaApi`` (see ``HttpClient.__init__`` for why so few).
MAX_CONNECTIONS = 10


def transaction_id() -> str:
    """A fresh idempotency key: 32 random lowercase letters (protocol §1.4)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(32))


def parse_retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP-date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_time(value: str) -> datetime:
    """An ISO time of the wire (``...Z``) as an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()  # what orjson refuses: integers beyond 64 bits, NaN
    except ValueError:
        return response.text


def error_from(response: httpx.Response, request_name: str) -> MetaApiException:
    """The exception for a non-2xx answer, its message naming the request (and the fields, for a 400)."""
    status, url = response.status_code, str(response.request.url)
    body = _body(response)
    data = body if isinstance(body, dict) else {}
    message = str(data.get("message") or response.reason_phrase or f"HTTP {status}")
    if status == 400:
        details = data.get("details")
        fields = [d.get("parameter") for d in details or () if isinstance(d, dict) and d.get("parameter")]
        named = f" (fields: {', '.join(fields)})" if fields else ""
        return ValidationException(
            f"{message}{named}, check error.details for more information. Request: {request_name}", details, 400, url
        )
    if status == 429:
        return TooManyRequestsException(f"{message}. Request: {request_name}", data.get("metadata"), 429, url)
    kind = _NOT_RETRIED.get(status) or _RETRIED.get(status) or MetaApiException
    return kind(f"{message}. Request: {request_name}", status, url)


class HttpClient:
    """The REST transport of one ``MetaApi``: one connection pool, the retry policy, the ``auth-token`` header."""

    def __init__(
        self,
        token: str,
        retry: RetryPolicy,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self._retry = retry
        self._timeout = timeout
        # A small pool is faster: httpcore scans every pooled connection for every queued request, so 100
        # concurrent calls on loopback ran at ~70 calls/s with 100 connections and ~600-900 with 4-10.
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
        self._client = httpx.AsyncClient(transport=transport, limits=limits, timeout=timeout)

    def __repr__(self) -> str:
        return f"HttpClient(token={redact(self._token)})"

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        raw: bool = False,
    ) -> Any:
        """Send a request with retries; returns the parsed JSON body (None when empty), or its bytes when ``raw``."""
        retry = self._retry
        name = f"{method} {url}"
        all_headers = {"auth-token": self._token, **(headers or {})}
        deadline = time.monotonic() + retry.max_delay_in_seconds * retry.retries
        attempt = 0
        long_running = False
        while True:
            try:
                response = await self._client.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    headers=all_headers,
                    timeout=timeout or self._timeout,
                )
            except httpx.TransportError as exc:
                error: MetaApiException = MetaApiException(f"{type(exc).__name__}: {exc}. Request: {name}", url=url)
            else:
                status = response.status_code
                if status == 202:
                    if not long_running:
                        long_running = True
                        deadline = time.monotonic() + retry.long_running_request_timeout_in_minutes * 60
                    wait = parse_retry_after(response.headers.get("retry-after"), retry.min_delay_in_seconds)
                    if time.monotonic() + wait >= deadline:
                        raise TimeoutException(f"Timed out waiting for the response. Request: {name}", 202, url)
                    logger.debug("%s answered 202, repeating in %.3g s: %s", name, wait, _body(response))
                    await asyncio.sleep(wait)
                    continue
                if 200 <= status < 300:
                    return response.content if raw else _body(response)
                error = error_from(response, name)
                if status in (400, *_NOT_RETRIED):
                    raise error
                if isinstance(error, TooManyRequestsException):
                    wait = self._rate_limit_wait(error)
                    if time.monotonic() + wait >= deadline:
                        raise error
                    logger.debug("%s rate limited, retrying in %.3g s", name, wait)
                    await asyncio.sleep(wait)
                    continue
            if attempt >= retry.retries:
                raise error
            delay = min(2**attempt * retry.min_delay_in_seconds, retry.max_delay_in_seconds)
            attempt += 1
            logger.debug("%s failed (%s), retry %d in %.3g s", name, error.message, attempt, delay)
            await asyncio.sleep(delay)

    @staticmethod
    def _rate_limit_wait(error: TooManyRequestsException) -> float:
        value = error.metadata.get("recommendedRetryTime")
        if not isinstance(value, str):
            return float("inf")
        try:
            return max(0.0, (parse_time(value) - datetime.now(UTC)).total_seconds())
        except ValueError:
            return float("inf")
