"""mtdata.mt5 against the MetaTrader5 package documentation's examples, on one sandbox per module.

The sandbox's clock is a Wednesday morning (conftest ``NOW``), so FX trades; its broker clock is New York close
(UTC+2 in November). The package's constants, named tuples and signatures are checked in ``test_mt5_facts``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import mtdata.mt5 as mt5
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

#: conftest.NOW on the broker clock (UTC+2 in November), as MetaTrader writes it.
BROKER_NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def connected(box: SandboxHandle) -> Iterator[None]:
    """``mt5.initialize()`` with no arguments, the sandbox named by the environment (as Binder sets it)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MTDATA_SANDBOX_URL", box.url)
        env.setenv("MTDATA_SANDBOX_TOKEN", box.token)
        env.setenv("MTDATA_SANDBOX_ACCOUNT_ID", box.account_id)
        env.delenv("METAAPI_TOKEN", raising=False)
        assert mt5.initialize(), mt5.last_error()
    yield
    mt5.shutdown()


# -- the documentation's examples --------------------------------------------------------------------------


def test_copy_rates_range_into_a_dataframe(connected: None) -> None:
    """copy_rates_range → DataFrame → pd.to_datetime(time, unit='s'): the broker's wall clock, [from, to]."""
    rates = mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_M5, datetime(2026, 11, 17, 10, tzinfo=UTC),
                                 datetime(2026, 11, 17, 11, tzinfo=UTC))  # fmt: skip
    assert rates.dtype == mt5.RATES_DTYPE and rates.shape == (13,)
    frame = pd.DataFrame(rates)
    frame["time"] = pd.to_datetime(frame["time"], unit="s")
    assert frame["time"].iloc[0] == pd.Timestamp("2026-11-17 10:00") and frame["time"].iloc[-1].hour == 11
    assert list(frame.columns) == list(mt5.RATES_DTYPE.names)
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all() and (frame["tick_volume"] > 0).all()
    utc = mt5.to_utc(rates["time"])
    assert utc[0] == pd.Timestamp("2026-11-17 08:00", tz="UTC")  # UTC+2: 10:00 broker time is 08:00 UTC
    assert mt5.from_utc(utc[0]) == rates["time"][0]


def test_daily_weekly_and_monthly_bars_are_stamped_at_broker_midnight(connected: None) -> None:
    """D1 bars open at broker midnight (22:00 UTC the evening before): copy_rates_range by broker dates gives the
    five weekdays, each stamped 00:00; W1 on Monday, MN1 on the 1st."""
    days = mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_D1, datetime(2026, 11, 2), datetime(2026, 11, 6))
    assert list(pd.to_datetime(days["time"], unit="s").strftime("%a %d")) == ["Mon 02", "Tue 03", "Wed 04",
                                                                               "Thu 05", "Fri 06"]
    assert mt5.to_utc(days["time"][0]) == pd.Timestamp("2026-11-01 22:00", tz="UTC")
    weeks = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_W1, datetime(2026, 11, 17), 2)
    assert list(pd.to_datetime(weeks["time"], unit="s").strftime("%Y-%m-%d %a")) == ["2026-11-09 Mon",
                                                                                      "2026-11-16 Mon"]
    (month,) = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_MN1, datetime(2026, 10, 31), 1)
    assert pd.to_datetime(month["time"], unit="s") == pd.Timestamp("2026-10-01")


def test_copy_rates_from_and_from_pos(connected: None) -> None:
    """copy_rates_from: ``count`` bars opened at or before date_from; from_pos: 0 is the bar in progress."""
    rates = mt5.copy_rates_from("GBPUSD", mt5.TIMEFRAME_H1, datetime(2026, 11, 17, 12, tzinfo=UTC), 10)
    assert rates.shape == (10,) and rates["time"][-1] == datetime(2026, 11, 17, 12, tzinfo=UTC).timestamp()
    assert np.all(np.diff(rates["time"]) > 0)
    for _ in range(3):  # a minute may open between the two reads: then read both again
        latest = mt5.copy_rates_from_pos("GBPUSD", mt5.TIMEFRAME_M1, 0, 5)
        earlier = mt5.copy_rates_from_pos("GBPUSD", mt5.TIMEFRAME_M1, 2, 5)
        if mt5.copy_rates_from_pos("GBPUSD", mt5.TIMEFRAME_M1, 0, 1)["time"][-1] == latest["time"][-1]:
            break
    assert latest.dtype == mt5.RATES_DTYPE and latest.shape == earlier.shape == (5,)
    assert earlier["time"][-1] == latest["time"][-3]
    now = mt5.symbol_info_tick("GBPUSD").time  # the broker clock
    assert BROKER_NOW.timestamp() - 60 <= latest["time"][-1] <= now < latest["time"][-1] + 120


