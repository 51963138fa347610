"""Relative units of trade prices over the wire: money and balance-percentage stops, price bases, relative
open and stop-limit prices, pip sizes, filling modes."""

from __future__ import annotations

from typing import Any

import pytest
from test_broker_market import assert_books_balance, rejected, state, trade
from test_realtime_helpers import Wire

from mtdata.sandbox import SandboxHandle


@pytest.fixture
async def wire(box: SandboxHandle, sio_connect) -> Wire:
    return await Wire.connect(sio_connect, box)


def _quote(box: SandboxHandle, symbol: str) -> dict[str, Any]:
    return box.server.market.price(symbol)


async def test_money_and_balance_stops_lose_and_win_that_amount(wire: Wire, box: SandboxHandle) -> None:
    for symbol in ("EURUSD", "USDJPY"):
        price = _quote(box, symbol)
        spec = box.server.market.specification(symbol)
        opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol=symbol, volume=0.1, stopLoss=50,
                             stopLossUnits="RELATIVE_CURRENCY", takeProfit=1,
                             takeProfitUnits="RELATIVE_BALANCE_PERCENTAGE")  # fmt: skip
        (position,) = [p for p in (await state(wire))["positions"] if p["id"] == opened["positionId"]]
        per_price = 0.1 * price["profitTickValue"] / spec["tickSize"]  # account currency per 1.0 of price
        assert position["openPrice"] == price["ask"]
        assert (position["openPrice"] - position["stopLoss"]) * per_price == pytest.approx(50, rel=0.01)
        assert (position["takeProfit"] - position["openPrice"]) * per_price == pytest.approx(100, rel=0.01)
    assert_books_balance(await state(wire))


async def test_price_bases_of_market_orders_and_position_modify(wire: Wire, box: SandboxHandle) -> None:
    price = _quote(box, "EURUSD")
    bad = await rejected(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1, stopLoss=10,
                         stopLossUnits="RELATIVE_PIPS", stopPriceBase="OPEN_PRICE")  # fmt: skip
    assert bad["error"] == "ValidationError" and "trade.stopPriceBase" in str(bad)
    bad = await rejected(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1, stopLoss=10,
                         stopLossUnits="RELATIVE_MILES")  # fmt: skip
    assert bad["error"] == "ValidationError" and "trade.stopLossUnits" in str(bad)
    opened = await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1, stopLoss=10,
                         stopLossUnits="RELATIVE_PIPS", stopPriceBase="CURRENT_PRICE")  # fmt: skip
    (position,) = (await state(wire))["positions"]
    assert position["stopLoss"] == round(price["bid"] + 0.001, 5)
    position_id = opened["positionId"]
    await trade(wire, actionType="POSITION_MODIFY", positionId=position_id, takeProfit=200,
                takeProfitUnits="RELATIVE_POINTS", stopPriceBase="CURRENT_PRICE")  # fmt: skip
    (position,) = (await state(wire))["positions"]
    assert position["takeProfit"] == round(price["ask"] - 0.002, 5)  # a sell closes at the ask
    await trade(wire, actionType="POSITION_MODIFY", positionId=position_id, takeProfit=30,
                takeProfitUnits="RELATIVE_PIPS")  # fmt: skip
    (position,) = (await state(wire))["positions"]
    assert position["takeProfit"] == round(price["bid"] - 0.003, 5) and position["stopLoss"] == round(
        price["bid"] + 0.001, 5
    )


async def test_pips_without_a_pip_size_are_refused(wire: Wire, box: SandboxHandle) -> None:
    box.server.hub.terminal.quotes.specification("XAUUSD")["pipSize"] = None  # a broker that defines no pips
    for extra in ({"stopLoss": 10, "stopLossUnits": "RELATIVE_PIPS"},
                  {"trailingStopLoss": {"distance": {"distance": 5, "units": "RELATIVE_PIPS"}}}):  # fmt: skip
        bad = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="XAUUSD", volume=0.1, **extra)
        assert (bad["numericCode"], bad["stringCode"]) == (-9, "ERR_PIP_SIZE_NOT_DEFINED")
    assert (await state(wire))["positions"] == []


