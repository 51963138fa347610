"""MetaTrader trade return codes (protocol §6.5) and the rejection helper the broker raises."""

from __future__ import annotations

from ..errors import TradeError

#: stringCode -> numericCode of the codes the sandbox broker answers with.
CODES: dict[str, int] = {
    "TRADE_RETCODE_DONE": 10009,
    "TRADE_RETCODE_NO_CHANGES": 10025,
    "TRADE_RETCODE_INVALID": 10013,
    "TRADE_RETCODE_INVALID_VOLUME": 10014,
    "TRADE_RETCODE_INVALID_PRICE": 10015,
    "TRADE_RETCODE_INVALID_STOPS": 10016,
    "TRADE_RETCODE_TRADE_DISABLED": 10017,
    "TRADE_RETCODE_MARKET_CLOSED": 10018,
    "TRADE_RETCODE_NO_MONEY": 10019,
    "TRADE_RETCODE_INVALID_EXPIRATION": 10022,
    "TRADE_RETCODE_TOO_MANY_REQUESTS": 10024,
    "TRADE_RETCODE_INVALID_FILL": 10030,
    "TRADE_RETCODE_CONNECTION": 10031,
    "TRADE_RETCODE_INVALID_CLOSE_VOLUME": 10038,
    "TRADE_RETCODE_ORDER_TYPE_NOT_SUPPORTED": -4,
    "ERR_PIP_SIZE_NOT_DEFINED": -9,
    "ERR_TRADE_POSITION_NOT_FOUND": 4753,
    "ERR_TRADE_ORDER_NOT_FOUND": 4754,
}

#: Messages of the success codes.
_DONE_MESSAGES = {
    "TRADE_RETCODE_DONE": "Request completed",
    "TRADE_RETCODE_NO_CHANGES": "No changes",
}


def reject(string_code: str, message: str) -> TradeError:
    """The ``TradeError`` rejecting a trade with ``string_code`` (raise it; the hub sends a processingError)."""
    return TradeError(message, CODES[string_code], string_code)


def done(
    string_code: str = "TRADE_RETCODE_DONE", order_id: str | None = None, position_id: str | None = None
) -> dict[str, object]:
    """A success ``response`` object (§6.3) with the ids the trade created or changed."""
    response: dict[str, object] = {"numericCode": CODES[string_code], "stringCode": string_code,
                                   "message": _DONE_MESSAGES[string_code]}  # fmt: skip
    if order_id is not None:
        response["orderId"] = order_id
    if position_id is not None:
        response["positionId"] = position_id
    return response


#: MT5 stringCode -> the MQL4 code an MT4 account answers with instead (protocol §6.5, MT4 table); codes
#: without an MT4 counterpart (not found, pip size, order type) are MetaApi's and stay as they are.
_MT4: dict[str, tuple[str, int]] = {
    "TRADE_RETCODE_DONE": ("ERR_NO_ERROR", 0),
    "TRADE_RETCODE_NO_CHANGES": ("ERR_NO_ERROR", 0),
    "TRADE_RETCODE_INVALID": ("ERR_INVALID_TRADE_PARAMETERS", 3),
    "TRADE_RETCODE_INVALID_FILL": ("ERR_INVALID_TRADE_PARAMETERS", 3),
    "TRADE_RETCODE_INVALID_VOLUME": ("ERR_INVALID_TRADE_VOLUME", 131),
    "TRADE_RETCODE_INVALID_CLOSE_VOLUME": ("ERR_INVALID_TRADE_VOLUME", 131),
    "TRADE_RETCODE_INVALID_PRICE": ("ERR_INVALID_PRICE", 129),
    "TRADE_RETCODE_INVALID_STOPS": ("ERR_INVALID_STOPS", 130),
    "TRADE_RETCODE_MARKET_CLOSED": ("ERR_MARKET_CLOSED", 132),
    "TRADE_RETCODE_TRADE_DISABLED": ("ERR_TRADE_DISABLED", 133),
    "TRADE_RETCODE_NO_MONEY": ("ERR_NOT_ENOUGH_MONEY", 134),
    "TRADE_RETCODE_INVALID_EXPIRATION": ("ERR_TRADE_EXPIRATION_DENIED", 147),
    "TRADE_RETCODE_CONNECTION": ("ERR_NO_CONNECTION", 6),
    "TRADE_RETCODE_TOO_MANY_REQUESTS": ("ERR_TOO_FREQUENT_REQUESTS", 8),
}


def mt4_response(response: dict[str, object]) -> dict[str, object]:
    """A success response as an MT4 account answers it (``ERR_NO_ERROR``, 0)."""
    found = _MT4.get(str(response["stringCode"]))
    if found is None:
        return response
    return {**response, "numericCode": found[1], "stringCode": found[0], "message": "No error"}


def mt4_error(error: TradeError) -> TradeError:
    """A rejection as an MT4 account answers it (e.g. 131 ``ERR_INVALID_TRADE_VOLUME``)."""
    found = _MT4.get(str(error.extra["stringCode"]))
    return error if found is None else TradeError(error.message, found[1], found[0])