def test_copy_ticks(connected: None) -> None:
    """copy_ticks_from / copy_ticks_range: MT5's tick dtype, flags, and time_msc on the broker clock."""
    start = datetime(2026, 11, 17, 10, tzinfo=UTC)
    ticks = mt5.copy_ticks_from("EURUSD", start, 50, mt5.COPY_TICKS_ALL)
    assert ticks.dtype == mt5.TICKS_DTYPE and ticks.shape == (50,)
    assert ticks["time_msc"][0] >= start.timestamp() * 1000 and np.all(ticks["time"] == ticks["time_msc"] // 1000)
    assert ticks["flags"][0] & mt5.TICK_FLAG_BID and ticks["flags"][0] & mt5.TICK_FLAG_ASK
    ranged = mt5.copy_ticks_range("EURUSD", start, start + timedelta(minutes=1), mt5.COPY_TICKS_INFO)
    assert len(ranged) and np.all(ranged["flags"] & (mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK))
    assert ranged["time"][-1] <= (start + timedelta(minutes=1)).timestamp() < ranged["time"][-1] + 60
    assert np.array_equal(ranged["time_msc"][:5], ticks["time_msc"][ticks["flags"] & 6 != 0][:5])


def test_symbols_and_symbol_info_as_a_dict(connected: None) -> None:
    """symbols_get with group masks; symbol_select then symbol_info()._asdict(); symbol_info_tick."""
    everything = mt5.symbols_get()
    assert len(everything) == mt5.symbols_total() == 24
    no_majors = mt5.symbols_get(group="*,!*USD*,!*EUR*,!*JPY*,!*GBP*")
    assert [s.name for s in no_majors] == ["US30", "US500", "NAS100", "GER40", "UK100"]
    assert mt5.symbol_select("EURJPY", True)
    info = mt5.symbol_info("EURJPY")._asdict()
    assert len(info) == 96 and info["name"] == "EURJPY" and info["select"] is True
    assert info["currency_base"] == "EUR" and info["currency_profit"] == "JPY" and info["digits"] == 3
    assert info["bid"] > 0 and info["ask"] > info["bid"] and info["trade_mode"] == mt5.SYMBOL_TRADE_MODE_FULL
    assert info["filling_mode"] == 3 and info["swap_rollover3days"] == mt5.DAY_OF_WEEK_WEDNESDAY
    tick = mt5.symbol_info_tick("EURJPY")
    assert isinstance(tick, mt5.Tick) and tick.bid > 0 and tick.time_msc // 1000 == tick.time
    assert tick.time >= BROKER_NOW.timestamp() - 5  # broker clock, not UTC


def test_market_book(connected: None) -> None:
    """market_book_add, market_book_get (BookInfo levels, highest price first), market_book_release."""
    assert mt5.market_book_get("EURUSD") is None and mt5.last_error()[0] == mt5.RES_E_INVALID_PARAMS
    assert mt5.market_book_add("EURUSD")
    book = mt5.market_book_get("EURUSD")
    assert len(book) == 20 and all(isinstance(level, mt5.BookInfo) for level in book)
    assert [level.type for level in book] == [mt5.BOOK_TYPE_SELL] * 10 + [mt5.BOOK_TYPE_BUY] * 10
    assert [level.price for level in book] == sorted((level.price for level in book), reverse=True)
    assert book[0]._asdict().keys() == {"type", "price", "volume", "volume_dbl"}
    assert mt5.market_book_release("EURUSD")


def test_account_terminal_and_version(connected: None) -> None:
    account = mt5.account_info()
    assert account.login == 50001 and account.currency == "USD" and account.trade_mode == mt5.ACCOUNT_TRADE_MODE_DEMO
    assert account.margin_mode == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING and account.leverage == 100
    terminal = mt5.terminal_info()
    assert terminal.connected and terminal.trade_allowed and terminal.company == "mtdata Sandbox"
    assert mt5.version()[0] == 500 and mt5.__version__ == "5.0.5735"
    assert mt5.login(50001) and not mt5.login(1234) and mt5.last_error()[0] == mt5.RES_E_AUTH_FAILED


def test_order_check_then_send_buy_then_close(connected: None, session: Session) -> None:
    """The order_send example: check, buy, the position everywhere in mtdata, close by an opposite deal."""
    request = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "USDJPY", "volume": 0.1, "type": mt5.ORDER_TYPE_BUY,
               "price": mt5.symbol_info_tick("USDJPY").ask, "deviation": 20, "magic": 234000,
               "comment": "python script open", "type_time": mt5.ORDER_TIME_GTC,
               "type_filling": mt5.ORDER_FILLING_RETURN}  # fmt: skip
    check = mt5.order_check(request)
    assert check.retcode == 0 and check.comment == "Done" and check.margin > 0 and check.request.volume == 0.1
    result = mt5.order_send(request)
    assert result.retcode == mt5.TRADE_RETCODE_DONE, result
    assert result.volume == 0.1 and result.price > 0 and result.order > 0 and result.deal > 0
    assert result._asdict()["request"]._asdict()["magic"] == 234000
    position = mt5.positions_get(ticket=result.order)[0]
    assert position.type == mt5.POSITION_TYPE_BUY and position.magic == 234000 and position.price_open == result.price
    assert position.time == pytest.approx(BROKER_NOW.timestamp(), abs=60)
    # the same trade, seen by the rest of mtdata: the session mt5 runs on, and another session on the account
    assert str(result.order) in set(mt5.session().positions()["id"])
    assert str(result.order) in set(session.positions()["id"])
    bid = mt5.symbol_info_tick("USDJPY").bid
    stops = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "USDJPY", "position": position.ticket}
    assert mt5.order_send({**stops, "sl": round(bid - 0.5, 3), "tp": round(bid + 0.5, 3)}).retcode == 10009
    assert mt5.positions_get(ticket=position.ticket)[0][11:13] == (round(bid - 0.5, 3), round(bid + 0.5, 3))
    assert mt5.order_send({**stops, "tp": round(bid + 0.7, 3)}).retcode == 10009  # sl 0: removed, as MT5
    assert mt5.positions_get(ticket=position.ticket)[0][11:13] == (0.0, round(bid + 0.7, 3))
    wrong = mt5.order_send({**stops, "sl": round(bid + 0.5, 3)})  # a buy's stop loss above the price
    assert wrong.retcode == mt5.TRADE_RETCODE_INVALID_STOPS and "below" in wrong.comment
    close = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "USDJPY", "volume": 0.1, "type": mt5.ORDER_TYPE_SELL,
             "position": position.ticket, "deviation": 20, "magic": 234000,
             "comment": "python script close"}  # fmt: skip
    closed = mt5.order_send(close)
    assert closed.retcode == mt5.TRADE_RETCODE_DONE and closed.volume == 0.1
    assert mt5.positions_get(ticket=result.order) == ()
    deals = mt5.history_deals_get(position=position.ticket)
    assert [d.entry for d in deals] == [mt5.DEAL_ENTRY_IN, mt5.DEAL_ENTRY_OUT]
    assert deals[0].ticket == result.deal and deals[1].ticket == closed.deal
    assert deals[1].profit == pytest.approx(closed_profit(deals), abs=0.02)
    (opening,) = mt5.history_orders_get(ticket=result.order)
    assert opening.state == mt5.ORDER_STATE_FILLED and opening.volume_initial == 0.1 and opening.magic == 234000
    assert [o.type for o in mt5.history_orders_get(position=position.ticket)] == [mt5.ORDER_TYPE_BUY,
                                                                                  mt5.ORDER_TYPE_SELL]


