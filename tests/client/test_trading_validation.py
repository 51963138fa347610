"""Trade helpers as pure logic: the trade objects of protocol §6.1 and the validation before anything is sent."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from mtdata.client.connections import market_data
from mtdata.client.connections.trading import TradingApi
from mtdata.errors import ValidationException
from mtdata.timeframes import MT4_TIMEFRAMES, MT5_TIMEFRAMES


class Recorder(TradingApi):
    """The trade helpers with a sender that keeps what would go on the wire."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def _send_trade(self, trade: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(trade)
        return {"numericCode": 10009, "stringCode": "TRADE_RETCODE_DONE"}


@pytest.fixture
def api() -> Recorder:
    return Recorder()


async def test_market_order_with_stop_options_and_options_merged(api: Recorder) -> None:
    response = await api.create_market_buy_order(
        "EURUSD", 0.1, {"value": 50, "units": "RELATIVE_POINTS"}, 1.2,
        {"comment": "hello", "magic": 7, "slippage": 3, "fillingModes": ["ORDER_FILLING_IOC"]},
    )  # fmt: skip
    trade = api.sent[0]
    assert trade["actionType"] == "ORDER_TYPE_BUY" and trade["symbol"] == "EURUSD" and trade["volume"] == 0.1
    assert trade["stopLoss"] == 50 and trade["stopLossUnits"] == "RELATIVE_POINTS"
    assert trade["takeProfit"] == 1.2 and "takeProfitUnits" not in trade
    assert trade["comment"] == "hello" and trade["magic"] == 7 and trade["fillingModes"] == ["ORDER_FILLING_IOC"]
    assert trade["clientId"].startswith("TE_") and len(trade["comment"]) + len(trade["clientId"]) <= 30
    assert response["clientId"] == trade["clientId"]


async def test_every_action_type(api: Recorder) -> None:
    await api.create_market_sell_order("EURUSD", 1)
    await api.create_limit_buy_order("EURUSD", 1, 1.05)
    await api.create_limit_sell_order("EURUSD", 1, 1.25)
    await api.create_stop_buy_order("EURUSD", 1, 1.25)
    await api.create_stop_sell_order("EURUSD", 1, 1.05)
    await api.create_stop_limit_buy_order("EURUSD", 1, 1.25, 1.24)
    await api.create_stop_limit_sell_order("EURUSD", 1, 1.05, 1.06)
    await api.modify_position("123", stop_loss=1.0, trailing_stop_loss={"distance": {"distance": 5}})
    await api.close_position_partially(123, 0.5)
    await api.close_position("123", {"comment": "x"})
    await api.close_by("1", "2")
    await api.close_positions_by_symbol("EURUSD")
    await api.modify_order("9", 1.1, take_profit=1.3)
    await api.cancel_order("9")
    actions = [trade["actionType"] for trade in api.sent]
    assert actions == [
        "ORDER_TYPE_SELL", "ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_SELL_LIMIT", "ORDER_TYPE_BUY_STOP",
        "ORDER_TYPE_SELL_STOP", "ORDER_TYPE_BUY_STOP_LIMIT", "ORDER_TYPE_SELL_STOP_LIMIT", "POSITION_MODIFY",
        "POSITION_PARTIAL", "POSITION_CLOSE_ID", "POSITION_CLOSE_BY", "POSITIONS_CLOSE_SYMBOL", "ORDER_MODIFY",
        "ORDER_CANCEL",
    ]  # fmt: skip
    assert api.sent[5]["openPrice"] == 1.25 and api.sent[5]["stopLimitPrice"] == 1.24
    assert api.sent[8] == {**api.sent[8], "positionId": "123", "volume": 0.5}
    assert api.sent[10]["closeByPositionId"] == "2"
    # modifications and cancellations carry no generated clientId (their helpers take none)
    assert all("clientId" not in api.sent[i] for i in (7, 12, 13))


async def test_expiration_datetime_converted(api: Recorder) -> None:
    when = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    await api.create_limit_buy_order("EURUSD", 1, 1.05, options={"expiration": {"type": "ORDER_TIME_SPECIFIED",
                                                                                "time": when}})  # fmt: skip
    assert api.sent[0]["expiration"] == {"type": "ORDER_TIME_SPECIFIED", "time": "2026-11-20T12:30:00.000Z"}


