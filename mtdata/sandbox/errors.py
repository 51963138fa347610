"""Structured errors of the sandbox, shaped as the MetaApi cloud sends them (protocol §3).

A handler raises one of these; the REST middleware turns it into the JSON body and
status, and the socket layer into a ``processingError`` packet.

    ApiError (500 InternalError)
    ├── ValidationError (400, with ``details`` naming the offending fields)
    ├── UnauthorizedError (401)
    ├── ForbiddenError (403)
    ├── NotFoundError (404)
    ├── ConflictError (409)
    ├── TooManyRequestsError (429, ``metadata.recommendedRetryTime``)
    ├── NotSynchronizedError (socket only)
    ├── TimeoutError (socket only)
    └── TradeError (socket only, ``numericCode``/``stringCode``)
"""

from __future__ import annotations

import math
from typing import Any

#: The integers JSON encoders (orjson, the cloud's) and SQLite take: signed 64-bit.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def shown(value: Any) -> Any:
    """A value as an error may echo it: short and valid JSON for any encoder (NaN, ±Infinity and integers
    past 64 bits become strings)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)[:200]


class ApiError(Exception):
    """Base sandbox error; ``status`` is the HTTP status, ``name`` the wire ``error`` value."""

    status = 500
    name = "InternalError"
    error_id = 0

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body (REST) or ``processingError`` payload (socket) for this error."""
        return {"id": self.error_id, "error": self.name, "message": self.message, **self.extra}


class ValidationError(ApiError):
    """400: the request is malformed; ``details`` is a list of ``{parameter, value?, message}``."""

    status = 400
    name = "ValidationError"
    error_id = 3

    def __init__(self, message: str = "Validation failed", details: list[Any] | None = None) -> None:
        super().__init__(message, details=details or [])

    @classmethod
    def field(cls, parameter: str, message: str, value: Any = None) -> ValidationError:
        """A validation error naming exactly one offending field."""
        detail: dict[str, Any] = {"parameter": parameter, "message": message}
        if value is not None:
            detail["value"] = shown(value)
        return cls(f"Validation failed: {parameter} {message}", [detail])


class UnauthorizedError(ApiError):
    status = 401
    name = "UnauthorizedError"
    error_id = 1


class ForbiddenError(ApiError):
    status = 403
    name = "ForbiddenError"
    error_id = 4


class NotFoundError(ApiError):
    status = 404
    name = "NotFoundError"
    error_id = 5


class ConflictError(ApiError):
    status = 409
    name = "ConflictError"
    error_id = 6


class TooManyRequestsError(ApiError):
    """429; ``metadata.recommendedRetryTime`` is required by every MetaApi client."""

    status = 429
    name = "TooManyRequestsError"
    error_id = 1

    def __init__(self, message: str, recommended_retry_time: str, **metadata: Any) -> None:
        super().__init__(message, metadata={"recommendedRetryTime": recommended_retry_time, **metadata})


class NotSynchronizedError(ApiError):
    name = "NotSynchronizedError"


class TimeoutError(ApiError):  # the wire name; shadows the builtin only inside this module
    name = "TimeoutError"


class TradeError(ApiError):
    """A rejected trade with its MetaTrader return code."""

    name = "TradeError"

    def __init__(self, message: str, numeric_code: int, string_code: str) -> None:
        super().__init__(message, numericCode=numeric_code, stringCode=string_code)