def closed_profit(deals: tuple) -> float:
    """The profit of a round trip of USDJPY (profit in JPY, converted at the closing rate to USD)."""
    return round((deals[1].price - deals[0].price) * 100_000 * deals[0].volume / deals[1].price, 2)


def test_positions_by_group_and_history_by_dates(connected: None) -> None:
    """positions_get(group="*USD*") and history_deals_get(date_from, date_to, group=...)."""
    for symbol in ("EURUSD", "EURGBP"):
        done = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": symbol, "volume": 0.01,
                               "type": mt5.ORDER_TYPE_SELL})  # fmt: skip
        assert done.retcode == mt5.TRADE_RETCODE_DONE, done
    usd = mt5.positions_get(group="*USD*")
    assert {p.symbol for p in usd} == {"EURUSD"} and mt5.positions_total() >= 2
    assert {p.symbol for p in mt5.positions_get(group="*,!*USD*")} == {"EURGBP"}
    frame = pd.DataFrame(list(usd), columns=usd[0]._fields)
    assert list(frame.columns) == list(mt5.TradePosition._fields) and frame["ticket"].dtype == np.int64
    # both bounds on the market's clock (the machine's date says nothing of the sandbox's November)
    since, until = BROKER_NOW - timedelta(hours=1), BROKER_NOW + timedelta(days=40)
    deals = mt5.history_deals_get(since, until, group="*GBP*")
    assert [d.symbol for d in deals] == ["EURGBP"] and deals[0].type == mt5.DEAL_TYPE_SELL
    assert mt5.history_deals_total(since, until) >= 3 and mt5.history_orders_total(since, until) >= 3
    orders = mt5.history_orders_get(since, until, group="*GBP*")
    assert orders[0].state == mt5.ORDER_STATE_FILLED and orders[0].type == mt5.ORDER_TYPE_SELL


