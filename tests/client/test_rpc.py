"""RPC connections against the sandbox: every getter, every trading helper, rejections with MetaTrader codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_streaming_helpers import EPOCH, FAR, rpc_connection

from mtdata.client import MetaApi
from mtdata.errors import NotConnectedException, NotFoundException, TradeException, ValidationException
from mtdata.sandbox import SandboxHandle


@pytest.fixture
async def rpc(api: MetaApi, sandbox: SandboxHandle) -> Any:
    connection = await rpc_connection(api, sandbox.account_id)
    yield connection
    await connection.close()


async def test_getters(rpc: Any) -> None:
    assert await rpc.is_connected() and rpc.synchronized
    info = await rpc.get_account_information()
    assert info["balance"] == 10000 and info["currency"] == "USD"
    assert (await rpc.get_account_information({"refreshTerminalState": True}))["balance"] == 10000
    assert await rpc.get_positions() == [] and await rpc.get_orders() == []
    symbols = await rpc.get_symbols()
    assert "EURUSD" in symbols
    assert (await rpc.get_symbol_specification("EURUSD"))["symbol"] == "EURUSD"
    price = await rpc.get_symbol_price("EURUSD", keep_subscription=True)
    assert price["ask"] > price["bid"] > 0 and isinstance(price["time"], datetime)
    assert (await rpc.get_candle("EURUSD", "1h"))["timeframe"] == "1h"
    assert (await rpc.get_tick("EURUSD"))["symbol"] == "EURUSD"
    assert (await rpc.get_book("EURUSD"))["symbol"] == "EURUSD"
    assert isinstance((await rpc.get_server_time())["time"], datetime)
    margin = await rpc.calculate_margin({"symbol": "EURUSD", "type": "ORDER_TYPE_BUY", "volume": 1,
                                         "openPrice": price["ask"]})  # fmt: skip
    assert margin["margin"] > 0
    quotes = await rpc.refresh_symbol_quotes(["EURUSD", "GBPUSD"])
    assert {q["symbol"] for q in quotes["quotes"]} == {"EURUSD", "GBPUSD"}
    deals = await rpc.get_deals_by_time_range(EPOCH, FAR)
    assert deals["synchronizing"] is False and len(deals["deals"]) == 1  # the initial deposit
    assert (await rpc.get_history_orders_by_time_range(EPOCH, FAR, 0, 10))["historyOrders"] == []
    candles = await rpc.get_historical_candles("EURUSD", "1h", limit=5)
    assert len(candles) == 5
    ticks = await rpc.get_historical_ticks("EURUSD", datetime.now(UTC) - timedelta(days=30), limit=3)
    assert len(ticks) <= 3
    with pytest.raises(NotFoundException):
        await rpc.get_position("123456789")
    with pytest.raises(NotFoundException):
        await rpc.get_order("123456789")


async def test_every_trading_helper_and_the_history_getters(rpc: Any) -> None:
    price = await rpc.get_symbol_price("EURUSD")
    buy = await rpc.create_market_buy_order("EURUSD", 0.2, {"value": 200, "units": "RELATIVE_POINTS"}, None,
                                            {"comment": "rpc", "magic": 3})  # fmt: skip
    sell = await rpc.create_market_sell_order("EURUSD", 0.1)
    position = await rpc.get_position(buy["positionId"])
    assert position["clientId"] == buy["clientId"] and position["magic"] == 3 and position["stopLoss"] > 0
    assert (await rpc.modify_position(buy["positionId"], take_profit=round(price["ask"] * 1.05, 5)))[
        "stringCode"
    ] == "TRADE_RETCODE_DONE"
    await rpc.close_position_partially(buy["positionId"], 0.1)
    assert (await rpc.get_position(buy["positionId"]))["volume"] == pytest.approx(0.1)
    await rpc.close_by(buy["positionId"], sell["positionId"])
    assert await rpc.get_positions() == []
    low, high = round(price["bid"] * 0.9, 5), round(price["ask"] * 1.1, 5)
    placed = [
        await rpc.create_limit_buy_order("EURUSD", 0.1, low),
        await rpc.create_limit_sell_order("EURUSD", 0.1, high),
        await rpc.create_stop_buy_order("EURUSD", 0.1, high),
        await rpc.create_stop_sell_order("EURUSD", 0.1, low, options={
            "expiration": {"type": "ORDER_TIME_SPECIFIED", "time": datetime.now(UTC) + timedelta(days=3)}}),
        await rpc.create_stop_limit_buy_order("EURUSD", 0.1, high, round(high - 0.001, 5)),
        await rpc.create_stop_limit_sell_order("EURUSD", 0.1, low, round(low + 0.001, 5)),
    ]  # fmt: skip
    orders = {order["id"]: order for order in await rpc.get_orders()}
    assert set(orders) == {p["orderId"] for p in placed}
    first = placed[0]["orderId"]
    await rpc.modify_order(first, round(low * 0.99, 5), stop_loss=round(low * 0.98, 5))
    assert (await rpc.get_order(first))["openPrice"] == round(low * 0.99, 5)
    for order_id in orders:
        await rpc.cancel_order(order_id)
    assert await rpc.get_orders() == []
    third = await rpc.create_market_buy_order("GBPUSD", 0.1)
    await rpc.create_market_buy_order("GBPUSD", 0.1)
    await rpc.close_positions_by_symbol("GBPUSD")
    assert await rpc.get_positions() == []
    by_position = await rpc.get_deals_by_position(third["positionId"])
    assert len(by_position["deals"]) == 2  # in and out
    deal_id = by_position["deals"][0]["id"]
    assert (await rpc.get_deals_by_ticket(deal_id))["deals"][0]["id"] == deal_id
    orders_of_position = await rpc.get_history_orders_by_position(third["positionId"])
    assert orders_of_position["historyOrders"]
    ticket = orders_of_position["historyOrders"][0]["id"]
    assert (await rpc.get_history_orders_by_ticket(ticket))["historyOrders"][0]["id"] == ticket


async def test_open_prices_in_money_units(rpc: Any) -> None:
    """``openPriceUnits`` takes every unit of protocol §6.2, the money ones too: 50 USD on 1 lot of EURUSD (1 USD a
    point) puts the stop price 50 points above the stop-limit price it is measured from."""
    price = await rpc.get_symbol_price("EURUSD")
    limit = round(price["ask"] * 1.1, 5)
    placed = await rpc.create_stop_limit_buy_order("EURUSD", 1, 50, limit, options={
        "openPriceUnits": "RELATIVE_CURRENCY", "openPriceBase": "STOP_LIMIT_PRICE"})  # fmt: skip
    order = await rpc.get_order(placed["orderId"])
    assert (order["stopLimitPrice"], order["openPrice"]) == (limit, round(limit + 0.0005, 5))
    await rpc.cancel_order(placed["orderId"])


async def test_rejections_carry_metatrader_codes(rpc: Any, mtdata_sandbox_factory: Any, make_api: Any) -> None:
    rejections = [
        (rpc.create_market_buy_order("EURUSD", 0.001), 10014),
        (rpc.create_market_buy_order("EURUSD", 1000), 10014),
        (rpc.close_position("987654321"), 4753),
        (rpc.cancel_order("987654321"), 4754),
        (rpc.create_market_buy_order("EURUSD", 0.1, {"value": 10_000, "units": "ABSOLUTE_PRICE"}), 10016),
    ]
    for call, code in rejections:
        with pytest.raises(TradeException) as caught:
            await call
        assert caught.value.numeric_code == code and caught.value.string_code
    with pytest.raises(TradeException) as caught:
        await rpc.create_market_buy_order("EURUSD", 90)  # 9M EUR at 1:100 needs ~95k USD of margin
    assert caught.value.string_code == "TRADE_RETCODE_NO_MONEY"
    weekend = mtdata_sandbox_factory(deploy_delay=0.05, start="2026-11-21T12:00:00Z")  # a Saturday
    api = MetaApi.sandbox(weekend.url, weekend.token)
    try:
        closed_market = await rpc_connection(api, weekend.account_id)
        with pytest.raises(TradeException) as caught:
            await closed_market.create_market_buy_order("EURUSD", 0.1)
        assert caught.value.numeric_code == 10018 and caught.value.string_code == "TRADE_RETCODE_MARKET_CLOSED"
    finally:
        await api.close()


async def test_bad_input_and_closed_connection(rpc: Any) -> None:
    for argument, call in [
        ("position_id", rpc.get_position("")),
        ("options.refreshTerminalState", rpc.get_positions({"refreshTerminalState": "yes"})),
        ("options.other", rpc.get_orders({"other": 1})),
        ("start_time", rpc.get_deals_by_time_range("2026-01-01", FAR)),
        ("offset", rpc.get_deals_by_time_range(EPOCH, FAR, -1)),
        ("keep_subscription", rpc.get_tick("EURUSD", "no")),
        ("timeframe", rpc.get_candle("EURUSD", "2y")),
        ("order.volume", rpc.calculate_margin({"symbol": "EURUSD", "type": "ORDER_TYPE_BUY", "volume": 0,
                                               "openPrice": 1})),
        ("volume", rpc.create_market_buy_order("EURUSD", -0.1)),
        ("timeout_in_seconds", rpc.wait_synchronized(-1)),
    ]:  # fmt: skip
        with pytest.raises(ValidationException) as caught:
            await call
        assert caught.value.details[0]["parameter"] == argument
    await rpc.close()
    with pytest.raises(NotConnectedException):
        await rpc.get_account_information()
    with pytest.raises(NotConnectedException):
        await rpc.create_market_buy_order("EURUSD", 0.1)