async def test_client_id_kept_and_not_generated_without_room(api: Recorder) -> None:
    await api.create_market_buy_order("EURUSD", 1, options={"clientId": "mine"})
    await api.create_market_buy_order("EURUSD", 1, options={"comment": "c" * 28})
    assert api.sent[0]["clientId"] == "mine"
    assert "clientId" not in api.sent[1]


BAD_CALLS = [
    ("volume", lambda a: a.create_market_buy_order("EURUSD", 0)),
    ("volume", lambda a: a.create_market_buy_order("EURUSD", -1)),
    ("volume", lambda a: a.create_market_buy_order("EURUSD", math.nan)),
    ("volume", lambda a: a.create_market_buy_order("EURUSD", math.inf)),
    ("volume", lambda a: a.create_market_buy_order("EURUSD", "0.1")),
    ("volume", lambda a: a.create_market_buy_order("EURUSD", True)),
    ("symbol", lambda a: a.create_market_buy_order("", 1)),
    ("symbol", lambda a: a.create_market_buy_order(None, 1)),
    ("stop_loss", lambda a: a.create_market_buy_order("EURUSD", 1, -1)),
    ("stop_loss", lambda a: a.create_market_buy_order("EURUSD", 1, math.nan)),
    ("stop_loss.units", lambda a: a.create_market_buy_order("EURUSD", 1, {"value": 5, "units": "FURLONGS"})),
    ("stop_loss.size", lambda a: a.create_market_buy_order("EURUSD", 1, {"value": 5, "size": 1})),
    ("take_profit.value", lambda a: a.create_market_sell_order("EURUSD", 1, None, {"value": "x"})),
    ("open_price", lambda a: a.create_limit_buy_order("EURUSD", 1, 0)),
    ("open_price", lambda a: a.create_stop_buy_order("EURUSD", 1, math.inf)),
    ("stop_limit_price", lambda a: a.create_stop_limit_buy_order("EURUSD", 1, 1.1, -1)),
    ("options", lambda a: a.create_market_buy_order("EURUSD", 1, options=[1])),
    ("options.expiration", lambda a: a.create_market_buy_order("EURUSD", 1, options={"expiration": {}})),
    ("options.magic", lambda a: a.create_market_buy_order("EURUSD", 1, options={"magic": -1})),
    ("options.slippage", lambda a: a.create_market_buy_order("EURUSD", 1, options={"slippage": 1.5})),
    ("options.fillingModes", lambda a: a.create_market_buy_order("EURUSD", 1, options={"fillingModes": ["X"]})),
    ("options.stopPriceBase", lambda a: a.create_market_buy_order("EURUSD", 1, options={"stopPriceBase": "X"})),
    ("options.comment", lambda a: a.create_market_buy_order("EURUSD", 1, options={"comment": 5})),
    ("options.comment", lambda a: a.create_market_buy_order("EURUSD", 1, options={"comment": "c" * 20,
                                                                                   "clientId": "d" * 20})),
    ("options.expiration.type", lambda a: a.create_limit_buy_order("EURUSD", 1, 1.1, options={
        "expiration": {"type": "ORDER_TIME_SOMETIME"}})),
    ("options.expiration.time", lambda a: a.create_limit_buy_order("EURUSD", 1, 1.1, options={
        "expiration": {"type": "ORDER_TIME_SPECIFIED"}})),
    ("options.expiration.time", lambda a: a.create_limit_buy_order("EURUSD", 1, 1.1, options={
        "expiration": {"type": "ORDER_TIME_GTC", "time": datetime(2030, 1, 1, tzinfo=UTC)}})),
    ("options.openPriceUnits", lambda a: a.create_limit_buy_order("EURUSD", 1, 1.1, options={
        "openPriceUnits": "RELATIVE_LOTS"})),
    ("position_id", lambda a: a.close_position("")),
    ("position_id", lambda a: a.close_position(None)),
    ("opposite_position_id", lambda a: a.close_by("1", 2.5)),
    ("order_id", lambda a: a.cancel_order([])),
    ("trailing_stop_loss", lambda a: a.modify_position("1", trailing_stop_loss={})),
    ("trailing_stop_loss.distance.distance", lambda a: a.modify_position("1", trailing_stop_loss={
        "distance": {"distance": 0}})),
    ("trailing_stop_loss.threshold.thresholds", lambda a: a.modify_position("1", trailing_stop_loss={
        "threshold": {"thresholds": []}})),
    ("stop_price_base", lambda a: a.modify_position("1", stop_price_base="MOON")),
]  # fmt: skip


