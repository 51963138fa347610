"""Property test: random sequences of valid and invalid trades (relative units, price bases, trailing stops,
filling modes, commission; NaN, ±Infinity and integers past 64 bits in number fields) keep the books balanced;
rejections change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_broker_market import assert_books_balance, state
from test_realtime_helpers import WEEKDAY, Wire, freeze

#: Stands for an open position / pending order of the account (unknown when strategies are built).
HELD = "<held>"
volumes = st.sampled_from([0.01, 0.1, 0.3])
stops = st.sampled_from([None, 0, 0.5, 5.0, 20, 150.0])
units = st.sampled_from([None, "ABSOLUTE_PRICE", "RELATIVE_PRICE", "RELATIVE_POINTS", "RELATIVE_PIPS",
                         "RELATIVE_CURRENCY", "RELATIVE_BALANCE_PERCENTAGE"])  # fmt: skip
stop_bases = st.sampled_from([None, None, None, "CURRENT_PRICE", "OPEN_PRICE", "STOP_PRICE"])
open_bases = st.sampled_from([None, None, None, "CURRENT_PRICE", "OPEN_PRICE", "STOP_LIMIT_PRICE"])
limit_bases = st.sampled_from([None, None, None, "CURRENT_PRICE", "STOP_LIMIT_PRICE"])
trailing = st.sampled_from([
    None,
    {"distance": {"distance": 20, "units": "RELATIVE_PIPS"}},
    {"distance": {"distance": 5, "units": "RELATIVE_CURRENCY"}},
    {"threshold": {"thresholds": [{"threshold": 10, "stopLoss": 2}], "units": "RELATIVE_PIPS"}},
    {"threshold": {"thresholds": [{"threshold": 1, "stopLoss": 0.5}], "stopPriceBase": "CURRENT_PRICE",
                   "units": "RELATIVE_BALANCE_PERCENTAGE"}, "distance": {"distance": 0.01}},
])  # fmt: skip
fillings = st.sampled_from([None, ["ORDER_FILLING_IOC"], ["ORDER_FILLING_RETURN"],
                            ["ORDER_FILLING_RETURN", "ORDER_FILLING_FOK"]])  # fmt: skip
open_prices = st.sampled_from([0.5, 1.0, 5.0, 100.0, -20, 20, 50])
symbols = st.sampled_from(["EURUSD", "USDJPY", "XAUUSD"])
tickets = st.sampled_from([HELD, HELD, "999999"])
#: The optional stop fields of a trade that opens or changes a position or order.
STOPS = {"stopLoss": stops, "stopLossUnits": units, "takeProfit": stops, "takeProfitUnits": units,
         "stopPriceBase": stop_bases, "trailingStopLoss": trailing}  # fmt: skip
PLACED = {"symbol": symbols, "volume": volumes, "openPrice": open_prices}
PENDING = {"openPriceUnits": units, "openPriceBase": open_bases, "fillingModes": fillings, **STOPS}
LIMITS = {"stopLimitPriceUnits": units, "stopLimitPriceBase": limit_bases}
#: Numbers no field takes (NaN and Infinity travel as JSON tokens).
ODD_NUMBERS = [float("nan"), float("inf"), float("-inf"), 2**64, -(2**64), 10**30]
#: Values no field may take: one of them replaces a field of a sound trade.
GARBAGE = [("volume", v) for v in (0, -1, "x", 1000, 0.015, None)] + [
    ("stopLoss", "x"), ("stopLoss", -3), ("takeProfitUnits", "RELATIVE_MILES"), ("stopPriceBase", "NOWHERE"),
    ("trailingStopLoss", {"threshold": {"thresholds": []}}), ("trailingStopLoss", {"distance": {"distance": -1}}),
    ("trailingStopLoss", "x"), ("fillingModes", ["NOPE"]), ("fillingModes", "x"), ("openPrice", "x"),
    ("openPrice", 0), ("openPriceUnits", 7), ("symbol", "NOPE"), ("positionId", "abc"), ("orderId", "abc"),
] + [(name, odd) for name in ("volume", "stopLoss", "takeProfit", "openPrice", "stopLimitPrice", "magic")
     for odd in ODD_NUMBERS] + [
    ("trailingStopLoss", {"distance": {"distance": odd}}) for odd in ODD_NUMBERS
]  # fmt: skip


def _trade(action: str, required: dict[str, st.SearchStrategy], **optional: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({"actionType": st.just(action), **required}, optional=optional)


sound = st.one_of(
    _trade("ORDER_TYPE_BUY", {"symbol": symbols, "volume": volumes}, fillingModes=fillings, **STOPS),
    _trade("ORDER_TYPE_SELL", {"symbol": symbols, "volume": volumes}, fillingModes=fillings, **STOPS),
    _trade("POSITION_CLOSE_ID", {"positionId": tickets}, fillingModes=fillings),
    _trade("POSITION_PARTIAL", {"positionId": tickets, "volume": volumes}),
    _trade("POSITIONS_CLOSE_SYMBOL", {"symbol": symbols}),
    _trade("POSITION_MODIFY", {"positionId": tickets}, **STOPS),
    _trade("ORDER_TYPE_BUY_LIMIT", PLACED, **PENDING),
    _trade("ORDER_TYPE_SELL_STOP", PLACED, **PENDING),
    _trade("ORDER_TYPE_BUY_STOP_LIMIT", {**PLACED, "stopLimitPrice": open_prices}, **PENDING, **LIMITS),
    _trade(
        "ORDER_MODIFY",
        {"orderId": tickets, "openPrice": open_prices},
        openPriceUnits=units,
        openPriceBase=open_bases,
        stopLimitPrice=open_prices,
        **LIMITS,
        **STOPS,
    ),
    _trade("ORDER_CANCEL", {"orderId": tickets}),
)
spoiled = st.tuples(sound, st.sampled_from(GARBAGE)).map(lambda pair: {**pair[0], pair[1][0]: pair[1][1]})
trades = st.one_of(sound, sound, sound, spoiled)


@pytest.fixture
async def wire(mtdata_sandbox_factory, sio_connect) -> Wire:
    """A wire on a sandbox that charges commission, prices held still."""
    box = mtdata_sandbox_factory(speed=1.0, start=WEEKDAY, commission_per_lot=3.5)
    freeze(box)
    return await Wire.connect(sio_connect, box)


def _book(now: dict[str, Any]) -> tuple[Any, ...]:
    """What a rejected trade must leave as it was."""
    return (
        sorted(
            (p["id"], p["volume"], p.get("stopLoss"), p.get("takeProfit"), str(p.get("trailingStopLoss")))
            for p in now["positions"]
        ),
        sorted(
            (o["id"], o["openPrice"], o.get("stopLimitPrice"), o.get("stopLoss"), o.get("takeProfit"))
            for o in now["orders"]
        ),
        [d["id"] for d in now["deals"]],
        [o["id"] for o in now["history"]],
        now["info"]["balance"],
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(trades, min_size=1, max_size=8))
async def test_random_trades_keep_the_books(wire: Wire, batch: list[dict[str, Any]]) -> None:
    before = await state(wire)
    for trade in batch:
        held = {"positionId": [p["id"] for p in before["positions"]], "orderId": [o["id"] for o in before["orders"]]}
        trade = {k: (held[k][0] if held.get(k) else "999998") if v == HELD else v for k, v in trade.items()}
        trade = {k: v for k, v in trade.items() if v is not None or k == "volume"}
        kind, answer = await wire.call("trade", trade=trade)
        after = await state(wire)
        if kind == "processingError":
            assert answer["error"] in ("TradeError", "ValidationError"), answer
            assert _book(after) == _book(before), (trade, answer)
        else:
            assert answer["response"]["stringCode"] in ("TRADE_RETCODE_DONE", "TRADE_RETCODE_NO_CHANGES"), answer
        assert_books_balance(after)
        before = after
