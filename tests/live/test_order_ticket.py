"""The order ticket driven through its controls against a real sandbox: review, confirm, refusals, no double send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import ipywidgets
import pandas as pd
import pytest
from live_frontend import Frontend
from test_feed import kinds
from test_market_panels import session_tasks

import mtdata
from mtdata import sandbox as sandboxes
from mtdata.errors import ValidationException
from mtdata.live import LiveFeed, Stream
from mtdata.live.order_ticket import OrderTicket, convert_stop
from mtdata.live.trade_tables import PositionsPanel
from mtdata.sandbox import SandboxHandle

WEDNESDAY, SATURDAY = "2026-11-18T09:00:00Z", "2026-11-21T12:00:00Z"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """A sandbox of this module's own (its tests trade) on a Wednesday morning."""
    with sandboxes.start(data_dir=tmp_path_factory.mktemp("sandbox"), start=WEDNESDAY) as handle:
        yield handle


@pytest.fixture(scope="module")
def s(box: SandboxHandle) -> Iterator[mtdata.Session]:
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        yield session


@pytest.fixture
async def ticket(s: mtdata.Session, frontend: Frontend) -> AsyncIterator[OrderTicket]:
    """``s.order_ticket``: a EURUSD ticket over a positions panel of every symbol; positions left open are closed
    afterwards."""
    made = s.order_ticket("EURUSD")
    assert isinstance(made.positions, PositionsPanel) and made.positions.symbol is None
    yield made
    made.close()
    s.close_all()
    for order in s.orders()["id"]:
        s.cancel(order)


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Let the loop run (the ticket's tasks run on it) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def stored(box: SandboxHandle) -> tuple[int, ...]:
    """Positions, pending orders and history orders the server holds (a refused order adds none)."""
    return tuple(len(box.server.store.select(t, "account_id = ?", (box.account_id,))) for t in
                 ("positions", "orders", "history_orders"))  # fmt: skip


def form(ticket: OrderTicket) -> list[ipywidgets.Widget]:
    return [ticket.symbol, ticket.side, ticket.kind, ticket.volume, ticket.units, ticket.sl, ticket.tp]


def editable(ticket: OrderTicket) -> bool:
    """The form is back to editing: every field and Review enabled, Confirm and Cancel not."""
    fields = not any(control.disabled for control in form(ticket))
    return ticket.state == "edit" and fields and not ticket.review_button.disabled and ticket.confirm_button.disabled


async def review(ticket: OrderTicket) -> None:
    ticket.review_button.click()
    assert ticket.state == "checking" and all(control.disabled for control in form(ticket))
    await until(lambda: ticket.state != "checking")


async def send(ticket: OrderTicket) -> None:
    """Review (unless under review) then Confirm, clicked twice (a double click), waiting for the answer."""
    if ticket.state == "edit":
        await review(ticket)
    assert ticket.state == "review", ticket.message
    ticket.confirm_button.click()
    ticket.confirm_button.click()
    ticket.review_button.click()
    assert ticket.state == "sending" and ticket.confirm_button.disabled and ticket.review_button.disabled
    assert all(control.disabled for control in form(ticket))
    await until(lambda: ticket.state == "edit")
    assert editable(ticket)


def quote(s: mtdata.Session) -> tuple[float, float]:
    row = s.price("EURUSD").iloc[0]
    return float(row["bid"]), float(row["ask"])


async def test_the_form_is_prefilled_from_the_symbol(ticket: OrderTicket, s: mtdata.Session):
    bid, ask = quote(s)
    assert (ticket.volume.value, ticket.volume.step, ticket.price.step) == (0.01, 0.01, 1e-05)
    assert ticket.price.value == pytest.approx(ask, abs=0.002) and ticket.price.disabled  # market: no price
    assert editable(ticket) and ticket.message == "" and ticket.order() == {
        "kind": "buy", "symbol": "EURUSD", "volume": 0.01, "price": None, "sl": None, "tp": None, "units": "price",
    }  # fmt: skip
    ticket.side.value = "sell"
    assert ticket.price.value == pytest.approx(bid, abs=0.002)
    ticket.kind.value = "limit"
    assert not ticket.price.disabled and ticket.order()["kind"] == "sell limit"
    ticket.symbol.value = "USDJPY"
    assert ticket.price.value > 50 and ticket.price.step == 0.001
    assert repr(ticket) == "<OrderTicket USDJPY live>"  # one line, not the form's tree of widgets


async def test_market_buy_with_sl_and_tp_in_price(ticket: OrderTicket, s: mtdata.Session, box: SandboxHandle):
    _, ask = quote(s)
    sl, tp = round(ask - 0.005, 5), round(ask + 0.005, 5)
    ticket.volume.value, ticket.sl.value, ticket.tp.value = 0.1, sl, tp
    before = stored(box)
    await review(ticket)
    assert ticket.state == "review" and not ticket.confirm_button.disabled and not ticket.cancel_button.disabled
    assert ticket.summary.value.startswith("<b>Send:</b> Buy 0.1 lots of EURUSD at market (the ask is ")
    assert ticket.summary.value.endswith(f"SL {sl:.5f} and TP {tp:.5f}.")
    assert stored(box) == before  # reviewing sends nothing
    await send(ticket)
    result = ticket.result
    assert result is not None and result.code == 10009 and result.position_id
    assert ticket.message == str(result) and ticket.summary.value == ""
    assert stored(box)[0] == before[0] + 1  # one position despite the double click
    await until(lambda: ticket.positions.selected == [result.position_id])  # shown, highlighted
    position = s.positions().set_index("id").loc[result.position_id]
    assert (position["type"], position["volume"], position["stop_loss"], position["take_profit"]) == (
        "POSITION_TYPE_BUY", 0.1, sl, tp
    )  # fmt: skip


async def test_a_position_opened_on_a_symbol_typed_shows_selected_beneath(ticket: OrderTicket):
    """The table beneath lists every symbol: after typing GBPUSD, the ticket's GBPUSD position shows and is selected,
    and the EURUSD one opened before stays listed (a table of the first symbol never showed the second)."""
    await send(ticket)
    first = ticket.result
    assert first is not None and first.position_id, ticket.message
    await until(lambda: ticket.positions.selected == [first.position_id])
    ticket.symbol.value = "GBPUSD"
    await send(ticket)
    opened = ticket.result
    assert opened is not None and opened.code == 10009 and opened.position_id, ticket.message
    await until(lambda: ticket.positions.selected == [opened.position_id])
    shown = {str(record["id"]): record["symbol"] for record in ticket.positions.records}
    assert shown == {first.position_id: "EURUSD", opened.position_id: "GBPUSD"}
    assert set(ticket.positions.ids) == set(shown)


async def test_market_sell_with_sl_and_tp_in_pips(ticket: OrderTicket, s: mtdata.Session):
    ticket.side.value, ticket.units.value, ticket.sl.value, ticket.tp.value = "sell", "pips", 20, 40
    await review(ticket)
    assert "Sell 0.01 lots of EURUSD at market (the bid is " in ticket.summary.value
    assert "SL 20 pips above the bid (" in ticket.summary.value
    await send(ticket)
    await until(lambda: ticket.positions.selected == [ticket.result.position_id])
    position = s.positions().set_index("id").loc[ticket.result.position_id]
    assert position["type"] == "POSITION_TYPE_SELL"
    assert position["stop_loss"] == pytest.approx(position["open_price"] + 0.002, abs=2e-5)
    assert position["take_profit"] == pytest.approx(position["open_price"] - 0.004, abs=2e-5)


@pytest.mark.parametrize(("side", "kind"), [("buy", "limit"), ("sell", "limit"), ("buy", "stop"), ("sell", "stop")])
async def test_pending_orders(ticket: OrderTicket, s: mtdata.Session, side: str, kind: str):
    ticket.side.value, ticket.kind.value = side, kind
    below = (side, kind) in (("buy", "limit"), ("sell", "stop"))
    price = round(ticket.price.value + (-0.01 if below else 0.01), 5)  # prefilled with the quote
    ticket.price.value, ticket.units.value, ticket.tp.value = price, "pips", 30
    await review(ticket)
    assert f"{side.capitalize()} {kind} 0.01 lots of EURUSD at {price:.5f}" in ticket.summary.value
    assert "no SL and TP 30 pips away" in ticket.summary.value
    await send(ticket)
    result = ticket.result
    assert result.code == 10009 and result.order_id and not result.position_id
    assert ticket.positions.selected == [] and result.position_id not in ticket.positions.ids  # no position yet
    order = s.orders().set_index("id").loc[result.order_id]
    assert (order["type"], order["open_price"]) == (f"ORDER_TYPE_{side.upper()}_{kind.upper()}", price)


async def test_cancel_returns_to_the_form_and_sends_nothing(ticket: OrderTicket, box: SandboxHandle):
    before = stored(box)
    await review(ticket)
    ticket.review_button.click()  # ignored while under review
    assert ticket.state == "review"
    ticket.cancel_button.click()
    assert editable(ticket) and ticket.summary.value == ""
    ticket.confirm_button.click()  # nothing under review: ignored
    assert ticket.state == "edit"
    await asyncio.sleep(0.2)
    assert stored(box) == before


@pytest.mark.parametrize(
    ("case", "fill", "sentence"),
    [
        ("volume off step", {"volume": 0.015}, "volume 0.015 is not a multiple of the 0.01 lot step of EURUSD."),
        ("volume below min", {"volume": 0.001}, "volume 0.001 is below the minimum of 0.01 lots for EURUSD."),
        ("buy sl above", {"sl": 5.0}, "sl 5.00000 must be below the entry price"),
        ("sell tp above", {"side": "sell", "tp": 5.0}, "tp 5.00000 must be below the entry price"),
        ("limit wrong side", {"kind": "limit", "price": 5.0}, "price 5.00000 of a buy limit must be below"),
        ("unknown symbol", {"symbol": "NOPE"}, "NOPE is not a symbol of this account."),
    ],
)
async def test_refusals_leave_the_form_editable(
    ticket: OrderTicket, box: SandboxHandle, case: str, fill: dict[str, Any], sentence: str
):
    for name, value in fill.items():
        getattr(ticket, name).value = value
    before = stored(box)
    await review(ticket)
    assert editable(ticket), case
    assert ticket.message.startswith(sentence) and ticket.message.count(". ") == 0, ticket.message
    assert "color:#b71c1c" in ticket.result_line.value and ticket.summary.value == ""
    assert stored(box) == before
    ticket.volume.value, ticket.symbol.value, ticket.side.value, ticket.kind.value = 0.01, "EURUSD", "buy", "market"
    ticket.sl.value = ticket.tp.value = 0.0
    await review(ticket)  # edited: the same ticket goes on
    assert ticket.state == "review"


async def test_a_server_rejection_leaves_the_form_editable(ticket: OrderTicket, box: SandboxHandle):
    ticket.volume.value = 99.0  # within the volume limits, beyond the free margin
    before = stored(box)
    await send(ticket)
    assert ticket.message.startswith("The order was rejected: Not enough money")
    assert ticket.message.endswith("(TRADE_RETCODE_NO_MONEY 10019).")
    assert ticket.result is None and stored(box)[:2] == before[:2] and ticket.positions.selected == []


async def test_clicks_while_a_slow_send_is_in_flight_are_ignored(ticket: OrderTicket, box: SandboxHandle):
    before = stored(box)
    await review(ticket)
    box.server.faults.add_delay(1.0, scope="socket", count=1)  # the trade request waits a second on the server
    ticket.confirm_button.click()
    await asyncio.sleep(0.3)
    assert ticket.state == "sending" and all(control.disabled for control in form(ticket))
    for button in (ticket.confirm_button, ticket.review_button, ticket.cancel_button):
        button.click()
    assert ticket.state == "sending"
    await until(lambda: ticket.state == "edit")
    assert editable(ticket) and ticket.result is not None and ticket.result.code == 10009
    assert stored(box)[0] == before[0] + 1


async def test_a_refusal_when_confirming_leaves_the_form_editable(
    ticket: OrderTicket, s: mtdata.Session, box: SandboxHandle
):
    """Confirm checks again: a stops level raised since the review (on the client's copy of the specification)."""
    _, ask = quote(s)
    ticket.sl.value = round(ask - 0.001, 5)
    await review(ticket)
    spec = s.run(s.connection_async()).terminal_state.specification("EURUSD")
    spec["stopsLevel"] = 1000
    before = stored(box)
    try:
        await send(ticket)
    finally:
        spec["stopsLevel"] = 0
    assert ticket.message.startswith(f"sl {ticket.sl.value:.5f} is closer to the entry price ")
    assert ticket.message.endswith("than the stops level of 1000 points of EURUSD.")
    assert ticket.result is None and stored(box) == before


async def test_a_closed_session_is_told_on_the_result_line(
    mtdata_sandbox_factory: Callable[..., SandboxHandle], frontend: Frontend
):
    box = mtdata_sandbox_factory(start=WEDNESDAY)
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        ticket = OrderTicket(session, "EURUSD")
    await review(ticket)
    assert editable(ticket)
    assert ticket.message == "The order could not be checked (RuntimeError: the session is closed)."
    ticket.close()


async def test_a_broker_outage_rejects_the_order_and_leaves_the_form_editable(
    mtdata_sandbox_factory: Callable[..., SandboxHandle], frontend: Frontend
):
    box = mtdata_sandbox_factory(start=WEDNESDAY)
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        ticket = OrderTicket(session, "EURUSD")
        await review(ticket)
        async with httpx.AsyncClient(base_url=box.url, headers={"auth-token": box.token}) as rest:
            down = await rest.post("/sandbox/faults/broker", json={"accountId": box.account_id, "connected": False})
            assert down.status_code == 200, down.text
        ticket.confirm_button.click()
        await until(lambda: ticket.state == "edit")
        assert editable(ticket)
        assert (
            ticket.message
            == "The order was rejected: No connection to the trade server (TRADE_RETCODE_CONNECTION 10031)."
        )
        assert session.positions().empty
        ticket.close()


async def test_a_closed_market_is_refused_at_review(
    mtdata_sandbox_factory: Callable[..., SandboxHandle], frontend: Frontend
):
    box = mtdata_sandbox_factory(start=SATURDAY)
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as session:
        ticket = OrderTicket(session, "EURUSD")
        assert ticket.price.value > 0  # Friday's last quote
        await review(ticket)
        assert editable(ticket)
        assert ticket.message == "EURUSD is closed for trading until Monday 00:00 broker time."
        ticket.close()


async def test_bad_arguments_are_refused_before_a_ticket_exists(s: mtdata.Session, frontend: Frontend):
    with pytest.raises(ValidationException, match=r"^NOPE is not a symbol of this account\.$"):
        OrderTicket(s, "NOPE")
    with pytest.raises(ValidationException) as caught:
        OrderTicket(s, "EURUSD", positions=ipywidgets.HTML())
    assert caught.value.details[0]["parameter"] == "positions"


async def test_close_closes_the_form_and_the_positions_panel(ticket: OrderTicket, frontend: Frontend):
    panel = ticket.positions
    ticket.review_button.click()
    ticket.close()  # mid-check: the check is cancelled
    assert ticket.comm is None and panel.closed and all(w.comm is None for w in form(ticket))
    assert ticket.review_button.comm is None and ticket.result_line.comm is None
    await asyncio.sleep(0.1)


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
    """

    def __init__(self, s: mtdata.Session, ticket: OrderTicket, symbol: str) -> None:
        self.feed, self.stream = s.panel.feed, Stream("quotes", symbol)
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

    def close(self) -> None:
        self.feed.detach(self.stream, self._sink)


async def test_a_market_orders_price_follows_the_quote(ticket: OrderTicket, s: mtdata.Session):
    assert ticket.price.disabled and ticket._stream == Stream("quotes", "EURUSD")
    quotes = Quotes(s, ticket, "EURUSD")
    try:
        await until(lambda: len(set(quotes.shown)) >= 3)  # the field moved with the market, by itself
        assert set(quotes.shown) <= quotes.asks  # a buy: the asks delivered
        ticket.side.value = "sell"
        shown = len(quotes.shown)
        await until(lambda: len(set(quotes.shown[shown + 1 :])) >= 3)
        assert set(quotes.shown[shown + 1 :]) <= quotes.bids
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
        assert set(quotes.shown) <= quotes.asks
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
