"""The order ticket in a real browser: a Voila notebook shows a ticker, a candles panel and an order ticket of a
real session; prices move, the forming candle is patched, the ticket's market price follows the ask, and an order
placed by clicking Review then Confirm appears in the positions table beneath the ticket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_harness import SCREENSHOTS, Voila
from test_market_panels_browser import BID, FORMING

pytestmark = pytest.mark.timeout(400)  # page waits are bounded by the harness's TIMEOUT_MS

CELLS = [
    """\
import mtdata

session = mtdata.connect(sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60}, progress=False)
session.panel.ticker(["EURUSD"])
""",
    'session.panel.candles("EURUSD", "1m", rollover=30)\n',
    'session.order_ticket("EURUSD")\n',
]


def test_an_order_placed_with_the_ticket_shows_in_the_positions_table(voila: Voila, page: Any):
    page.goto(voila.notebook("order_ticket", CELLS))
    page.wait_for_function(f"() => ({BID})() != null && ({FORMING})()?.count > 1", polling=100)
    review = page.locator(".mtdata-ticket-review")
    review.wait_for()
    first_bid, first_bar = page.evaluate(BID), page.evaluate(FORMING)
    # a market order's (disabled) price field follows the ask
    price = "() => document.querySelector('.mtdata-ticket-price input')?.value"
    page.wait_for_function(f"first => ({price})() !== first", arg=page.evaluate(price), polling=100)

    review.click()
    confirm = page.locator(".mtdata-ticket-confirm:not([disabled])")
    confirm.wait_for()
    summary = page.locator(".mtdata-ticket-summary").inner_text()
    assert summary.startswith("Send: Buy 0.01 lots of EURUSD at market (the ask is "), summary
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "order-ticket-review.png"), full_page=True)
    confirm.dblclick()  # the second click finds the ticket sending and is ignored
    result = page.locator(".mtdata-ticket-result", has_text="position_id")
    result.wait_for()
    found = re.search(r"position_id (\w+)", result.inner_text())
    assert found and "10009 TRADE_RETCODE_DONE" in result.inner_text(), result.inner_text()
    position_id = found.group(1)
    page.locator(".mtdata-ticket-review:not([disabled])").wait_for()  # the form is editable again

    # the positions table beneath the ticket (a Bokeh DataTable: SlickGrid rows in shadow roots) shows it, selected
    row = page.locator(".slick-row", has=page.locator(".slick-cell", has_text=re.compile(f"^{position_id}$")))
    row.wait_for()
    page.wait_for_function(
        """id => { const find = root => [...root.querySelectorAll(".slick-row .slick-cell.selected")]
                   .concat(...[...root.querySelectorAll("*")].filter(e => e.shadowRoot).map(e => find(e.shadowRoot)))
                   return find(document).some(e => e.closest(".slick-row").textContent.includes(id)) }""",
        arg=position_id,
        polling=100,
    )
    page.locator(".mtdata-ticket").screenshot(path=str(SCREENSHOTS / "order-ticket-placed.png"))

    # meanwhile the displayed bid changed and the forming candle moved
    page.wait_for_function(f"bid => ({BID})() !== bid", arg=first_bid, polling=100)
    page.wait_for_function(f"bar => JSON.stringify(({FORMING})()) !== JSON.stringify(bar)", arg=first_bar, polling=100)

    assert page.locator(".slick-row").count() == 1  # one position despite the double click
    log = page.mtdata_log
    assert log.errors == [], log.errors
    # nothing from a CDN but Font Awesome's CSS, which Voila's widget manager asks for (icons; the ticket has none)
    assert [url for url in log.outside_requests if "fontawesome" not in url] == [], log.outside_requests