async def test_relative_open_prices_and_stop_bases_of_pending_orders(wire: Wire, box: SandboxHandle) -> None:
    ask = _quote(box, "EURUSD")["ask"]
    placed = await trade(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=-20,
                         openPriceUnits="RELATIVE_PIPS", stopLoss=30, stopLossUnits="RELATIVE_PIPS", takeProfit=5,
                         takeProfitUnits="RELATIVE_PIPS", stopPriceBase="CURRENT_PRICE")  # fmt: skip
    (order,) = (await state(wire))["orders"]
    assert order["openPrice"] == round(ask - 0.002, 5) and order["takeProfit"] == round(ask + 0.0005, 5)
    assert order["stopLoss"] == round(ask - 0.003, 5)  # both relative to the current price
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=20,
                         openPriceUnits="RELATIVE_PIPS")  # fmt: skip
    assert bad["numericCode"] == 10015  # above the market: not a buy limit
    await trade(wire, actionType="ORDER_MODIFY", orderId=placed["orderId"], openPrice=-5,
                openPriceUnits="RELATIVE_PIPS", openPriceBase="OPEN_PRICE", stopLoss=10,
                stopLossUnits="RELATIVE_PIPS")  # fmt: skip
    (order,) = (await state(wire))["orders"]
    assert order["openPrice"] == round(ask - 0.0025, 5) and order["stopLoss"] == round(ask - 0.0035, 5)
    assert order["takeProfit"] == round(ask + 0.0005, 5)


async def test_stop_limit_prices_relative_and_modified(wire: Wire, box: SandboxHandle) -> None:
    ask = _quote(box, "EURUSD")["ask"]
    placed = await trade(wire, actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1,
                         stopLimitPrice=10, stopLimitPriceUnits="RELATIVE_PIPS", openPrice=5,
                         openPriceUnits="RELATIVE_PIPS", openPriceBase="STOP_LIMIT_PRICE", stopLoss=10,
                         stopLossUnits="RELATIVE_PIPS", stopPriceBase="STOP_PRICE")  # fmt: skip
    (order,) = (await state(wire))["orders"]
    assert order["stopLimitPrice"] == round(ask + 0.001, 5) and order["openPrice"] == round(ask + 0.0015, 5)
    assert order["stopLoss"] == round(ask + 0.0005, 5)  # 10 pips below the stop price
    order_id = placed["orderId"]
    await trade(wire, actionType="ORDER_MODIFY", orderId=order_id, openPrice=order["openPrice"],
                stopLimitPrice=-2, stopLimitPriceUnits="RELATIVE_PIPS",
                stopLimitPriceBase="STOP_LIMIT_PRICE")  # fmt: skip
    (order,) = (await state(wire))["orders"]
    assert order["stopLimitPrice"] == round(ask + 0.0008, 5) and order["stopLoss"] == round(ask + 0.0005, 5)
    await trade(
        wire,
        actionType="ORDER_MODIFY",
        orderId=order_id,
        openPrice=order["openPrice"],
        stopLimitPrice=round(ask + 0.0012, 5),
    )
    (order,) = (await state(wire))["orders"]
    assert order["stopLimitPrice"] == round(ask + 0.0012, 5)
    beyond = await rejected(wire, actionType="ORDER_MODIFY", orderId=order_id, openPrice=order["openPrice"],
                            stopLimitPrice=round(ask + 0.002, 5))  # fmt: skip
    assert beyond["numericCode"] == 10015
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1,
                         openPriceUnits="RELATIVE_PIPS", stopLimitPrice=1.2, openPriceBase="OPEN_PRICE")  # fmt: skip
    assert bad["error"] == "ValidationError" and "trade.openPriceBase" in str(bad)


async def test_filling_modes_follow_the_symbol(wire: Wire, box: SandboxHandle) -> None:
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                         fillingModes=["ORDER_FILLING_RETURN"])  # fmt: skip
    assert (bad["numericCode"], bad["stringCode"]) == (10030, "TRADE_RETCODE_INVALID_FILL")
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, fillingModes=["NOPE"])
    assert bad["error"] == "ValidationError" and "trade.fillingModes[0]" in str(bad)
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                         fillingModes=["ORDER_FILLING_RETURN", "ORDER_FILLING_IOC"])  # fmt: skip
    now = await state(wire)
    (order,) = [o for o in now["history"] if o["id"] == opened["orderId"]]
    assert order["fillingMode"] == "ORDER_FILLING_IOC"
    await trade(wire, actionType="ORDER_TYPE_SELL_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.5)
    assert (await state(wire))["orders"][0]["fillingMode"] == "ORDER_FILLING_RETURN"