@pytest.mark.parametrize(("argument", "call"), BAD_CALLS, ids=[f"{i}-{a}" for i, (a, _) in enumerate(BAD_CALLS)])
async def test_bad_input_names_the_argument_and_sends_nothing(api: Recorder, argument: str, call: Any) -> None:
    with pytest.raises(ValidationException) as caught:
        await call(api)
    assert caught.value.details[0]["parameter"] == argument
    assert api.sent == []


async def test_relative_open_price_may_be_negative(api: Recorder) -> None:
    await api.create_limit_buy_order("EURUSD", 1, -20, options={"openPriceUnits": "RELATIVE_POINTS"})
    assert api.sent[0]["openPrice"] == -20 and api.sent[0]["openPriceUnits"] == "RELATIVE_POINTS"


def test_market_data_subscriptions_expanded_and_validated() -> None:
    frames = tuple(MT5_TIMEFRAMES)
    assert market_data.subscriptions(None, frames) == [{"type": "quotes"}]
    expanded = market_data.subscriptions({"type": ["ticks", "candles", "books"], "timeframes": ["1m", "5m"]}, frames)
    assert expanded == [{"type": "ticks"}, {"type": "candles", "timeframe": "1m"},
                        {"type": "candles", "timeframe": "5m"}, {"type": "marketDepth"}]  # fmt: skip
    assert market_data.subscriptions([{"type": "quotes", "intervalInMilliseconds": 0}], frames) == [
        {"type": "quotes", "intervalInMilliseconds": 0}
    ]
    bad = [
        ({"type": "candles"}, "subscriptions[0].timeframe"),
        ({"type": "candles", "timeframe": "7m"}, "subscriptions[0].timeframe"),
        ({"type": "quotes", "timeframe": "1m"}, "subscriptions[0].timeframe"),
        ({"type": "news"}, "subscriptions[0].type"),
        ({"type": "quotes", "intervalInMilliseconds": -5}, "subscriptions[0].intervalInMilliseconds"),
        ({"type": "quotes", "intervalInMilliseconds": math.nan}, "subscriptions[0].intervalInMilliseconds"),
        ({"type": "quotes", "every": 5}, "subscriptions[0].every"),
        ([], "subscriptions"),
        ("quotes", "subscriptions"),
    ]
    for value, argument in bad:
        with pytest.raises(ValidationException) as caught:
            market_data.subscriptions(value, frames)
        assert caught.value.details[0]["parameter"] == argument, value
    with pytest.raises(ValidationException):
        market_data.subscriptions({"type": "candles", "timeframe": "2m"}, MT4_TIMEFRAMES)


def test_market_data_book() -> None:
    book = market_data.MarketDataSubscriptions()
    book.add("EURUSD", [{"type": "quotes"}, {"type": "candles", "timeframe": "1m"}])
    book.add("EURUSD", [{"type": "candles", "timeframe": "1m", "intervalInMilliseconds": 100}])
    book.add("GBPUSD", [{"type": "ticks"}])
    assert book.symbols() == ["EURUSD", "GBPUSD"]
    assert book.get("EURUSD")[1] == {"type": "candles", "timeframe": "1m", "intervalInMilliseconds": 100}
    book.remove("EURUSD", [{"type": "candles"}])
    assert book.get("EURUSD") == [{"type": "quotes"}]
    book.remove("GBPUSD")
    assert book.wire() == [{"symbol": "EURUSD", "subscriptions": [{"type": "quotes"}]}]
