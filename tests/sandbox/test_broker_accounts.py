"""Account-level broker rules over the wire: commission, hedged margin, a pending order that fills without the
money for it, and the MQL4 return codes of MT4 accounts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_broker_market import assert_books_balance, rejected, state, trade
from test_realtime_helpers import WEEKDAY, Wire, add_account, freeze

from mtdata.sandbox import SandboxHandle


async def _account(box: SandboxHandle, sio_connect, balance: float | None = None, **fields: Any) -> Wire:
    """A wire on a fresh account of the sandbox (``balance``: its starting balance)."""
    wire = await Wire.connect(sio_connect, box)
    wire.account_id = add_account(box, **fields)
    if balance is not None:
        doc = box.server.store.get("accounts", wire.account_id)
        doc["_trading"]["balance"] = balance
        box.server.store.put("accounts", wire.account_id, doc)
    return wire


async def test_commission_per_lot_is_charged_on_every_deal(mtdata_sandbox_factory, sio_connect) -> None:
    box = mtdata_sandbox_factory(speed=1.0, start=WEEKDAY, commission_per_lot=7.0)
    freeze(box)
    wire = await Wire.connect(sio_connect, box)
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.5)
    now = await state(wire)
    (position,) = now["positions"]
    assert position["commission"] == -3.5 and now["info"]["balance"] == 10000 - 3.5
    await trade(wire, actionType="POSITION_PARTIAL", positionId=opened["positionId"], volume=0.2)
    (position,) = (await state(wire))["positions"]
    assert position["commission"] == -4.9
    await trade(wire, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"])
    now = await state(wire)
    assert [d["commission"] for d in now["deals"] if "entryType" in d] == [-3.5, -1.4, -2.1]
    profits = sum(d["profit"] for d in now["deals"] if "entryType" in d)
    assert now["info"]["balance"] == pytest.approx(10000 + profits - 7.0, abs=0.011)
    assert_books_balance(now)


async def test_opposite_positions_margin_the_larger_side(box: SandboxHandle, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, box)
    await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.3)
    one_side = (await state(wire))["info"]["margin"]
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1)
    assert (await state(wire))["info"]["margin"] == one_side
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.5)
    now = await state(wire)
    sells = [p for p in now["positions"] if p["type"] == "POSITION_TYPE_SELL"]
    sell_margin = sum(0.01 * p["volume"] * 100000 * p["openPrice"] for p in sells)  # leverage 100
    assert now["info"]["margin"] == pytest.approx(sell_margin, abs=0.02) and sell_margin > one_side


async def test_pending_order_without_money_is_canceled_when_it_triggers(box: SandboxHandle, sio_connect) -> None:
    wire = await _account(box, sio_connect, balance=1000.0)
    await wire.subscribe()
    await wire.synchronize()
    market = box.server.market
    price = market.price("EURUSD")
    placed = await trade(
        wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=5, openPrice=round(price["ask"] - 0.001, 5)
    )  # fmt: skip  (5500 USD of margin at 1:100)
    before = await state(wire)
    start = market.now_ms() + 200
    lower = (round(price["bid"] - 0.002, 5), round(price["ask"] - 0.002, 5))
    market.force_path("EURUSD", [(start - 2000, price["bid"], price["ask"]), (start, *lower), (start + 10**9, *lower)])
    await wire.until(lambda: any(placed["orderId"] in u.get("completedOrderIds", []) for u in wire.of_type("update")))
    now = await state(wire)
    assert now["orders"] == [] and now["positions"] == [] and now["deals"] == before["deals"]
    (done,) = [o for o in now["history"] if o["id"] == placed["orderId"]]
    assert (done["state"], done["comment"], done["reason"]) == ("ORDER_STATE_CANCELED", "[no money]",
                                                                 "ORDER_REASON_EXPERT")  # fmt: skip
    assert now["info"]["balance"] == 1000.0


async def test_mt4_accounts_answer_with_mql4_codes(box: SandboxHandle, sio_connect) -> None:
    wire = await _account(box, sio_connect, platform="mt4")
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1)
    assert (opened["numericCode"], opened["stringCode"], opened["message"]) == (0, "ERR_NO_ERROR", "No error")
    cases = [
        ({"volume": 0.001}, 131, "ERR_INVALID_TRADE_VOLUME"),
        ({"volume": 0.1, "stopLoss": 5.0}, 130, "ERR_INVALID_STOPS"),
        ({"volume": 90}, 134, "ERR_NOT_ENOUGH_MONEY"),
        ({"volume": 0.1, "fillingModes": ["ORDER_FILLING_RETURN"]}, 3, "ERR_INVALID_TRADE_PARAMETERS"),
    ]
    for extra, numeric, string in cases:
        answer = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", **extra)
        assert (answer["numericCode"], answer["stringCode"]) == (numeric, string), extra
    stop_limit = await rejected(wire, actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1,
                                openPrice=1.5, stopLimitPrice=1.4)  # fmt: skip
    assert stop_limit["stringCode"] == "TRADE_RETCODE_ORDER_TYPE_NOT_SUPPORTED" and stop_limit["numericCode"] == -4
    day = await rejected(wire, actionType="ORDER_TYPE_SELL_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.5,
                         expiration={"type": "ORDER_TIME_DAY"})  # fmt: skip
    assert (day["numericCode"], day["stringCode"]) == (147, "ERR_TRADE_EXPIRATION_DENIED")
    closed = await trade(wire, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"])
    assert closed["stringCode"] == "ERR_NO_ERROR"
    assert (await state(wire))["positions"] == []


async def test_mt4_market_closed(mtdata_sandbox_factory, sio_connect) -> None:
    box = mtdata_sandbox_factory(speed=1.0, start="2026-11-21T12:00:00Z")  # a Saturday
    wire = await _account(box, sio_connect, platform="mt4")
    answer = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1)
    assert (answer["numericCode"], answer["stringCode"]) == (132, "ERR_MARKET_CLOSED")


async def test_trades_sent_too_fast_are_refused_and_change_nothing(mtdata_sandbox_factory, sio_connect) -> None:
    box = mtdata_sandbox_factory(speed=1.0, start=WEEKDAY, max_trades_per_second=0.05)  # one per 20 s
    freeze(box)
    wire = await Wire.connect(sio_connect, box)
    buy = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1}
    answers = await asyncio.gather(*(wire.call("trade", trade=buy) for _ in range(6)))
    refused = [answer for kind, answer in answers if kind == "processingError"]
    assert len(refused) == 5, answers  # a burst of one, then nothing for 20 s
    assert {(r["numericCode"], r["stringCode"]) for r in refused} == {(10024, "TRADE_RETCODE_TOO_MANY_REQUESTS")}
    now = await state(wire)
    assert len(now["positions"]) == 1
    assert_books_balance(now)
    mt4 = await _account(box, sio_connect, platform="mt4")  # every account has its own pace
    await trade(mt4, **buy)
    error = await rejected(mt4, **buy)
    assert (error["numericCode"], error["stringCode"]) == (8, "ERR_TOO_FREQUENT_REQUESTS")
