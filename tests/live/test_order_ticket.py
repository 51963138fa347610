"""The order ticket driven through its controls against a real sandbox: review, confirm, refusals, no double send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import ipywidgets
import pytest
from live_frontend import Frontend
from ticket_helpers import SATURDAY, WEDNESDAY, editable, form, quote, review, send, stored, until

import mtdata
from mtdata.errors import ValidationException
from mtdata.live.order_ticket import OrderTicket
from mtdata.sandbox import SandboxHandle


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
    # the distances are sent as such and measured from the fill: exact, however the bid moved since the review
    assert position["stop_loss"] == round(position["open_price"] + 0.002, 5)
    assert position["take_profit"] == round(position["open_price"] - 0.004, 5)


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
    delay = box.server.faults.add_delay(1.0, scope="socket", count=1)  # the send's first request waits a second
    ticket.confirm_button.click()
    await until(lambda: delay.count == 0)  # that request is on the server, held there: the send is in flight
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
