"""Property test: random sequences of valid and invalid trades keep the books balanced; rejections change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_broker_market import assert_books_balance, state
from test_realtime_helpers import Wire

from mtdata.sandbox import SandboxHandle

#: Stands for an open position / pending order of the account (unknown when strategies are built).
HELD = "<held>"
volumes = st.sampled_from([0.01, 0.1, 0.3, 0.015, 0, -1, 1000, 60, "x", None])
stops = st.sampled_from([None, 0, 0.5, 5.0, 150.0, "x"])
symbols = st.sampled_from(["EURUSD", "USDJPY", "XAUUSD", "NOPE"])
tickets = st.sampled_from([HELD, HELD, "999999", "abc"])


def _trade(action: str, **fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({"actionType": st.just(action)}, optional=fields)


trades = st.one_of(
    _trade("ORDER_TYPE_BUY", symbol=symbols, volume=volumes, stopLoss=stops, takeProfit=stops),
    _trade("ORDER_TYPE_SELL", symbol=symbols, volume=volumes, stopLoss=stops, takeProfit=stops),
    _trade("POSITION_CLOSE_ID", positionId=tickets),
    _trade("POSITION_PARTIAL", positionId=tickets, volume=volumes),
    _trade("POSITIONS_CLOSE_SYMBOL", symbol=symbols),
    _trade("POSITION_MODIFY", positionId=tickets, stopLoss=stops, takeProfit=stops),
    _trade("ORDER_TYPE_BUY_LIMIT", symbol=symbols, volume=volumes, openPrice=st.sampled_from([0.5, 1.0, 5.0, 100.0])),
    _trade("ORDER_TYPE_SELL_STOP", symbol=symbols, volume=volumes, openPrice=st.sampled_from([0.5, 1.0, 5.0])),
    _trade("ORDER_CANCEL", orderId=tickets),
)


@pytest.fixture
async def wire(box: SandboxHandle, sio_connect) -> Wire:
    return await Wire.connect(sio_connect, box)


def _book(now: dict[str, Any]) -> tuple[Any, ...]:
    """What a rejected trade must leave as it was."""
    return (
        sorted((p["id"], p["volume"], p.get("stopLoss"), p.get("takeProfit")) for p in now["positions"]),
        sorted((o["id"], o["openPrice"]) for o in now["orders"]),
        [d["id"] for d in now["deals"]],
        [o["id"] for o in now["history"]],
        now["info"]["balance"],
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(trades, min_size=1, max_size=8))
async def test_random_trades_keep_the_books(wire: Wire, batch: list[dict[str, Any]]) -> None:
    before = await state(wire)
    for trade in batch:
        held = {"positionId": [p["id"] for p in before["positions"]], "orderId": [o["id"] for o in before["orders"]]}
        trade = {k: (held[k][0] if held.get(k) else "999998") if v == HELD else v for k, v in trade.items()}
        trade = {k: v for k, v in trade.items() if v is not None}
        kind, answer = await wire.call("trade", trade=trade)
        after = await state(wire)
        if kind == "processingError":
            assert answer["error"] in ("TradeError", "ValidationError"), answer
            assert _book(after) == _book(before), (trade, answer)
        else:
            assert answer["response"]["stringCode"] in ("TRADE_RETCODE_DONE", "TRADE_RETCODE_NO_CHANGES"), answer
        assert_books_balance(after)
        before = after
