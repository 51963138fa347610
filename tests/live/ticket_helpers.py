"""Helpers of the order-ticket tests (``test_order_ticket.py``, ``test_order_ticket_prices.py``): the sandbox's
start dates, the ticket's form and state, Review and Confirm clicked as a user would, the quote and what the server
holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import ipywidgets

import mtdata
from mtdata.live.order_ticket import OrderTicket
from mtdata.sandbox import SandboxHandle

#: A Wednesday morning (FX trades) and a Saturday noon (markets closed), whatever day the tests run on.
WEDNESDAY, SATURDAY = "2026-11-18T09:00:00Z", "2026-11-21T12:00:00Z"


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