def test_pending_order_modify_and_remove(connected: None) -> None:
    ask = mt5.symbol_info_tick("EURUSD").ask
    placed = mt5.order_send({"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.02,
                             "type": mt5.ORDER_TYPE_BUY_LIMIT, "price": round(ask - 0.01, 5)})  # fmt: skip
    assert placed is not None, mt5.last_error()
    assert placed.retcode == mt5.TRADE_RETCODE_DONE and placed.order > 0 and placed.price == round(ask - 0.01, 5)
    order = mt5.orders_get(ticket=placed.order)[0]
    assert order.type == mt5.ORDER_TYPE_BUY_LIMIT and order.state == mt5.ORDER_STATE_PLACED and mt5.orders_total() == 1
    moved = mt5.order_send({"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order, "price": round(ask - 0.02, 5)})
    assert moved.retcode == mt5.TRADE_RETCODE_DONE and mt5.orders_get()[0].price_open == round(ask - 0.02, 5)
    removed = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order})
    assert removed.retcode == mt5.TRADE_RETCODE_DONE and mt5.orders_get() == ()
    expires = int((BROKER_NOW + timedelta(days=1)).timestamp())  # broker clock, as MT5's expiration
    dated = mt5.order_send({"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.01,
                            "type": mt5.ORDER_TYPE_SELL_STOP, "price": round(ask - 0.01, 5),
                            "type_time": mt5.ORDER_TIME_SPECIFIED, "expiration": expires})  # fmt: skip
    assert dated.retcode == mt5.TRADE_RETCODE_DONE, dated
    (order,) = mt5.orders_get(symbol="EURUSD")
    assert order.type_time == mt5.ORDER_TIME_SPECIFIED and order.time_expiration == expires
    assert mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": order.ticket}).retcode == 10009


def test_margin_and_profit(connected: None) -> None:
    assert mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1) == pytest.approx(1100.0)
    assert mt5.order_calc_profit(mt5.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1, 1.1010) == pytest.approx(100.0)
    assert mt5.order_calc_profit(mt5.ORDER_TYPE_SELL, "EURUSD", 1.0, 1.1, 1.1010) == pytest.approx(-100.0)


# -- bad input, as MT5 handles it --------------------------------------------------------------------------


def test_unknown_symbol_is_none_and_last_error(connected: None) -> None:
    assert mt5.symbol_info("NOPE") is None and mt5.last_error()[0] == mt5.RES_E_NOT_FOUND
    assert mt5.copy_rates_from_pos("NOPE", mt5.TIMEFRAME_M1, 0, 10) is None
    assert mt5.last_error()[0] == mt5.RES_E_NOT_FOUND and "NOPE" in mt5.last_error()[1]
    assert mt5.symbol_info("EURUSD") is not None and mt5.last_error() == (mt5.RES_S_OK, "Success")


