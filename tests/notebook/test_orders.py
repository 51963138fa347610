"""Orders from cells against the sandbox: each helper acts, bad input is refused before sending, rejections raise."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import mtdata
from mtdata.errors import TradeException, ValidationException
from mtdata.order_checks import OrderPreview, check_session
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session
from mtdata.trade_result import FillWatch, TradeResult, filled

#: A Saturday noon on the sandbox's clock (FX closed); the module's own sandbox (conftest ``box``) runs on a Wednesday.
SATURDAY = "2026-11-21T12:00:00Z"


@pytest.fixture(scope="module")
def s(session: Session) -> Session:
    """The session on the module's own sandbox (its tests trade)."""
    return session


def _wait(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _quote(s: Session, symbol: str = "EURUSD") -> tuple[float, float]:
    row = s.price(symbol).iloc[0]
    return float(row["bid"]), float(row["ask"])


@contextlib.contextmanager
def _still(s: Session, box: SandboxHandle, symbol: str = "EURUSD") -> Iterator[tuple[float, float]]:
    """Hold ``symbol``'s price still and yield it (bid, ask) once the session streams it: a quote the client reads
    and the fill the server makes later are then of one price, however long the trade takes on a loaded machine.

    The still price starts a second ahead of the market's clock, past anything the sandbox streamed already, so
    its next step sends it (a path forced from now could begin before a tick already sent, never correcting it)."""
    _quote(s, symbol)  # subscribed: the sandbox streams the symbol's ticks to the session
    market = box.server.market
    at = market.now_ms() + 1000
    price = market.price(symbol)
    bid, ask = price["bid"], price["ask"]
    market.force_path(symbol, [(at, bid, ask), (at + 10**9, bid, ask)])
    try:
        _wait(lambda: market.now_ms() > at and _quote(s, symbol) == (bid, ask))
        yield bid, ask
    finally:
        market.clear_forced(symbol)


def _ids(s: Session) -> tuple[set[str], set[str]]:
    return set(s.positions()["id"]), set(s.orders()["id"])


def _stored(box: SandboxHandle) -> tuple[int, int, int]:
    """Positions, pending orders and history orders the server holds (a refused trade adds none)."""
    return tuple(len(box.server.store.select(t, "account_id = ?", (box.account_id,))) for t in
                 ("positions", "orders", "history_orders"))  # type: ignore[return-value]  # fmt: skip


def test_buy_and_sell_open_positions(s: Session, box: SandboxHandle) -> None:
    # the price held still, the sell opens at the bid the session holds (moving, a tick may come between the two);
    # its stops in pips are measured from the fill whatever the price does (the next test moves it)
    with _still(s, box) as (bid, ask):
        bought = s.buy("EURUSD", 0.1, sl=round(bid - 0.005, 5), tp=round(ask + 0.005, 5), comment="cell")
        sold = s.sell("EURUSD", 0.2, sl=50, tp=30, units="pips")
    for result in (bought, sold):
        assert isinstance(result, TradeResult) and result.code == 10009 and result.string_code == "TRADE_RETCODE_DONE"
        assert result.position_id and result.order_id and result.client_id
    _wait(lambda: {bought.position_id, sold.position_id} <= _ids(s)[0])
    positions = s.positions().set_index("id")
    buy, sell = positions.loc[bought.position_id], positions.loc[sold.position_id]
    assert (buy["type"], buy["volume"], buy["comment"]) == ("POSITION_TYPE_BUY", 0.1, "cell")
    assert buy["stop_loss"] == round(bid - 0.005, 5)
    assert sell["type"] == "POSITION_TYPE_SELL" and sell["volume"] == 0.2 and sell["open_price"] == bid
    assert sell["stop_loss"] == round(bid + 0.005, 5)  # 50 pips above the bid
    assert sell["take_profit"] == round(bid - 0.003, 5)
    s.close_all("EURUSD")


def test_a_market_orders_stops_in_pips_are_measured_from_its_fill(s: Session, box: SandboxHandle) -> None:
    """The price moves 20 pips between the check (the session's quote) and the fill (the trade held on its way to
    the broker): the stops given in pips lie exactly that many pips from the open price, not from the quote."""
    _quote(s)  # subscribed: the sandbox streams EURUSD to the session
    market, second = box.server.market, int(1000 * box.server.market.speed)
    price = market.price("EURUSD")
    bid, ask = price["bid"], price["ask"]
    moved, moved_ask = round(bid + 0.002, 5), round(ask + 0.002, 5)
    at = market.now_ms() + second  # still from a second ahead (past every tick sent), then up 20 pips 2 s later
    market.force_path("EURUSD", [(at, bid, ask), (at + 2 * second, moved, moved_ask), (at + 10**9, moved, moved_ask)])
    try:
        _wait(lambda: market.now_ms() > at and _quote(s) == (bid, ask))
        box.server.faults.add_delay(3.0, scope="socket", count=1, request_type="trade")  # filled after the move
        preview = s.preview("sell", "EURUSD", 0.1, sl=50, tp=30, units="pips")
        sold = s.sell("EURUSD", 0.1, sl=50, tp=30, units="pips")
    finally:
        market.clear_forced("EURUSD")
    position = s.positions().set_index("id").loc[sold.position_id]
    assert preview.quote == bid and position["open_price"] == sold.price == moved  # checked at bid, filled 20 pips up
    assert (position["stop_loss"], position["take_profit"]) == (round(moved + 0.005, 5), round(moved - 0.003, 5))
    s.close_position(sold.position_id)


def test_a_fill_carries_its_price_volume_and_time_as_the_deals_say(s: Session) -> None:
    """Market orders and closes: price, volume and time of the deal that filled them (MetaTrader's result has
    them); a pending order placed, a modification and a cancellation filled nothing."""
    opened = s.buy("EURUSD", 0.1)
    _wait(lambda: opened.position_id in _ids(s)[0])
    position = s.positions().set_index("id").loc[opened.position_id]
    assert (opened.price, opened.volume) == (position["open_price"], 0.1)
    assert opened.time is not None and opened.time.utcoffset() == timedelta(0)
    closed = s.close_position(opened.position_id)
    deals = s.deals()
    by_order = deals[deals["order_id"] == closed.order_id]
    assert len(by_order) == 1 and by_order["entry_type"].iloc[0] == "DEAL_ENTRY_OUT"
    assert (closed.price, closed.volume) == (by_order["price"].iloc[0], 0.1)
    assert closed.time == by_order.index[0].to_pydatetime() and closed.time >= opened.time
    assert f"filled 0.1 lots at {closed.price:g}" in str(closed)
    bid, _ask = _quote(s)
    pending = s.buy_limit("EURUSD", 0.1, round(bid - 0.01, 5))
    assert (pending.price, pending.volume, pending.time) == (None, None, None)
    assert s.cancel(pending.order_id).price is None


def test_volume_weighted_price_of_a_partial_fill_and_no_deal_within_the_wait(s: Session) -> None:
    result = TradeResult(10009, "TRADE_RETCODE_DONE", "Request completed", "9", "9")
    first, last = datetime(2026, 11, 18, 12, tzinfo=UTC), datetime(2026, 11, 18, 12, 0, 1, tzinfo=UTC)
    deals = [{"price": 1.1, "volume": 0.1, "time": first}, {"price": 1.4, "volume": 0.2, "time": last}]
    assert filled(result, deals) == replace(result, price=1.3, volume=0.3, time=last)
    assert filled(result, []) is result
    watch = FillWatch(s.run(s.connection_async()))
    assert s.run(watch.fill(result, wait=0.2)) == result  # no deal of order 9 ever comes: no fill, no guess


@pytest.mark.parametrize("kind", ["buy_limit", "sell_limit", "buy_stop", "sell_stop"])
def test_pending_orders_are_placed_and_cancelled(s: Session, kind: str) -> None:
    bid, ask = _quote(s)
    below = kind in ("buy_limit", "sell_stop")
    price = round((bid if kind.startswith("sell") else ask) + (-0.01 if below else 0.01), 5)
    buy = kind.startswith("buy")
    result = getattr(s, kind)("EURUSD", 0.1, price, sl=20, tp=40, units="pips", expiration="2026-11-30T00:00:00Z")
    assert result.code == 10009 and result.order_id and result.position_id is None
    _wait(lambda: result.order_id in _ids(s)[1])
    order = s.orders().set_index("id").loc[result.order_id]
    assert order["type"] == f"ORDER_TYPE_{kind.upper()}" and order["open_price"] == price
    assert order["stop_loss"] == pytest.approx(price - 0.002 if buy else price + 0.002, abs=1e-6)
    row = s.orders().reset_index().set_index("id", drop=False).loc[result.order_id]
    cancelled = s.cancel(row)
    assert cancelled.code == 10009
    _wait(lambda: result.order_id not in _ids(s)[1])


def test_modify_close_and_close_all(s: Session) -> None:
    bid, ask = _quote(s)
    first, second, third = s.buy("EURUSD", 0.1), s.sell("EURUSD", 0.1), s.buy("GBPUSD", 0.1)
    _wait(lambda: {first.position_id, second.position_id, third.position_id} <= _ids(s)[0])
    row = s.positions().set_index("id", drop=False).loc[first.position_id]
    assert s.modify(row, sl=round(bid - 0.01, 5), tp=round(ask + 0.01, 5)).code == 10009
    _wait(lambda: s.positions().set_index("id").loc[first.position_id, "stop_loss"] == round(bid - 0.01, 5))
    assert s.close_position({"id": first.position_id}).code == 10009
    _wait(lambda: first.position_id not in _ids(s)[0])
    results = s.close_all("EURUSD")
    assert [r.position_id for r in results] == [second.position_id]
    _wait(lambda: _ids(s)[0] == {third.position_id})
    assert s.close_position(third.position_id).code == 10009
    _wait(lambda: not _ids(s)[0])
    assert s.close_all() == []


async def test_async_twins(s: Session) -> None:
    result = await s.buy_async("EURUSD", 0.01)
    assert result.code == 10009
    assert (await s.close_position_async(result.position_id)).position_id == result.position_id


async def test_helpers_awaited_on_the_sessions_own_loop(s: Session) -> None:
    """From a coroutine already on the session's loop (a feed callback's task): the *_async twins run directly,
    a blocking helper refuses with a clear message instead of deadlocking."""

    async def on_loop() -> tuple[TradeResult, TradeResult, OrderPreview]:
        opened = await s.buy_async("EURUSD", 0.01)
        preview = await s.preview_async("sell", "EURUSD", 0.01)
        return opened, await s.close_position_async(opened.position_id), preview

    opened, closed, preview = s.run(on_loop())
    assert opened.code == 10009 and closed.position_id == opened.position_id
    assert isinstance(preview, OrderPreview)

    async def blocking() -> TradeResult:
        return s.buy("EURUSD", 0.01)

    with pytest.raises(RuntimeError, match=r"on the session's own loop; await its \*_async twin"):
        s.run(blocking())


def test_preview_checks_like_the_helpers_and_sends_nothing(s: Session, box: SandboxHandle) -> None:
    before = _stored(box)
    market = s.preview("buy", "EURUSD", 0.1, sl=20, tp=40, units="pips")
    assert (market.kind, market.symbol, market.volume, market.price, market.units) == (
        "buy",
        "EURUSD",
        0.1,
        None,
        "pips",
    )
    assert market.sl == pytest.approx(market.quote - 0.002) and market.tp == pytest.approx(market.quote + 0.004)
    shown = f"{market.quote:.5f}"
    assert str(market) == (
        f"Buy 0.1 lots of EURUSD at market (the ask is {shown} now), SL 20 pips below the ask ({market.sl:.5f}) "
        f"and TP 40 pips above the ask ({market.tp:.5f})."
    )
    relative = {"units": "RELATIVE_PRICE"}  # sent as distances, which the broker measures from the fill
    assert market.stops_sent() == ({**relative, "value": 0.002}, {**relative, "value": 0.004})
    assert replace(market, sl_away=None, sl=1.0).stops_sent() == (1.0, {**relative, "value": 0.004})  # a price
    bid, _ = _quote(s)
    price = round(bid + 0.01, 5)
    pending = s.preview("sell limit", "EURUSD", 0.2, price, sl=round(price + 0.002, 5))
    assert str(pending) == (
        f"Sell limit 0.2 lots of EURUSD at {price:.5f} (the bid is {pending.quote:.5f} now), "
        f"SL {price + 0.002:.5f} and no TP."
    )
    assert "OrderPreview" in pending._repr_html_()
    stop = s.preview("buy stop", "EURUSD", 0.01, round(price + 0.01, 5), tp=10, units="pips")
    assert str(stop).endswith(f"no SL and TP 10 pips away ({stop.tp:.5f}).")
    assert pending.stops_sent() == (pending.sl, None) and stop.stops_sent() == (None, stop.tp)  # from their price
    for call, name in [
        (lambda: s.preview("buy", "EURUSD", 0.015), "volume"),
        (lambda: s.preview("sell", "EURUSD", 0.1, sl=bid - 0.01), "sl"),
        (lambda: s.preview("buy limit", "EURUSD", 0.1, bid + 0.01), "price"),
        (lambda: s.preview("buy", "EURUSD", 0.1, 1.1), "price"),
        (lambda: s.preview("buy now", "EURUSD", 0.1), "kind"),
        (lambda: s.preview("buy", "NOPE", 0.1), "symbol"),
    ]:
        with pytest.raises(ValidationException) as caught:
            call()
        assert caught.value.details[0]["parameter"] == name
    assert _stored(box) == before


def test_cancel_outside_the_trade_sessions_is_refused_before_sending(s: Session) -> None:
    """The sandbox trades FX around the clock on weekdays: the client's copy of the sessions is narrowed to Sunday."""
    bid, _ = _quote(s)
    placed = s.sell_limit("EURUSD", 0.1, round(bid + 0.01, 5))
    _wait(lambda: placed.order_id in _ids(s)[1])
    spec = s.run(s.connection_async()).terminal_state.specification("EURUSD")
    sessions = spec["tradeSessions"]
    spec["tradeSessions"] = {"SUNDAY": [{"from": "22:00:00.000", "to": "23:59:59.999"}]}
    try:
        with pytest.raises(ValidationException) as caught:
            s.cancel(placed.order_id)
        assert str(caught.value) == "EURUSD is closed for trading until Sunday 22:00 broker time."
        assert caught.value.details[0]["parameter"] == "symbol"
        assert placed.order_id in _ids(s)[1]
    finally:
        spec["tradeSessions"] = sessions
    assert s.cancel(placed.order_id).code == 10009


def _refusals(bid: float, ask: float) -> list[tuple[str, Callable[[Session], object], str, str]]:
    """(case, call, argument named, words of the sentence)."""
    return [
        ("unknown symbol", lambda s: s.buy("NOPE", 0.1), "symbol", "NOPE is not a symbol of this account"),
        ("volume below min", lambda s: s.buy("EURUSD", 0.001), "volume", "below the minimum of 0.01 lots"),
        ("volume above max", lambda s: s.sell("EURUSD", 500), "volume", "above the maximum of 100 lots"),
        ("volume off step", lambda s: s.buy("EURUSD", 0.015), "volume", "not a multiple of the 0.01 lot step"),
        ("buy sl above", lambda s: s.buy("EURUSD", 0.1, sl=ask + 0.01), "sl", "must be below the entry price"),
        ("buy tp below", lambda s: s.buy("EURUSD", 0.1, tp=bid - 0.01), "tp", "must be above the entry price"),
        ("sell sl below", lambda s: s.sell("EURUSD", 0.1, sl=bid - 0.01), "sl", "must be above the entry price"),
        ("sell tp above", lambda s: s.sell("EURUSD", 0.1, tp=ask + 0.01), "tp", "must be below the entry price"),
        ("buy limit above", lambda s: s.buy_limit("EURUSD", 0.1, ask + 0.01), "price", "must be below the current ask"),
        (
            "sell limit below",
            lambda s: s.sell_limit("EURUSD", 0.1, bid - 0.01),
            "price",
            "must be above the current bid",
        ),
        ("buy stop below", lambda s: s.buy_stop("EURUSD", 0.1, ask - 0.01), "price", "must be above the current ask"),
        ("sell stop above", lambda s: s.sell_stop("EURUSD", 0.1, bid + 0.01), "price", "must be below the current bid"),
        ("pending sl", lambda s: s.buy_limit("EURUSD", 0.1, ask - 0.01, sl=ask), "sl", "must be below the entry price"),
        ("bad units", lambda s: s.buy("EURUSD", 0.1, sl=10, units="lots"), "units", "must be one of price, pips"),
    ]


def test_bad_input_is_refused_before_sending(s: Session, box: SandboxHandle) -> None:
    s.close_all()
    bid, ask = _quote(s)
    for case, call, name, words in _refusals(bid, ask):
        before = _stored(box)
        with pytest.raises(ValidationException) as caught:
            call(s)
        error = caught.value
        assert error.details[0]["parameter"] == name, case
        assert words in str(error) and ". " not in str(error), (case, str(error))  # one sentence
        assert _stored(box) == before, f"{case}: something was sent"


def test_unknown_position_and_order_are_refused(s: Session) -> None:
    with pytest.raises(ValidationException, match="position 999999 is not open"):
        s.close_position("999999")
    with pytest.raises(ValidationException, match="order 999999 is not a pending order"):
        s.cancel(999999)
    with pytest.raises(ValidationException, match="position 999999 is not open"):
        s.modify({"id": "999999"}, sl=1.0)


async def test_none_for_a_position_or_order_is_refused_by_name_and_the_session_stays_open(
    s: Session, box: SandboxHandle
) -> None:
    """A pending order's TradeResult has position_id None: passing it on is refused, never read as "the session"."""
    bid, _ask = _quote(s)
    pending = s.buy_limit("EURUSD", 0.1, round(bid - 0.01, 5))
    assert pending.position_id is None
    before = _stored(box)
    for call, name in (
        (lambda: s.close_position(pending.position_id), "position"),
        (lambda: s.run(s.close_position_async(None)), "position"),
        (lambda: s.modify(None, sl=1.0), "position"),
        (lambda: s.cancel(None), "order"),
    ):
        with pytest.raises(ValidationException) as caught:
            call()
        assert caught.value.details[0]["parameter"] == name
        assert str(caught.value).startswith(f"{name} is None: pass the {name}'s id, record or row of s.{name}s()")
        assert ("cancel its order_id instead" in str(caught.value)) == (name == "position")
    with pytest.raises(TypeError):
        s.close(pending.position_id)  # type: ignore[call-arg]  # close() closes the session and takes nothing
    with pytest.raises(TypeError):
        await s.close_async(None)  # type: ignore[call-arg]
    assert not s.closed and _stored(box) == before
    assert s.cancel(pending.order_id).code == 10009


def test_stops_level(s: Session, box: SandboxHandle) -> None:
    """The sandbox's symbols have no stops level: one is set on the client's copy of the specification."""
    spec = s.run(s.connection_async()).terminal_state.specification("EURUSD")
    spec["stopsLevel"] = 100
    try:
        _, ask = _quote(s)
        before = _stored(box)
        with pytest.raises(ValidationException, match=r"^sl .* closer to the entry price .* stops level of 100 points"):
            s.buy("EURUSD", 0.1, sl=round(ask - 0.0005, 5))
        with pytest.raises(
            ValidationException, match=r"^price .* buy limit is closer to the ask .* stops level of 100"
        ):
            s.buy_limit("EURUSD", 0.1, round(ask - 0.0005, 5))
        assert _stored(box) == before
    finally:
        spec["stopsLevel"] = 0


def test_server_rejection_raises_trade_exception(s: Session, box: SandboxHandle) -> None:
    with pytest.raises(TradeException) as caught:
        s.buy("EURUSD", 99)  # within the volume limits, beyond the free margin
    assert caught.value.numeric_code == 10019 and caught.value.string_code == "TRADE_RETCODE_NO_MONEY"
    assert "Not enough money" in caught.value.message


def test_closed_market_is_refused() -> None:
    with mtdata.connect(sandbox={"start": SATURDAY}, progress=False) as saturday:
        with pytest.raises(ValidationException) as caught:
            saturday.buy("EURUSD", 0.1)
        assert str(caught.value) == "EURUSD is closed for trading until Monday 00:00 broker time."
        assert caught.value.details[0]["parameter"] == "symbol"
        assert saturday.positions().empty and saturday.history_orders().empty


def test_result_reprs() -> None:
    result = TradeResult(10009, "TRADE_RETCODE_DONE", "Request completed", "7", "7", "TE_x<y")
    assert str(result) == "10009 TRADE_RETCODE_DONE: Request completed (order_id 7, position_id 7, client_id TE_x<y)"
    fill = replace(result, price=1.0525, volume=0.1, time=datetime(2026, 11, 18, 12, tzinfo=UTC))
    assert str(fill) == (
        "10009 TRADE_RETCODE_DONE: Request completed (order_id 7, position_id 7, client_id TE_x<y), "
        "filled 0.1 lots at 1.0525 at 2026-11-18T12:00:00.000+00:00"
    )
    assert "<th style='text-align:left'>price</th>" in fill._repr_html_()
    page = result._repr_html_()
    assert "<table>" in page and "TRADE_RETCODE_DONE" in page and "TE_x&lt;y" in page and "<th" in page
    assert "TradeResult(code=10009" in repr(result)
    assert "order_id" not in TradeResult(10018, "TRADE_RETCODE_MARKET_CLOSED", "closed")._repr_html_()


@pytest.mark.parametrize(
    ("broker_time", "sentence"),
    [
        ("2026-11-18 10:00:00.000", None),
        ("2026-11-18 12:30:00.000", "XAUUSD is closed for trading until Wednesday 13:00 broker time."),
        ("2026-11-18 18:00:00.000", "XAUUSD is closed for trading until Thursday 08:00 broker time."),
        ("2026-11-20 23:56:00.000", "XAUUSD is closed for trading until Monday 08:00 broker time."),
    ],
)
def test_trade_sessions_by_the_broker_clock(broker_time: str, sentence: str | None) -> None:
    day = [{"from": "08:00:00.000", "to": "12:00:00.000"}, {"from": "13:00:00.000", "to": "17:00:00.000"}]
    week = {name: day for name in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")}
    spec = {"symbol": "XAUUSD", "tradeSessions": {**week, "SATURDAY": [], "SUNDAY": []}}
    if sentence is None:
        check_session(spec, broker_time)
        return
    with pytest.raises(ValidationException) as caught:
        check_session(spec, broker_time)
    assert str(caught.value) == sentence and caught.value.details[0]["parameter"] == "symbol"
    with pytest.raises(ValidationException, match=r"^XAUUSD has no trading session\.$"):
        check_session({"symbol": "XAUUSD", "tradeSessions": {"MONDAY": []}}, broker_time)
