"""Threshold trailing stops driven by a scripted price path: thresholds move the stop loss, the distance form
competes (the stop loss closest to the price wins), and the server moves it at most every 15 simulated seconds."""

from __future__ import annotations

import itertools

import pytest
from test_broker_market import rejected, trade
from test_realtime_helpers import WEEKDAY, Wire

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.timeutil import parse_iso_ms


@pytest.fixture
def fast(mtdata_sandbox_factory) -> SandboxHandle:
    """A sandbox running 20x (15 simulated seconds pass in 0.75 s), EURUSD still at 1.10000/1.10010."""
    box = mtdata_sandbox_factory(speed=20.0, start=WEEKDAY)
    now = box.server.market.now_ms()
    box.server.market.force_path("EURUSD", [(now - 1000, 1.10000, 1.10010), (now + 10**9, 1.10000, 1.10010)])
    return box


@pytest.fixture
async def wire(fast: SandboxHandle, sio_connect) -> Wire:
    wire = await Wire.connect(sio_connect, fast)
    await wire.subscribe()
    await wire.synchronize()
    return wire


def _stop_losses(wire: Wire, position_id: str) -> list[tuple[float, int]]:
    """(stop loss, update time) of each change of the position's stop loss the stream reported."""
    seen: list[tuple[float, int]] = []
    for packet in wire.of_type("update"):
        for position in packet.get("updatedPositions", []):
            if position["id"] == position_id and position.get("stopLoss") not in (None, *(s for s, _ in seen[-1:])):
                seen.append((position["stopLoss"], parse_iso_ms(position["updateTime"], "updateTime")))
    return seen


async def test_thresholds_and_distance_move_the_stop_loss(wire: Wire, fast: SandboxHandle) -> None:
    trailing = {"distance": {"distance": 300, "units": "RELATIVE_POINTS"},
                "threshold": {"thresholds": [{"threshold": 40, "stopLoss": 25}, {"threshold": 20, "stopLoss": 5}],
                              "units": "RELATIVE_PIPS"}}  # fmt: skip
    opened = await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, trailingStopLoss=trailing)
    position_id = opened["positionId"]
    market = fast.server.market
    start = market.now_ms() + 20_000
    path = [(start - 21_000, 1.10000, 1.10010)]  # still until the start
    # each level lasts long enough (threshold 1: 20 simulated s, 1 s of wall time) for a trigger pass to see it
    # although the sandbox's loop may stall on a loaded machine; a pass that came only after a level ended would
    # skip that level's stop loss
    path += [(start + i * 1000, 1.1030, 1.1031) for i in range(20)]  # threshold 1: SL 1.1006 beats 1.1000
    path += [(start + i * 1000, 1.1050, 1.1051) for i in range(20, 50)]  # threshold 2: SL 1.1026 beats 1.1020
    path += [(start + i * 1000, 1.1080, 1.1081) for i in range(50, 110)]  # the distance: 1.1050 beats 1.1026
    market.force_path("EURUSD", [*path, (start + 10**9, 1.1080, 1.1081)])
    await wire.until(lambda: any(sl == 1.105 for sl, _ in _stop_losses(wire, position_id)))
    moves = _stop_losses(wire, position_id)
    assert [sl for sl, _ in moves] == [1.1006, 1.1026, 1.105]
    assert all(later - earlier >= 15_000 for (_, earlier), (_, later) in itertools.pairwise(moves))
    stored = fast.server.store.get("positions", position_id)
    assert stored["trailingStopLoss"]["threshold"] == {
        "thresholds": [{"threshold": 1.1021, "stopLoss": 1.1006}, {"threshold": 1.1041, "stopLoss": 1.1026}],
        "units": "ABSOLUTE_PRICE",
    }
    assert stored["trailingStopLoss"]["distance"] == trailing["distance"]


async def test_sell_thresholds_set_by_modify_from_the_current_price(wire: Wire, fast: SandboxHandle) -> None:
    opened = await trade(wire, actionType="ORDER_TYPE_SELL", symbol="EURUSD", volume=0.1)
    position_id = opened["positionId"]
    trailing = {"threshold": {"thresholds": [{"threshold": 1.0980, "stopLoss": 1.0990}]}}
    await trade(wire, actionType="POSITION_MODIFY", positionId=position_id, trailingStopLoss=trailing)
    market = fast.server.market
    start = market.now_ms() + 20_000
    path = [(start - 21_000, 1.10000, 1.10010), *((start + i * 1000, 1.0975, 1.0978) for i in range(30))]
    market.force_path("EURUSD", [*path, (start + 10**9, 1.0975, 1.0978)])
    await wire.until(lambda: _stop_losses(wire, position_id))
    assert [sl for sl, _ in _stop_losses(wire, position_id)] == [1.099]


@pytest.mark.parametrize(
    ("trailing", "expected"),
    [
        ({}, "trade.trailingStopLoss"),
        ({"threshold": {"thresholds": []}}, "trade.trailingStopLoss.threshold.thresholds"),
        ({"threshold": {"thresholds": [5]}}, "trade.trailingStopLoss.threshold.thresholds[0]"),
        ({"threshold": {"thresholds": [{"threshold": "x", "stopLoss": 1}]}}, "thresholds[0].threshold"),
        ({"threshold": {"thresholds": [{"threshold": 1.2, "stopLoss": 1.1}], "units": "MILES"}}, "threshold.units"),
        ({"threshold": {"thresholds": [{"threshold": 1.2, "stopLoss": 1.1}], "stopPriceBase": "X"}}, "stopPriceBase"),
        ({"threshold": {"thresholds": [{"threshold": 1.2, "stopLoss": 1.3}]}}, 10016),
    ],
)
async def test_bad_trailing_stops_are_refused(wire: Wire, trailing: dict, expected: str | int) -> None:
    bad = await rejected(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, trailingStopLoss=trailing)
    if isinstance(expected, int):
        assert bad["numericCode"] == expected
    else:
        assert bad["error"] == "ValidationError" and expected in str(bad), bad
