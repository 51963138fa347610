"""The order ticket's prices against a real sandbox: SL/TP converted between units, the market order's price
following the quote, the quote subscription moving with the symbol (the review and send: ``test_order_ticket.py``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import pytest
from live_frontend import Frontend
from test_feed import kinds
from test_market_panels import session_tasks
from ticket_helpers import editable, quote, review, until

import mtdata
from mtdata.errors import ValidationException
from mtdata.live import LiveFeed, Stream
from mtdata.live.order_ticket import OrderTicket, convert_stop

# -- SL / TP unit switch ------------------------------------------------------------------------------------


def switch(ticket: OrderTicket, units: str) -> tuple[float, float]:
    """Switch the SL/TP units; the converted (sl, tp)."""
    ticket.units.value = units
    return ticket.sl.value, ticket.tp.value


@pytest.mark.parametrize(("side", "kind"), [("buy", "market"), ("sell", "market"), ("buy", "limit"), ("sell", "stop")])
async def test_switching_units_converts_sl_and_tp_to_the_same_levels(ticket: OrderTicket, side: str, kind: str):
    ticket.side.value, ticket.kind.value = side, kind
    if kind != "market":
        below = (side, kind) in (("buy", "limit"), ("sell", "stop"))
        ticket.price.value = round(ticket.price.value + (-0.01 if below else 0.01), 5)
    reference, sign = ticket.price.value, 1 if side == "buy" else -1  # a market order's: the quote shown
    sl, tp = round(reference - sign * 0.00253, 5), round(reference + sign * 0.0041, 5)
    ticket.sl.value, ticket.tp.value = sl, tp
    assert switch(ticket, "pips") == (pytest.approx(25.3), pytest.approx(41.0))
    assert switch(ticket, "price") == (pytest.approx(sl, abs=1e-5), pytest.approx(tp, abs=1e-5))
    assert ticket.price.value == reference
    ticket.units.value, ticket.sl.value, ticket.tp.value = "pips", 12.5, 30
    assert switch(ticket, "price") == (
        pytest.approx(reference - sign * 0.00125, abs=1e-9), pytest.approx(reference + sign * 0.003, abs=1e-9)
    )  # fmt: skip
    assert switch(ticket, "pips") == (pytest.approx(12.5), pytest.approx(30.0))
    await review(ticket)  # the helpers take them (a market order's distances from the quote when checked)
    assert ticket.state == "review", ticket.message
    assert "SL 12.5 pips" in ticket.summary.value and "TP 30 pips" in ticket.summary.value


async def test_zero_stays_none_and_a_wrong_side_level_stays_wrong(ticket: OrderTicket):
    reference = ticket.price.value  # a buy at market: SL below the ask
    ticket.sl.value, ticket.tp.value = round(reference + 0.001, 5), 0.0
    assert switch(ticket, "pips") == (pytest.approx(-10.0), 0.0)
    await review(ticket)
    assert editable(ticket) and ticket.message == "sl must be >= 0, got -10.0"
    reference = ticket.price.value  # the field followed the ask while the review was under way: pips count from it
    assert switch(ticket, "price") == (pytest.approx(reference + 0.001, abs=1e-9), 0.0)
    await review(ticket)
    assert editable(ticket) and ticket.message.startswith(f"sl {reference + 0.001:.5f} must be below the entry price")
    ticket.side.value = "sell"  # a sell's TP above its bid: wrong side too
    reference = ticket.price.value
    ticket.sl.value, ticket.tp.value = 0.0, round(reference + 0.002, 5)
    assert switch(ticket, "pips") == (0.0, pytest.approx(-20.0))
    ticket.units.value, ticket.sl.value, ticket.tp.value = "price", reference, 0.0  # at the reference: no distance
    assert switch(ticket, "pips") == (0.0, 0.0)
    assert ticket.message == f"sl {reference:g} was the reference price {reference:g} itself: now none."


async def test_units_convert_only_while_editing(ticket: OrderTicket):
    ticket.sl.value = round(ticket.price.value - 0.002, 5)
    ticket.review_button.click()
    assert ticket.state == "checking"
    ticket.units.value = "pips"  # the control is disabled: a change from code is not converted
    assert ticket.sl.value == round(ticket.price.value - 0.002, 5)
    await until(lambda: ticket.state != "checking")


def test_convert_stop_uses_the_symbols_pip_or_ten_points():
    yen = pd.Series({"digits": 3, "point": 0.001, "pip_size": 0.01})
    assert convert_stop(yen, "sl", 150.123, 150.5, True, "price", "pips") == 37.7
    assert convert_stop(yen, "tp", 37.7, 150.5, False, "pips", "price") == 150.123
    assert convert_stop(yen, "tp", 150.123, 150.5, False, "price", "points") == 377.0
    assert convert_stop(yen, "sl", 0.0, 150.5, True, "price", "pips") == 0.0
    no_pip = pd.Series({"digits": 2, "point": 0.01, "pip_size": float("nan")})
    assert convert_stop(no_pip, "sl", 2000.0, 2010.0, True, "price", "pips") == 100.0


# -- the market order's price follows the quote -------------------------------------------------------------


class Quotes:
    """The quotes of a symbol the session's feed delivers (a sink of its own), and the price field's values.

    The ticket may hold a quote that came before this sink (its field shows it at its next update): that one is
    counted as delivered. Values are recorded from then on (the field updates on this loop, not while this runs).
    The feed calls the ticket's sink before this one, in one callback on the session's loop, so the field may show
    a quote this sink has yet to get: :meth:`settled` waits that callback out before the sets are compared.
    """

    def __init__(self, s: mtdata.Session, ticket: OrderTicket, symbol: str) -> None:
        self.session, self.feed, self.stream = s, s.panel.feed, Stream("quotes", symbol)
        self.asks: set[float] = set()
        self.bids: set[float] = set()
        self.count = 0
        self.shown: list[float] = []
        self.feed.attach(self.stream, self._sink)
        held = ticket._latest  # read after attaching: any quote newer than it reaches the sink
        if held is not None and held["symbol"] == symbol:
            self.asks.add(round(held["ask"], 5))
            self.bids.add(round(held["bid"], 5))
        ticket.price.observe(lambda change: self.shown.append(change["new"]), names="value")

    def _sink(self, price: dict[str, Any]) -> None:
        self.asks.add(round(price["ask"], 5))
        self.bids.add(round(price["bid"], 5))
        self.count += 1

    def settled(self) -> Quotes:
        """This, once any delivery under way on the session's loop has reached this sink too."""
        self.session.run(asyncio.sleep(0))
        return self

    def close(self) -> None:
        self.feed.detach(self.stream, self._sink)


