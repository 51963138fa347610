"""Socket answers as results or exceptions: ``processingError`` mapping (protocol §3.3), trade outcomes (§6.4)."""

from __future__ import annotations

from typing import Any

from ...errors import (
    ForbiddenException,
    InternalException,
    MetaApiException,
    NotConnectedException,
    NotFoundException,
    NotSynchronizedException,
    TimeoutException,
    TooManyRequestsException,
    TradeException,
    UnauthorizedException,
    ValidationException,
)
from ..dates import convert_dates

#: ``stringCode`` values of a successful trade (protocol §6.4).
TRADE_SUCCESS_CODES = frozenset(
    {"ERR_NO_ERROR", "TRADE_RETCODE_PLACED", "TRADE_RETCODE_DONE", "TRADE_RETCODE_DONE_PARTIAL",
     "TRADE_RETCODE_NO_CHANGES"}
)  # fmt: skip

_SIMPLE: dict[str, type[MetaApiException]] = {
    "NotFoundError": NotFoundException,
    "NotSynchronizedError": NotSynchronizedException,
    "NotAuthenticatedError": NotConnectedException,
    "TimeoutError": TimeoutException,
    "UnauthorizedError": UnauthorizedException,
    "ForbiddenError": ForbiddenException,
}


def error_from_processing(data: dict[str, Any]) -> MetaApiException:
    """The exception a ``processingError`` packet stands for (unknown error names become InternalException)."""
    name = data.get("error")
    message = str(data.get("message") or name or "Request failed")
    if name == "ValidationError":
        return ValidationException(message, data.get("details"), status_code=None)
    if name == "TooManyRequestsError":
        return TooManyRequestsException(message, convert_dates(dict(data.get("metadata") or {})), status_code=None)
    if name == "TradeError":
        return TradeException(message, string_code=data.get("stringCode"), numeric_code=data.get("numericCode"))
    return _SIMPLE.get(name or "", InternalException)(message)  # type: ignore[call-arg]


def trade_result(response: dict[str, Any]) -> dict[str, Any]:
    """The inner trade ``response`` of an answer, or TradeException when its ``stringCode`` is not a success."""
    result = response.get("response")
    if not isinstance(result, dict):
        raise TradeException("The trade response carries no result")
    result.setdefault("numericCode", result.get("error"))
    result.setdefault("stringCode", result.get("description"))
    if result["stringCode"] not in TRADE_SUCCESS_CODES:
        message = str(result.get("message") or result["stringCode"] or "Trade failed")
        raise TradeException(message, string_code=result["stringCode"], numeric_code=result["numericCode"])
    return result