@pytest.mark.parametrize(
    "call",
    [
        lambda: mt5.copy_rates_from_pos("EURUSD", "H1", 0, 10),
        lambda: mt5.copy_rates_from_pos(42, mt5.TIMEFRAME_H1, 0, 10),
        lambda: mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_H1, 0, "10"),
        lambda: mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_H1, "yesterday", datetime(2026, 11, 17, tzinfo=UTC)),
        lambda: mt5.copy_ticks_from("EURUSD", datetime(2026, 11, 17, tzinfo=UTC), 10, 7),
        lambda: mt5.positions_get(group=5),
        lambda: mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": "0.1"}),
        lambda: mt5.order_send({"action": 99, "symbol": "EURUSD", "volume": 0.1}),
        lambda: mt5.order_send(["not", "a", "dict"]),
        lambda: mt5.history_deals_get(datetime(2026, 11, 17, tzinfo=UTC)),
    ],
)
def test_wrong_types_give_mt5_s_invalid_params(connected: None, call) -> None:
    assert call() is None
    assert mt5.last_error()[0] == mt5.RES_E_INVALID_PARAMS


def test_a_refused_trade_is_a_retcode_and_nothing_is_sent(connected: None) -> None:
    before = mt5.positions_total()
    result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.013,
                             "type": mt5.ORDER_TYPE_BUY})  # fmt: skip
    assert result.retcode == mt5.TRADE_RETCODE_INVALID_VOLUME and "step" in result.comment
    assert mt5.positions_total() == before


def test_a_wrong_broker_clock_is_refused(box: SandboxHandle, session: Session) -> None:
    """initialize refuses a broker clock that disagrees with the server's offset (its times would be wrong)."""
    saved = (mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock)
    try:
        mt5.STATE.session = None
        assert mt5.initialize(session=session, broker_clock=0) is False
        assert mt5.last_error()[0] == mt5.RES_E_FAIL and "+2 h" in mt5.last_error()[1]
        assert not session.closed  # a session passed in is the caller's
        assert mt5.account_info() is None and mt5.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT
        assert mt5.initialize(session=session) and mt5.account_info().login == 50001
    finally:
        mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock = saved



def test_a_trade_made_by_mtdata_is_seen_through_mt5(connected: None, session: Session) -> None:
    """The other way round: a Session's buy is an mt5 position, its deals found by the order's ticket; a symbol
    held by a position cannot be deselected."""
    bought = session.buy("BTCUSD", 0.01, comment="from mtdata")
    position = mt5.positions_get(ticket=int(bought.position_id))[0]
    assert position.symbol == "BTCUSD" and position.comment == "from mtdata" and position.volume == 0.01
    assert mt5.positions_get(symbol="BTCUSD") == (position,)
    (deal,) = mt5.history_deals_get(ticket=int(bought.order_id))
    assert deal.entry == mt5.DEAL_ENTRY_IN and deal.price == bought.price and deal.position_id == position.ticket
    assert mt5.symbol_select("BTCUSD", False) is False
    session.close_position(bought.position_id)
    assert mt5.positions_get(symbol="BTCUSD") == ()


def test_tick_flags_hold_across_download_windows(connected: None) -> None:
    """copy_ticks_from over several download windows flags a tick by what changed, as one range does."""
    start = datetime(2026, 11, 17, 9, 59, 50, tzinfo=UTC)
    many = mt5.copy_ticks_from("EURUSD", start, 2000, mt5.COPY_TICKS_ALL)
    ranged = mt5.copy_ticks_range("EURUSD", start, int(many["time"][-1]), mt5.COPY_TICKS_ALL)
    assert len(many) == 2000 and len(ranged) >= 2000 and np.array_equal(many, ranged[:2000])
    assert ranged["time"][-1] == many["time"][-1]  # date_to's whole second is in