async def test_a_market_orders_price_follows_the_quote(ticket: OrderTicket, s: mtdata.Session):
    assert ticket.price.disabled and ticket._stream == Stream("quotes", "EURUSD")
    quotes = Quotes(s, ticket, "EURUSD")
    try:
        await until(lambda: len(set(quotes.shown)) >= 3)  # the field moved with the market, by itself
        assert set(quotes.shown) <= quotes.settled().asks  # a buy: the asks delivered
        ticket.side.value = "sell"
        shown = len(quotes.shown)
        await until(lambda: len(set(quotes.shown[shown + 1 :])) >= 3)
        assert set(quotes.shown[shown + 1 :]) <= quotes.settled().bids
    finally:
        quotes.close()


async def test_a_pending_orders_typed_price_is_never_overwritten(ticket: OrderTicket, s: mtdata.Session):
    ticket.kind.value = "limit"
    typed = round(ticket.price.value - 0.01, 5)
    ticket.price.value = typed
    quotes = Quotes(s, ticket, "EURUSD")
    try:
        flushes = ticket._throttle.flushes
        await until(lambda: quotes.count >= 5 and ticket._throttle.flushes >= flushes + 2)  # quotes came, were seen
        assert ticket.price.value == typed and quotes.shown == []
        ticket.kind.value = "market"  # market again: the quote
        await until(lambda: ticket.price.value in quotes.asks)
    finally:
        quotes.close()


async def test_switching_symbol_moves_the_subscription(ticket: OrderTicket, s: mtdata.Session):
    feed = s.panel.feed
    before, eurusd = feed.streams, Stream("quotes", "EURUSD")
    ticket.symbol.value = "GBP"  # typing: not a symbol yet, nothing followed
    assert ticket._stream is None and feed.streams.get(eurusd, 0) == before[eurusd] - 1
    ticket.symbol.value = "GBPUSD"
    assert ticket._stream == Stream("quotes", "GBPUSD")
    assert feed.streams[Stream("quotes", "GBPUSD")] == before.get(Stream("quotes", "GBPUSD"), 0) + 1
    quotes = Quotes(s, ticket, "GBPUSD")
    try:
        await until(lambda: len(set(quotes.shown)) >= 2)
        assert set(quotes.shown) <= quotes.settled().asks
    finally:
        quotes.close()


async def test_close_leaves_no_sink_subscription_or_task(s: mtdata.Session, frontend: Frontend):
    feed = s.panel.feed
    s.connection()
    subscribed = {name: kinds(s, name) for name in s.connection().subscribed_symbols()}
    streams, tasks = feed.streams, session_tasks(s)
    ticket = OrderTicket(s, "AUDUSD")  # no one else follows AUDUSD: the ticket's feed subscribes
    assert feed.streams == {**streams, Stream("quotes", "AUDUSD"): 1} and kinds(s, "AUDUSD") == [("quotes", None)]
    await until(lambda: ticket._throttle.flushes > 0)
    ticket.symbol.value = "NZDUSD"
    assert Stream("quotes", "AUDUSD") not in feed.streams and kinds(s, "AUDUSD") == []  # moved
    assert not ticket.closed
    ticket.close()
    ticket.close()
    assert ticket.closed
    assert feed.streams == streams and ticket._stream is None
    assert ticket._throttle.closed and ticket._throttle._timer is None
    assert {name: kinds(s, name) for name in s.connection().subscribed_symbols()} == subscribed
    await until(lambda: not session_tasks(s) - tasks)


async def test_without_a_live_feed_the_price_is_the_one_shot_quote(s: mtdata.Session, frontend: Frontend):
    closed = LiveFeed(s)
    closed.close()
    ticket = OrderTicket(s, "EURUSD", feed=closed)  # attaching fails: the ticket works without it
    bid, ask = quote(s)
    assert ticket._stream is None and ticket.price.value == pytest.approx(ask, abs=0.002)
    ticket.side.value = "sell"
    assert ticket.price.value == pytest.approx(bid, abs=0.002)
    await review(ticket)
    assert ticket.state == "review", ticket.message
    ticket.close()
    with pytest.raises(ValidationException) as caught:
        OrderTicket(s, "EURUSD", feed=object())  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "feed"
