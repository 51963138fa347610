"""The sandbox broker over the wire: market orders, closes, stops, pending orders, rejections and book-keeping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_realtime_helpers import WEEKDAY, Wire, on_server

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.timeutil import iso_ms

RPC = {"application": "RPC"}


@pytest.fixture
async def wire(box: SandboxHandle, sio_connect) -> Wire:
    wire = await Wire.connect(sio_connect, box)
    await wire.subscribe()
    await wire.synchronize()
    return wire


async def trade(wire: Wire, **fields: Any) -> dict[str, Any]:
    """A trade that must succeed: its response object."""
    return (await wire.ok("trade", trade=fields))["response"]


async def rejected(wire: Wire, **fields: Any) -> dict[str, Any]:
    """A trade that must be rejected: its processingError."""
    return await wire.error("trade", trade=fields)


async def state(wire: Wire) -> dict[str, Any]:
    """Everything a client can read back about the account."""
    span = {"startTime": "2000-01-01T00:00:00.000Z", "endTime": "2100-01-01T00:00:00.000Z"}
    return {
        "info": (await wire.ok("getAccountInformation", **RPC))["accountInformation"],
        "positions": (await wire.ok("getPositions", **RPC))["positions"],
        "orders": (await wire.ok("getOrders", **RPC))["orders"],
        "deals": (await wire.ok("getDealsByTimeRange", **span, **RPC))["deals"],
        "history": (await wire.ok("getHistoryOrdersByTimeRange", **span, **RPC))["historyOrders"],
    }


def assert_books_balance(now: dict[str, Any]) -> None:
    """balance = deposit + deal profits; equity = balance + floating profit (within rounding)."""
    info = now["info"]
    total = sum(d.get("profit", 0) + d.get("commission", 0) + d.get("swap", 0) for d in now["deals"])
    assert info["balance"] == pytest.approx(total, abs=0.011)
    floating = sum(round(p["unrealizedProfit"], 2) + round(p.get("swap", 0), 2) for p in now["positions"])
    assert info["equity"] == pytest.approx(info["balance"] + floating, abs=0.05)


async def test_buy_then_close_books_a_profit_that_adds_up(wire: Wire, box: SandboxHandle) -> None:
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="TE_open")
    assert opened["stringCode"] == "TRADE_RETCODE_DONE" and opened["numericCode"] == 10009
    position_id = opened["positionId"]
    assert position_id.isdigit()
    update = await wire.until(lambda: [p for p in wire.of_type("update") if p.get("updatedPositions")])
    assert (
        update[0]["updatedPositions"][0]["id"] == position_id and update[0]["deals"][0]["entryType"] == "DEAL_ENTRY_IN"
    )
    now = await state(wire)
    (position,) = now["positions"]
    assert position["type"] == "POSITION_TYPE_BUY" and position["volume"] == 0.1 and position["clientId"] == "TE_open"
    assert now["info"]["margin"] == pytest.approx(0.1 * 100000 * position["openPrice"] / 100, abs=0.5)
    assert now["history"][-1]["state"] == "ORDER_STATE_FILLED"
    assert_books_balance(now)

    partial = await trade(wire, actionType="POSITION_PARTIAL", positionId=position_id, volume=0.04)
    assert partial["positionId"] == position_id
    closed = await trade(wire, actionType="POSITION_CLOSE_ID", positionId=position_id)
    assert closed["stringCode"] == "TRADE_RETCODE_DONE"
    now = await state(wire)
    assert now["positions"] == [] and now["info"]["margin"] == 0
    outs = [d for d in now["deals"] if d.get("entryType") == "DEAL_ENTRY_OUT"]
    assert [d["volume"] for d in outs] == [0.04, 0.06] and all(d["type"] == "DEAL_TYPE_SELL" for d in outs)
    assert now["info"]["balance"] == pytest.approx(10000 + sum(d["profit"] for d in outs), abs=0.011)
    assert_books_balance(now)
    await wire.until(lambda: any(position_id in p.get("removedPositionIds", []) for p in wire.of_type("update")))


async def test_rejections_change_nothing(wire: Wire, box: SandboxHandle) -> None:
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.2)
    before = await state(wire)
    cases = [
        ({"volume": 0.001}, 10014, "TRADE_RETCODE_INVALID_VOLUME"),
        ({"volume": 0.015}, 10014, "TRADE_RETCODE_INVALID_VOLUME"),
        ({"volume": 1000}, 10014, "TRADE_RETCODE_INVALID_VOLUME"),
        ({"volume": 50}, 10019, "TRADE_RETCODE_NO_MONEY"),
        ({"volume": 0.1, "stopLoss": 5.0}, 10016, "TRADE_RETCODE_INVALID_STOPS"),
        ({"volume": 0.1, "takeProfit": 0.5}, 10016, "TRADE_RETCODE_INVALID_STOPS"),
    ]
    for extra, numeric, string in cases:
        answer = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", **extra)
        assert (answer["error"], answer["numericCode"], answer["stringCode"]) == ("TradeError", numeric, string), extra
    for action in ("POSITION_CLOSE_ID", "POSITION_MODIFY"):
        answer = await rejected(wire, actionType=action, positionId="999999")
        assert answer["numericCode"] == 4753 and answer["stringCode"] == "ERR_TRADE_POSITION_NOT_FOUND"
    answer = await rejected(wire, actionType="ORDER_CANCEL", orderId="999999")
    assert answer["numericCode"] == 4754
    for bad, field in [
        ({"symbol": "EURUSD", "volume": "lots"}, "trade.volume"),
        ({"symbol": "EURUSD", "volume": -1}, "trade.volume"),
        ({"symbol": "EURUSD", "volume": 0}, "trade.volume"),
        ({"symbol": "NOPE", "volume": 0.1}, "trade.symbol"),
        ({"symbol": "EURUSD", "volume": 0.1, "stopLoss": "x"}, "trade.stopLoss"),
    ]:
        answer = await rejected(wire, actionType="ORDER_TYPE_BUY", **bad)
        assert answer["error"] == "ValidationError" and field in str(answer), answer
    assert (await rejected(wire, actionType="GARBAGE"))["error"] == "ValidationError"
    after = await state(wire)
    for key in ("positions", "orders", "deals", "history"):
        assert after[key] == before[key] or key == "positions"
    assert [p["id"] for p in after["positions"]] == [p["id"] for p in before["positions"]]
    assert after["info"]["balance"] == before["info"]["balance"]


async def test_client_id_and_request_id_are_idempotent(wire: Wire, box: SandboxHandle) -> None:
    first = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="TE_once")
    again = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, clientId="TE_once")
    assert again == first
    call = {"trade": {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1}, "requestId": "samerequest"}
    one = (await wire.ok("trade", **call))["response"]
    wire.answers.pop("samerequest")
    two = (await wire.ok("trade", instanceIndex=1, **call))["response"]
    assert one == two
    assert len((await state(wire))["positions"]) == 2


async def test_stops_modify_and_close_by_symbol(wire: Wire, box: SandboxHandle) -> None:
    price = box.server.market.price("EURUSD")
    stops = {"stopLoss": round(price["ask"] + 0.01, 5), "takeProfit": 100, "takeProfitUnits": "RELATIVE_POINTS"}
    opened = await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1, **stops)
    (position,) = (await state(wire))["positions"]
    assert position["stopLoss"] == round(price["ask"] + 0.01, 5) and position["takeProfit"] < position["openPrice"]
    modified = await trade(wire, actionType="POSITION_MODIFY", positionId=opened["positionId"], stopLoss=0)
    assert modified["stringCode"] == "TRADE_RETCODE_DONE"
    same = await trade(wire, actionType="POSITION_MODIFY", positionId=opened["positionId"])
    assert same["stringCode"] == "TRADE_RETCODE_NO_CHANGES"
    bad = await rejected(wire, actionType="POSITION_MODIFY", positionId=opened["positionId"], stopLoss=0.5)
    assert bad["numericCode"] == 10016
    await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.3)
    await trade(wire, actionType="POSITIONS_CLOSE_SYMBOL", symbol="EURUSD")
    now = await state(wire)
    assert now["positions"] == []
    assert_books_balance(now)


async def test_pending_order_fills_and_stop_loss_closes(wire: Wire, box: SandboxHandle) -> None:
    market = box.server.market
    now = market.now_ms()
    market.force_path("EURUSD", [(now - 1000, 1.10000, 1.10010), (now + 600_000, 1.10000, 1.10010)])
    placed = await trade(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.095,
                         stopLoss=1.09)  # fmt: skip
    order_id = placed["orderId"]
    assert (await state(wire))["orders"][0]["id"] == order_id
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.2)
    assert bad["numericCode"] == 10015
    start = market.now_ms() + 300
    market.force_path(
        "EURUSD", [(start, 1.0940, 1.0941), (start + 300, 1.0850, 1.0851), (start + 10**7, 1.0850, 1.0851)]
    )
    await wire.until(lambda: any(d.get("reason") == "DEAL_REASON_SL" for p in wire.of_type("update")
                                 for d in p.get("deals", [])))  # fmt: skip
    final = await state(wire)
    assert final["orders"] == [] and final["positions"] == []
    filled = [o for o in final["history"] if o["id"] == order_id]
    assert filled[0]["state"] == "ORDER_STATE_FILLED" and filled[0]["type"] == "ORDER_TYPE_BUY_LIMIT"
    sl_deal = next(d for d in final["deals"] if d.get("reason") == "DEAL_REASON_SL")
    assert sl_deal["positionId"] == order_id and sl_deal["profit"] < 0
    assert_books_balance(final)


async def test_cancel_goes_to_history(wire: Wire, box: SandboxHandle) -> None:
    price = box.server.market.price("EURUSD")
    placed = await trade(wire, actionType="ORDER_TYPE_SELL_STOP", symbol="EURUSD", volume=0.1,
                         openPrice=round(price["bid"] - 0.02, 5))  # fmt: skip
    await trade(wire, actionType="ORDER_MODIFY", orderId=placed["orderId"], openPrice=round(price["bid"] - 0.03, 5))
    await trade(wire, actionType="ORDER_CANCEL", orderId=placed["orderId"])
    now = await state(wire)
    assert now["orders"] == []
    assert [o["state"] for o in now["history"] if o["id"] == placed["orderId"]] == ["ORDER_STATE_CANCELED"]


@pytest.fixture
def saturday(mtdata_sandbox_factory) -> SandboxHandle:
    """A sandbox whose market clock runs from a Saturday noon (FX closed)."""
    return mtdata_sandbox_factory(speed=1.0, start="2026-11-21T12:00:00Z")


async def test_market_closed_on_saturday(saturday: SandboxHandle, sio_connect) -> None:
    box = saturday
    wire = await Wire.connect(sio_connect, box)
    answer = await wire.error("trade", trade={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1})
    assert answer["numericCode"] == 10018 and answer["stringCode"] == "TRADE_RETCODE_MARKET_CLOSED"
    assert await on_server(box, _positions(box)) == []


async def _positions(box: SandboxHandle) -> list[Any]:
    return box.server.store.select("positions")


async def test_pending_order_expires(wire: Wire, box: SandboxHandle) -> None:
    market = box.server.market
    price = market.price("EURUSD")
    # the expiration must still be ahead when the server gets the trade: 2 s leaves a loaded machine time to send it
    # (with 0.3 s, a trade held up 0.3 s was refused as already expired)
    soon = market.now_ms() + 2000
    expiration = {"type": "ORDER_TIME_SPECIFIED", "time": iso_ms(soon)}
    placed = await trade(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1,
                         openPrice=round(price["ask"] - 0.01, 5), expiration=expiration)  # fmt: skip
    past = {"type": "ORDER_TIME_SPECIFIED", "time": iso_ms(market.now_ms() - 60_000)}
    late = await rejected(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.1,
                          openPrice=round(price["ask"] - 0.01, 5), expiration=past)  # fmt: skip
    assert late["numericCode"] == 10022
    # prices are held still, so no tick comes: the order expires all the same
    await wire.until(
        lambda: placed["orderId"] in [i for p in wire.of_type("update") for i in p.get("completedOrderIds", [])]
    )
    now = await state(wire)
    assert [o["state"] for o in now["history"] if o["id"] == placed["orderId"]] == ["ORDER_STATE_EXPIRED"]


async def test_stop_limit_becomes_a_limit_then_fills(wire: Wire, box: SandboxHandle) -> None:
    market = box.server.market
    now = market.now_ms()
    market.force_path("EURUSD", [(now - 1000, 1.10000, 1.10010), (now + 600_000, 1.10000, 1.10010)])
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.102,
                         stopLimitPrice=1.103)  # fmt: skip
    assert bad["numericCode"] == 10015
    placed = await trade(wire, actionType="ORDER_TYPE_BUY_STOP_LIMIT", symbol="EURUSD", volume=0.1, openPrice=1.102,
                         stopLimitPrice=1.101)  # fmt: skip
    start = market.now_ms() + 200
    path = [(start, 1.1025, 1.1026), (start + 400, 1.1005, 1.1006), (start + 10**7, 1.1005, 1.1006)]
    market.force_path("EURUSD", path)
    await wire.until(lambda: any(p["id"] == placed["orderId"] for u in wire.of_type("update")
                                 for p in u.get("updatedPositions", [])))  # fmt: skip
    now_state = await state(wire)
    assert [p["openPrice"] for p in now_state["positions"]] == [1.1006]
    (filled,) = [o for o in now_state["history"] if o["id"] == placed["orderId"]]
    assert filled["type"] == "ORDER_TYPE_BUY_LIMIT" and filled["state"] == "ORDER_STATE_FILLED"
    assert_books_balance(now_state)


async def test_trailing_stop_follows_the_price(mtdata_sandbox_factory, sio_connect) -> None:
    box = mtdata_sandbox_factory(speed=100.0, start=WEEKDAY)  # 15 simulated seconds between moves pass quickly
    market = box.server.market
    now = market.now_ms()
    market.force_path("EURUSD", [(now - 1000, 1.10000, 1.10010), (now + 10**9, 1.10000, 1.10010)])
    wire = await Wire.connect(sio_connect, box)
    trailing = {"distance": {"distance": 100, "units": "RELATIVE_POINTS"}}
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1,
                         trailingStopLoss={"distance": {"distance": -1}})  # fmt: skip
    assert bad["error"] == "ValidationError" and "trailingStopLoss.distance.distance" in str(bad)
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, trailingStopLoss=trailing)
    start = market.now_ms() + 20_000
    market.force_path(
        "EURUSD", [(now - 1000, 1.10000, 1.10010), (start, 1.10500, 1.10510), (start + 10**9, 1.105, 1.1051)]
    )
    for _ in range(600):
        (position,) = (await state(wire))["positions"]
        if position.get("stopLoss") == 1.104:
            break
        await asyncio.sleep(0.05)
    assert position["id"] == opened["positionId"] and position["stopLoss"] == 1.104
    assert position["trailingStopLoss"] == trailing


async def test_trade_response_carries_the_trade_timestamps(wire: Wire) -> None:
    answer = await wire.ok("trade", trade={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01})
    stamps = answer["timestamps"]
    assert list(stamps) == ["serverProcessingStarted", "tradeStarted", "tradeExecuted", "serverProcessingFinished"]
    assert stamps["serverProcessingStarted"] <= stamps["tradeStarted"] <= stamps["tradeExecuted"]
    assert stamps["tradeExecuted"] <= stamps["serverProcessingFinished"]
