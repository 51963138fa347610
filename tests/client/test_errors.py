"""The seed's exception signatures (and the official SDK's) build exceptions with the right attributes."""

from __future__ import annotations

import pytest

from mtdata.client.transport.errors import error_from_processing, trade_result
from mtdata.errors import MetaApiException, TooManyRequestsException, TradeException, ValidationException


def test_trade_exception_seed_and_official_orders() -> None:
    seed = TradeException("rejected", "TRADE_RETCODE_REJECT")
    assert (seed.string_code, seed.numeric_code) == ("TRADE_RETCODE_REJECT", None)
    official = TradeException("rejected", 10006, "TRADE_RETCODE_REJECT")
    assert (official.string_code, official.numeric_code) == ("TRADE_RETCODE_REJECT", 10006)
    assert (official.stringCode, official.numericCode) == ("TRADE_RETCODE_REJECT", 10006)
    only_number = TradeException("rejected", 10006)
    assert (only_number.string_code, only_number.numeric_code) == (None, 10006)
    keywords = TradeException("rejected", string_code="TRADE_RETCODE_NO_MONEY", numeric_code=10019)
    assert (keywords.stringCode, keywords.numericCode) == ("TRADE_RETCODE_NO_MONEY", 10019)
    assert isinstance(seed, MetaApiException) and seed.message == "rejected"


def test_too_many_requests_and_validation_positional() -> None:
    limited = TooManyRequestsException("slow down", {"recommendedRetryTime": "2026-01-01T00:00:00Z"})
    assert limited.metadata == {"recommendedRetryTime": "2026-01-01T00:00:00Z"} and limited.status_code == 429
    details = [{"parameter": "volume", "value": "0", "message": "must be positive"}]
    invalid = ValidationException("bad volume", details)
    assert invalid.details == details and invalid.status_code == 400


def test_trade_errors_from_the_wire_carry_both_codes() -> None:
    error = error_from_processing({"error": "TradeError", "message": "no money", "numericCode": 10019,
                               "stringCode": "TRADE_RETCODE_NO_MONEY"})  # fmt: skip
    assert isinstance(error, TradeException)
    assert (error.string_code, error.numericCode) == ("TRADE_RETCODE_NO_MONEY", 10019)
    with pytest.raises(TradeException) as raised:
        trade_result({"response": {"error": 10006, "description": "TRADE_RETCODE_REJECT", "message": "rejected"}})
    assert (raised.value.stringCode, raised.value.numeric_code) == ("TRADE_RETCODE_REJECT", 10006)
