"""Netting accounts (merge, partial close, reverse), close-by on hedging accounts, stop-out and swap at rollover."""

from __future__ import annotations

import asyncio
import math

import pytest
from test_broker_market import assert_books_balance, state, trade
from test_realtime_helpers import Wire, add_account, freeze

from mtdata.sandbox import SandboxHandle


@pytest.fixture
async def netting(box: SandboxHandle, sio_connect) -> Wire:
    """A wire on a fresh netting account."""
    wire = await Wire.connect(sio_connect, box)
    wire.account_id = add_account(box)
    doc = box.server.store.get("accounts", wire.account_id)
    doc["_trading"]["marginMode"] = "ACCOUNT_MARGIN_MODE_RETAIL_NETTING"
    box.server.store.put("accounts", wire.account_id, doc)
    return wire


async def test_netting_merges_reduces_and_reverses(netting: Wire) -> None:
    wire = netting
    first = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1)
    second = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.2)
    assert second["positionId"] == first["positionId"]
    (position,) = (await state(wire))["positions"]
    assert position["volume"] == pytest.approx(0.3) and position["type"] == "POSITION_TYPE_BUY"
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1)
    (position,) = (await state(wire))["positions"]
    assert position["volume"] == pytest.approx(0.2)
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.5)
    now = await state(wire)
    (position,) = now["positions"]
    assert position["type"] == "POSITION_TYPE_SELL" and position["volume"] == pytest.approx(0.3)
    assert position["id"] == first["positionId"]
    entries = [d["entryType"] for d in now["deals"] if "entryType" in d]
    assert entries == ["DEAL_ENTRY_IN", "DEAL_ENTRY_IN", "DEAL_ENTRY_OUT", "DEAL_ENTRY_INOUT"]
    assert_books_balance(now)
    await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.3)
    now = await state(wire)
    assert now["positions"] == []
    assert_books_balance(now)


async def test_close_by_on_hedging(box: SandboxHandle, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, box)
    buy = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.3)
    sell = await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1)
    other = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="GBPUSD", volume=0.1)
    same_side = await wire.error("trade", trade={"actionType": "POSITION_CLOSE_BY", "positionId": buy["positionId"],
                                                 "closeByPositionId": other["positionId"]})  # fmt: skip
    assert same_side["numericCode"] == 10013
    await trade(
        wire, actionType="POSITION_CLOSE_BY", positionId=buy["positionId"], closeByPositionId=sell["positionId"]
    )
    now = await state(wire)
    left = {p["id"]: p["volume"] for p in now["positions"]}
    assert left == {buy["positionId"]: pytest.approx(0.2), other["positionId"]: 0.1}
    assert [d["entryType"] for d in now["deals"] if d.get("entryType") == "DEAL_ENTRY_OUT_BY"] == [
        "DEAL_ENTRY_OUT_BY"
    ] * 2
    assert any(o["type"] == "ORDER_TYPE_CLOSE_BY" for o in now["history"])
    assert_books_balance(now)


async def test_stop_out_closes_the_losing_position(box: SandboxHandle, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, box)
    wire.account_id = add_account(box)
    doc = box.server.store.get("accounts", wire.account_id)
    doc["_trading"]["balance"] = 1000.0
    box.server.store.put("accounts", wire.account_id, doc)
    await wire.subscribe()
    await wire.synchronize()
    market = box.server.market
    # about 95 % of the balance as margin, whatever the (seeded) price: a 0.01 fall then costs ~90 % of it
    leverage = doc["_trading"].get("leverage", 100)
    volume = math.floor(950 * leverage / (100_000 * market.price("EURUSD")["ask"]) * 100) / 100
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=volume)
    price, start = market.price("EURUSD"), market.now_ms() + 200
    bid, ask = price["bid"] - 0.01, price["ask"] - 0.01
    market.force_path(
        "EURUSD", [(start - 1000, price["bid"], price["ask"]), (start, bid, ask), (start + 10**9, bid, ask)]
    )
    stopped_out = lambda: [d for u in wire.of_type("update") for d in u.get("deals", [])  # noqa: E731
                           if d.get("reason") == "DEAL_REASON_SO"]  # fmt: skip
    await wire.until(stopped_out, timeout=60)  # the stop-out packet is sent after its transaction commits
    now = await state(wire)
    assert now["positions"] == []
    (so,) = [d for d in now["deals"] if d.get("reason") == "DEAL_REASON_SO"]
    assert so["positionId"] == opened["positionId"] and so["profit"] < -0.0089 * volume * 100_000  # -800 for 0.9
    assert now["info"]["balance"] == pytest.approx(1000 + so["profit"], abs=0.011)
    assert_books_balance(now)


async def test_swap_at_rollover(mtdata_sandbox_factory, sio_connect) -> None:
    # Wednesday 23:58 broker time (UTC+2 in November); EURUSD rolls over three nights on Wednesday. The position
    # must open before midnight: 120 simulated seconds are 1.2 s of wall time for connecting and trading (from
    # 23:59:30, 0.3 s, which a loaded machine can take; a position opened after midnight gets no swap)
    box = mtdata_sandbox_factory(speed=100.0, start="2026-11-18T21:58:00Z")
    freeze(box, ("EURUSD",))
    wire = await Wire.connect(sio_connect, box)
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=1.0)
    for _ in range(600):
        (position,) = (await state(wire))["positions"]
        if position["swap"]:
            break
        await asyncio.sleep(0.05)
    assert position["swap"] == -15.0  # swapLong -5 points x 1e-5 x 100000 x 1 lot x 3 nights
    await trade(wire, actionType="POSITION_PARTIAL", positionId=opened["positionId"], volume=0.4)
    await trade(wire, actionType="POSITION_CLOSE_ID", positionId=opened["positionId"])
    now = await state(wire)
    assert [d["swap"] for d in now["deals"] if d.get("entryType") == "DEAL_ENTRY_OUT"] == [-6.0, -9.0]
    assert_books_balance(now)
