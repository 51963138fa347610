"""Account panels in a real browser: rows ticked in the positions table are the ones "Close selected" closes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_harness import SCREENSHOTS, Voila

pytestmark = pytest.mark.timeout(400)  # page waits are bounded by the harness's TIMEOUT_MS

CELLS = [
    """\
import mtdata
from mtdata.live.account_panel import AccountPanel
from mtdata.live.trade_tables import PositionsPanel

session = mtdata.connect(sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60}, progress=False)
ids = [session.buy(symbol, 0.1).position_id for symbol in ("EURUSD", "GBPUSD", "USDJPY")]
PositionsPanel(session, session.panel.feed)
""",
    "AccountPanel(session, session.panel.feed)\n",
]


# how many rows of the tables on the page are ticked (checkbox inputs in shadow roots)
CHECKED = """(() => { const find = root => [...root.querySelectorAll(".slick-row input[type=checkbox]")]
  .concat(...[...root.querySelectorAll("*")].filter(e => e.shadowRoot).map(e => find(e.shadowRoot)))
  return find(document).filter(e => e.checked).length })()"""


def test_rows_ticked_in_the_browser_are_the_ones_closed(voila: Voila, page: Any):
    page.goto(voila.notebook("account_panels", CELLS))
    rows = page.locator(".slick-row")  # SlickGrid rows of the positions DataTable (CSS locators pierce shadow roots)
    page.locator(".mtdata-equity, .mtdata-balance").first.wait_for()  # the account panel's figures
    rows.nth(2).wait_for()
    # rows are redrawn as profits move (and SlickGrid's DOM order is not the table's): find them by position id
    ids = sorted(page.locator(".slick-row .slick-cell.l1").all_inner_texts(), key=int)  # column 1: id (0: checkbox)
    assert len(ids) == 3, ids
    for position_id in (ids[0], ids[2]):
        row = page.locator(".slick-row", has=page.locator(".slick-cell", has_text=re.compile(f"^{position_id}$")))
        row.locator("input[type=checkbox]").click()
    page.wait_for_function(f"() => {CHECKED} === 2", polling=100)
    page.locator(".mtdata-positions-button", has_text="Close selected").click()
    status = page.locator(".mtdata-positions-status", has_text="closed")
    status.wait_for()
    assert status.inner_text() == f"2 positions closed: {ids[0]}, {ids[2]}.", status.inner_text()
    remaining = page.locator(".slick-row", has_text=ids[1])
    remaining.wait_for()
    page.wait_for_function(
        """() => { const find = root => [...root.querySelectorAll(".slick-row")]
                   .concat(...[...root.querySelectorAll("*")].filter(e => e.shadowRoot).map(e => find(e.shadowRoot)))
                   return find(document).length === 1 }""",
        polling=100,
    )
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "account-panels.png"), full_page=True)
    log = page.mtdata_log
    assert log.errors == [], log.errors
