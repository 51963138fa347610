"""The exceptions of the mtdata client, as the MetaApi SDK names them (spec §3.3).

    MetaApiException                    status_code, url (base; also any other status and transport errors)
    ├── ValidationException             400 / ValidationError; ``details``; bad arguments and options, locally
    ├── UnauthorizedException           401 / UnauthorizedError (bad or expired token)
    ├── ForbiddenException              403 / ForbiddenError (a narrowed token may not do this)
    ├── NotFoundException               404 / NotFoundError
    ├── ConflictException               409 (retried)
    ├── TooManyRequestsException        429 / TooManyRequestsError; ``metadata`` (retried at recommendedRetryTime)
    ├── InternalException               500 / any unknown socket error (retried)
    ├── TimeoutException                202 polling past its deadline, ``wait_*`` helpers, socket timeouts
    ├── NotConnectedException           NotAuthenticatedError (socket)
    ├── NotSynchronizedException        NotSynchronizedError (socket)
    ├── TradeException                  a failed trade; ``numeric_code``, ``string_code``
    └── MethodAccessException           the method needs an API token (JWT), checked locally before sending

Messages name the request (``GET https://.../accounts/x``) and, for validation, the offending field.
Tokens never appear whole in a message: :func:`redact` them.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "ConflictException",
    "ForbiddenException",
    "InternalException",
    "MetaApiException",
    "MethodAccessException",
    "NotConnectedException",
    "NotFoundException",
    "NotSynchronizedException",
    "TimeoutException",
    "TooManyRequestsException",
    "TradeException",
    "UnauthorizedException",
    "ValidationException",
    "redact",
]


def redact(token: str | None) -> str:
    """A token as it may appear in messages and logs: its first 6 characters and a short digest."""
    if not token:
        return "<none>"
    digest = hashlib.sha256(token.encode()).hexdigest()[:8]
    return f"{token[: min(6, len(token) // 4)]}…#{digest}"


class MetaApiException(Exception):
    """Base of every mtdata client error; ``status_code`` and ``url`` are set for REST answers."""

    def __init__(self, message: str, status_code: int | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.url = url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class ValidationException(MetaApiException):
    """Invalid input: a 400 answer, or an argument / option refused before anything was sent."""

    def __init__(
        self, message: str, details: Any = None, status_code: int | None = 400, url: str | None = None
    ) -> None:
        super().__init__(message, status_code, url)
        self.details = details


class UnauthorizedException(MetaApiException):
    """The token was refused (401)."""


class ForbiddenException(MetaApiException):
    """The token may not do this (403), e.g. it was narrowed down to other accounts or roles."""


class NotFoundException(MetaApiException):
    """The resource does not exist (404)."""


class ConflictException(MetaApiException):
    """The resource is in a conflicting state (409); REST retries it."""


class TooManyRequestsException(MetaApiException):
    """Rate limited (429); ``metadata['recommendedRetryTime']`` says when to try again."""

    def __init__(
        self,
        message: str,
        metadata: dict[str, Any] | None = None,
        status_code: int | None = 429,
        url: str | None = None,
    ) -> None:
        super().__init__(message, status_code, url)
        self.metadata = metadata or {}


class InternalException(MetaApiException):
    """The server failed (500); retried."""


class TimeoutException(MetaApiException):
    """Something did not happen in time (202 polling, ``wait_*`` helpers, socket requests)."""


class NotConnectedException(MetaApiException):
    """The account is not connected / authenticated on the socket."""


class NotSynchronizedException(MetaApiException):
    """The terminal state is not synchronized yet."""


class TradeException(MetaApiException):
    """A trade failed; ``numeric_code`` and ``string_code`` are MetaTrader's return code (spec §6.5)."""

    def __init__(self, message: str, numeric_code: int | None = None, string_code: str | None = None) -> None:
        super().__init__(message)
        self.numeric_code = numeric_code
        self.string_code = string_code


class MethodAccessException(MetaApiException):
    """The method needs an API token (a JWT) and was not sent with an account token (spec §1.4)."""
