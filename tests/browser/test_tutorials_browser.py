"""Run All on the live tutorials in JupyterLab (as a reader does it, from the menu) leaves what they teach live:
notebook 03's panels keep moving in the page (ticker, candles, every table's rows), notebook 04's order ticket
places an order when clicked; and nothing was closed under the page (no "No such comm" in the kernel's log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_harness import SCREENSHOTS, JupyterLab, open_notebook
from test_market_panels_browser import BID, FORMING
from test_table_panels_browser import GRIDS, LATENCY

pytestmark = pytest.mark.timeout(600)  # page waits are bounded by the harness's TIMEOUT_MS

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def logged_since(lab: JupyterLab, start: int) -> str:
    """What the server's log (its kernels' too) got from byte ``start`` on: the lines of this test's run, not of
    the tests before it on the session's server."""
    with lab.log.open("rb") as log:
        log.seek(start)
        return log.read().decode("utf-8", errors="replace")


def moves(page: Any, probe: str) -> None:
    """Wait until what ``probe`` (a JS function) reads in the page differs from what it reads now."""
    was = page.evaluate(f"JSON.stringify(({probe})())")
    page.wait_for_function(f"was => JSON.stringify(({probe})()) !== was", arg=was, polling=100)


def test_run_all_of_03_leaves_every_panel_moving(lab: JupyterLab, lab_page: Any):
    page, start = lab_page, lab.log.stat().st_size
    open_notebook(page, lab, lab.copy(NOTEBOOKS / "03_live_panels.ipynb"))
    page.wait_for_function(f"() => ({BID})() != null && ({FORMING})() != null", polling=100)
    for probe in (BID, FORMING, LATENCY):
        moves(page, probe)
    for table in ("positions_table", "orders_table", "book_table"):
        page.wait_for_function(f"name => ({GRIDS})()[name]?.length > 0", arg=table, polling=100)
        moves(page, f"() => ({GRIDS})()[{table!r}]")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lab-03-run-all.png"))
    assert "No such comm" not in logged_since(lab, start)
    assert page.mtdata_log.errors == [], page.mtdata_log.errors


def test_run_all_of_04_leaves_a_ticket_that_places_an_order(lab: JupyterLab, lab_page: Any):
    page, start = lab_page, lab.log.stat().st_size
    open_notebook(page, lab, lab.copy(NOTEBOOKS / "04_trading_from_cells.ipynb"))
    price = "() => document.querySelector('.mtdata-ticket-price input')?.value ?? null"
    page.wait_for_function(f"() => ({price})() != null", polling=100)
    moves(page, price)  # the market order's price follows the ask
    volume = page.locator(".mtdata-ticket-volume input")
    volume.fill("0.1")  # the tutorial left 0.125, refused at review
    volume.press("Tab")
    page.locator(".mtdata-ticket-review:not([disabled])").click()
    page.locator(".mtdata-ticket-confirm:not([disabled])").click()
    result = page.locator(".mtdata-ticket-result", has_text="position_id")
    result.wait_for()
    assert "10009 TRADE_RETCODE_DONE" in result.inner_text() and "filled 0.1 lots" in result.inner_text()
    page.locator(".mtdata-ticket").screenshot(path=str(SCREENSHOTS / "lab-04-ticket.png"))
    assert "No such comm" not in logged_since(lab, start)
    assert page.mtdata_log.errors == [], page.mtdata_log.errors