def test_broker_clocks() -> None:
    """New York close is UTC+3 while the US is on summer time, EU time switches three weeks later."""
    ny, eu, fixed = mt5.BrokerClock("ny"), mt5.BrokerClock("eu"), mt5.BrokerClock(0)
    march = datetime(2026, 3, 20, tzinfo=UTC)  # after the US switch (March 8), before the EU one (March 29)
    assert ny.offset(march) == timedelta(hours=3) and eu.offset(march) == timedelta(hours=2)
    assert ny.offset(datetime(2026, 11, 18, tzinfo=UTC)) == timedelta(hours=2) and fixed.offset(march) == timedelta(0)
    wall = int(datetime(2026, 3, 20, 10, tzinfo=UTC).timestamp())
    assert ny.to_utc(wall) == pd.Timestamp("2026-03-20 07:00", tz="UTC") and ny.from_utc(ny.to_utc(wall)) == wall
    with pytest.raises(ValueError, match="not one instant"):
        ny.to_utc(int(datetime(2026, 11, 1, 8, 30, tzinfo=UTC).timestamp()))  # New York's repeated 1:30
    with pytest.raises(ValueError, match="broker_clock"):
        mt5.BrokerClock("tokyo")


def test_a_wrong_login_fails_and_closes(box: SandboxHandle, session: Session) -> None:
    saved = (mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock)
    try:
        mt5.STATE.session = None
        assert mt5.initialize(session=session, login=1) is False and mt5.last_error()[0] == mt5.RES_E_AUTH_FAILED
        assert mt5.STATE.session is None and not session.closed
        assert mt5.initialize(session=session, broker_clock="tokyo") is False
        assert mt5.last_error()[0] == mt5.RES_E_INVALID_PARAMS
    finally:
        mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock = saved


def test_a_closed_market_is_mt5_s_retcode(mtdata_sandbox_factory) -> None:
    """On a Saturday an FX order is refused with TRADE_RETCODE_MARKET_CLOSED and nothing is sent; BTCUSD trades."""
    import mtdata

    saturday = mtdata_sandbox_factory(start="2026-11-21T12:00:00Z")
    saved = (mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock)
    mt5.STATE.session = None
    try:
        with mtdata.connect(saturday.token, saturday.account_id, url=saturday.url, progress=False) as weekend:
            assert mt5.initialize(session=weekend)
            buy = {"action": mt5.TRADE_ACTION_DEAL, "volume": 0.01, "type": mt5.ORDER_TYPE_BUY}
            refused = mt5.order_send({**buy, "symbol": "EURUSD"})
            assert refused.retcode == mt5.TRADE_RETCODE_MARKET_CLOSED and "closed" in refused.comment
            assert mt5.order_check({**buy, "symbol": "EURUSD"}).retcode == mt5.TRADE_RETCODE_MARKET_CLOSED
            assert mt5.positions_total() == 0 and weekend.deals()["symbol"].isna().all()
            assert mt5.order_send({**buy, "symbol": "BTCUSD"}).retcode == mt5.TRADE_RETCODE_DONE
    finally:
        mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock = saved


def test_a_refused_token_is_auth_failed(box: SandboxHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token the server refuses: initialize is False, RES_E_AUTH_FAILED, and the token is not in the message."""
    token = "x" * 24 + "secretpart"
    monkeypatch.setenv("MTDATA_SANDBOX_URL", box.url)
    monkeypatch.setenv("MTDATA_SANDBOX_TOKEN", token)
    monkeypatch.setenv("MTDATA_SANDBOX_ACCOUNT_ID", box.account_id)
    monkeypatch.delenv("METAAPI_TOKEN", raising=False)
    saved = (mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock)
    mt5.STATE.session = None
    try:
        assert mt5.initialize() is False
        code, message = mt5.last_error()
        assert code == mt5.RES_E_AUTH_FAILED and "secretpart" not in message
        assert mt5.initialize(account_id=box.account_id) is False  # an account id alone names no cloud account
        assert mt5.last_error()[0] == mt5.RES_E_INVALID_PARAMS and mt5.STATE.session is None
    finally:
        mt5.STATE.session, mt5.STATE.owned, mt5.STATE.clock = saved


def test_blocking_calls_work_inside_a_running_event_loop(connected: None) -> None:
    """A Jupyter cell runs inside the kernel's event loop: the calls block on the session's own loop thread."""
    import asyncio

    async def cell() -> tuple:
        return mt5.symbol_info_tick("EURUSD"), mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_M1, 0, 3)

    tick, rates = asyncio.run(cell())
    assert tick.bid > 0 and rates.shape == (3,)
