"""Every RPC request type of protocol §5.3 and its errors, over a raw socket."""

from __future__ import annotations

import pytest
from test_realtime_helpers import Wire, put_history

from mtdata.sandbox.timeutil import parse_iso_ms

RPC = {"application": "RPC"}
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
async def wire(sandbox, sio_connect) -> Wire:
    return await Wire.connect(sio_connect, sandbox)


@pytest.fixture
def history(sandbox) -> None:
    """Five history orders and deals one minute apart on positions 7001 (first three) and 7002."""
    for i in range(5):
        position = "7001" if i < 3 else "7002"
        put_history(sandbox, "history_orders", sandbox.account_id, str(8000 + i), T0 + i * 60_000, position)
        put_history(sandbox, "deals", sandbox.account_id, str(9000 + i), T0 + i * 60_000, position)


def iso(ms: int) -> str:
    from mtdata.sandbox.timeutil import iso_ms

    return iso_ms(ms)


async def test_account_information_positions_orders(wire: Wire, sandbox) -> None:
    info = (await wire.ok("getAccountInformation", **RPC))["accountInformation"]
    assert info["platform"] == "mt5" and info["currency"] == "USD" and info["leverage"] == 100
    assert info["balance"] == info["equity"] == info["freeMargin"] == 10000 and info["marginLevel"] is None
    assert info["server"] == "Sandbox-Demo" and info["login"] == 50001
    assert (await wire.ok("getPositions", **RPC))["positions"] == []
    assert (await wire.ok("getOrders", refreshTerminalState=True, **RPC))["orders"] == []
    position = {"id": "6001", "symbol": "EURUSD", "type": "POSITION_TYPE_BUY", "volume": 1.0, "openPrice": 1.1,
                "unrealizedProfit": 12.345, "swap": -1.0, "magic": 0}  # fmt: skip
    order = {"id": "6002", "symbol": "EURUSD", "type": "ORDER_TYPE_BUY_LIMIT", "volume": 1.0, "openPrice": 1.0}
    sandbox.server.store.put("positions", "6001", position, account_id=sandbox.account_id)
    sandbox.server.store.put("orders", "6002", order, account_id=sandbox.account_id)
    assert (await wire.ok("getPosition", positionId="6001", **RPC))["position"]["id"] == "6001"
    assert (await wire.ok("getOrder", orderId="6002", **RPC))["order"]["type"] == "ORDER_TYPE_BUY_LIMIT"
    assert (await wire.error("getPosition", positionId="6002", **RPC))["error"] == "NotFoundError"
    assert (await wire.error("getOrder", orderId="6001", **RPC))["error"] == "NotFoundError"
    info = (await wire.ok("getAccountInformation", **RPC))["accountInformation"]
    assert info["margin"] == 1100.0  # 1 lot x 100000 x 1.1 / 100
    assert info["equity"] == round(10000 + 12.35 - 1.0, 2)
    assert info["freeMargin"] == round(info["equity"] - 1100.0, 2)
    assert info["marginLevel"] == round(info["equity"] / 1100.0 * 100, 2)


@pytest.mark.usefixtures("history")
async def test_history_orders_and_deals(wire: Wire) -> None:
    orders = await wire.ok("getHistoryOrdersByTicket", ticket="8001", **RPC)
    assert [o["id"] for o in orders["historyOrders"]] == ["8001"] and orders["synchronizing"] is False
    by_position = await wire.ok("getHistoryOrdersByPosition", positionId="7001", **RPC)
    assert [o["id"] for o in by_position["historyOrders"]] == ["8000", "8001", "8002"]
    ranged = await wire.ok("getHistoryOrdersByTimeRange", startTime=iso(T0 + 60_000), endTime=iso(T0 + 240_000),
                           offset=1, limit=1, **RPC)  # fmt: skip
    assert [o["id"] for o in ranged["historyOrders"]] == ["8002"]  # [T0+1m, T0+4m) = 8001..8003, offset 1
    everything = await wire.ok("getHistoryOrdersByTimeRange", startTime=iso(T0), endTime=iso(T0 + 240_000), **RPC)
    assert [o["id"] for o in everything["historyOrders"]] == ["8000", "8001", "8002", "8003"]  # end excluded

    assert [d["id"] for d in (await wire.ok("getDealsByTicket", ticket="9004", **RPC))["deals"]] == ["9004"]
    deals = (await wire.ok("getDealsByPosition", positionId="7002", **RPC))["deals"]
    assert [d["id"] for d in deals] == ["9003", "9004"]
    page = await wire.ok("getDealsByTimeRange", startTime=iso(T0), endTime="2999-01-01T00:00:00.000Z", offset=2,
                         limit=2, **RPC)  # fmt: skip
    assert [d["id"] for d in page["deals"]] == ["9002", "9003"] and page["synchronizing"] is False
    # the initial deposit is a deal at account creation (after T0)
    recent = (await wire.ok("getDealsByTimeRange", startTime=iso(T0 + 300_000), endTime="2999-01-01T00:00:00.000Z",
                            **RPC))["deals"]  # fmt: skip
    assert [d["type"] for d in recent] == ["DEAL_TYPE_BALANCE"] and recent[0]["profit"] == 10000


