"""The exceptions of the mtdata client, as the MetaApi SDK names them (protocol §3.3).

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
    ├── TradeException                  a failed trade; ``string_code``, ``numeric_code`` (also camelCase)
    └── MethodAccessException           the method needs an API token (JWT), checked locally before sending

Messages name the request (``GET https://.../accounts/x``) and, for validation, the offending field.
Tokens never appear whole in a message: :func:`redact` them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client.models import ValidationDetails

from .redaction import redact

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
        self,
        message: str,
        details: list[ValidationDetails] | None = None,
        status_code: int | None = 400,
        url: str | None = None,
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
    """A trade failed; ``string_code`` and ``numeric_code`` are MetaTrader's return code (protocol §6.5).

    The seed's order ``TradeException(message, string_code)`` and the official SDK's
    ``TradeException(message, numeric_code, string_code)`` both work: an int is the numeric code, a
    string the string code. ``numericCode`` / ``stringCode`` are the official SDK's names of the same values.
    """

    def __init__(
        self, message: str, string_code: str | int | None = None, numeric_code: int | str | None = None
    ) -> None:
        super().__init__(message)
        if isinstance(string_code, int) or isinstance(numeric_code, str):
            string_code, numeric_code = numeric_code, string_code
        self.string_code: str | None = string_code  # type: ignore[assignment]
        self.numeric_code: int | None = numeric_code  # type: ignore[assignment]

    @property
    def stringCode(self) -> str | None:
        """``string_code`` under the official SDK's name."""
        return self.string_code

    @property
    def numericCode(self) -> int | None:
        """``numeric_code`` under the official SDK's name."""
        return self.numeric_code


class MethodAccessException(MetaApiException):
    """The method needs an API token (a JWT) and was not sent with an account token (protocol §1.4)."""
