"""MetaTrader trade return codes (spec §6.5) and the rejection helper the broker raises."""

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
    "TRADE_RETCODE_INVALID_FILL": 10030,
    "TRADE_RETCODE_CONNECTION": 10031,
    "TRADE_RETCODE_INVALID_CLOSE_VOLUME": 10038,
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