async def test_symbols_and_market_getters(wire: Wire) -> None:
    symbols = (await wire.ok("getSymbols", **RPC))["symbols"]
    assert "EURUSD" in symbols and all(isinstance(s, str) for s in symbols)
    spec = (await wire.ok("getSymbolSpecification", symbol="EURUSD", **RPC))["specification"]
    assert spec["symbol"] == "EURUSD" and spec["digits"] == 5
    price = (await wire.ok("getSymbolPrice", symbol="EURUSD", keepSubscription=True, **RPC))["price"]
    assert price["symbol"] == "EURUSD" and price["ask"] >= price["bid"] > 0 and parse_iso_ms(price["time"], "time")
    candle = (await wire.ok("getCandle", symbol="EURUSD", timeframe="15m", **RPC))["candle"]
    assert candle["timeframe"] == "15m" and candle["low"] <= candle["close"] <= candle["high"]
    tick = (await wire.ok("getTick", symbol="EURUSD", **RPC))["tick"]
    assert tick["symbol"] == "EURUSD" and "brokerTime" in tick
    book = (await wire.ok("getBook", symbol="EURUSD", **RPC))["book"]
    assert {level["type"] for level in book["book"]} <= {"BOOK_TYPE_SELL", "BOOK_TYPE_BUY", "BOOK_TYPE_SELL_MARKET",
                                                          "BOOK_TYPE_BUY_MARKET"}  # fmt: skip
    server_time = (await wire.ok("getServerTime", **RPC))["serverTime"]
    assert set(server_time) == {"time", "brokerTime", "lastQuoteTime", "lastQuoteBrokerTime"}
    assert server_time["brokerTime"][10] == " "


async def test_refresh_requests_and_margin(wire: Wire) -> None:
    assert (await wire.ok("refreshTerminalState", **RPC))["symbols"] == []
    await wire.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    pushed = len(wire.of_type("prices"))
    assert (await wire.ok("refreshTerminalState", **RPC))["symbols"] == ["EURUSD"]
    await wire.until(lambda: len(wire.of_type("prices")) > pushed)
    refreshed = (await wire.ok("refreshSymbolQuotes", symbols=["EURUSD", "GBPUSD"], **RPC))["refreshedQuotes"]
    assert [q["symbol"] for q in refreshed["quotes"]] == ["EURUSD", "GBPUSD"]
    assert {"balance", "equity", "margin", "freeMargin", "marginLevel", "accountCurrencyExchangeRate"} <= set(refreshed)
    order = {"symbol": "EURUSD", "type": "ORDER_TYPE_BUY", "volume": 0.1, "openPrice": 1.1}
    assert (await wire.ok("calculateMargin", order=order, application=None))["margin"] == {"margin": 110.0}
    for field, bad in (("volume", 0), ("openPrice", -1), ("type", "ORDER_TYPE_BUY_LIMIT"), ("symbol", "NOPE")):
        answer = await wire.error("calculateMargin", order={**order, field: bad}, **RPC)
        assert answer["error"] == "ValidationError" and answer["details"][0]["parameter"] == f"order.{field}"


async def test_trade_envelope_is_validated(wire: Wire) -> None:
    # trades themselves are covered by tests/sandbox/test_broker_*.py
    for trade in ({"actionType": "BUY_EVERYTHING"}, {}, "buy"):
        assert (await wire.error("trade", trade=trade))["error"] == "ValidationError"


@pytest.mark.parametrize(
    ("request_type", "fields", "parameter"),
    [
        ("getSymbolSpecification", {"symbol": "NOPE"}, "symbol"),
        ("getSymbolPrice", {}, "symbol"),
        ("getCandle", {"symbol": "EURUSD", "timeframe": "7m"}, "timeframe"),
        ("getTick", {"symbol": 42}, "symbol"),
        ("getPosition", {"positionId": "abc"}, "positionId"),
        ("getDealsByTimeRange", {"startTime": "yesterday", "endTime": "2030-01-01T00:00:00.000Z"}, "startTime"),
        ("getDealsByTimeRange", {"startTime": "0001-01-01T00:00:00.000Z", "endTime": "2030-01-01T00:00:00.000Z"},
         "startTime"),
        ("getHistoryOrdersByTimeRange", {"startTime": "2020-01-01T00:00:00.000Z", "endTime": "2030-01-01T00:00:00Z",
                                         "limit": -1}, "limit"),
        ("getHistoryOrdersByTimeRange", {"startTime": "2020-01-01T00:00:00.000Z", "endTime": "2010-01-01T00:00:00Z"},
         "endTime"),
        ("refreshSymbolQuotes", {"symbols": "EURUSD"}, "symbols"),
        ("getNothing", {}, "type"),
    ],
)  # fmt: skip
async def test_bad_rpc_input_is_a_validation_error(wire: Wire, request_type: str, fields: dict, parameter: str) -> None:
    answer = await wire.error(request_type, **RPC, **fields)
    assert answer["error"] == "ValidationError" and answer["id"] == 3
    assert answer["details"][0]["parameter"] == parameter
    assert (await wire.ok("getServerTime", **RPC))["serverTime"]  # the socket still works


async def test_margin_is_converted_to_the_account_currency(wire: Wire) -> None:
    if "USDJPY" not in (await wire.ok("getSymbols", **RPC))["symbols"]:
        pytest.skip("the market has no USDJPY")
    price = (await wire.ok("getSymbolPrice", symbol="USDJPY", **RPC))["price"]["ask"]
    order = {"symbol": "USDJPY", "type": "ORDER_TYPE_BUY", "volume": 1, "openPrice": price}
    margin = (await wire.ok("calculateMargin", order=order, **RPC))["margin"]["margin"]
    assert margin == pytest.approx(1000, rel=0.01)  # 1 lot = 100,000 USD at leverage 100, in USD
