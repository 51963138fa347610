"""Market panels in a real browser: a Voila notebook shows a ticker and a candles panel of a real session."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

import pytest
from browser_harness import SCREENSHOTS, Voila

pytestmark = pytest.mark.timeout(400)  # page waits are bounded by the harness's TIMEOUT_MS

CELLS = [
    """\
import mtdata

session = mtdata.connect(sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60}, progress=False)
session.panel.ticker(["EURUSD", "GBPUSD"])
""",
    'session.panel.candles("EURUSD", "1m", rollover=60)\n',
]

# the EURUSD bid cell of the ticker (an ipywidgets HTML: its table is in the page's DOM)
BID = """() => document.querySelector(".mtdata-ticker tr[data-symbol='EURUSD'] td.mtdata-bid")?.textContent ?? null"""
# the last (forming) bar of the data source named "candles" in the newest BokehJS view showing it
FORMING = """() => {
  let bar = null
  for (const view of window.Bokeh?.index?.roots ?? []) {
    const source = view.model.document?.get_model_by_name("candles")
    const times = source?.get_column("time")
    if (times != null && times.length > 0) {
      const last = times.length - 1
      bar = {count: times.length, time: times[last], close: source.get_column("close")[last],
             volume: source.get_column("volume")[last]}
    }
  }
  return bar
}"""


def test_a_ticker_and_a_candles_panel_of_a_real_session_move_in_voila(voila: Voila, page: Any):
    page.goto(voila.notebook("market_panels", CELLS))
    page.wait_for_function(f"() => ({BID})() != null && ({FORMING})()?.count > 1", polling=100)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "market-panels-start.png"), full_page=True)
    first_bid, first_bar = page.evaluate(BID), page.evaluate(FORMING)
    assert first_bar["count"] == 61, first_bar  # 60 closed bars of history and the forming one

    # the displayed bid changes within a few seconds
    page.wait_for_function(f"bid => ({BID})() !== bid", arg=first_bid, polling=100)
    assert float(page.evaluate(BID)) > 0

    # the forming candle is patched in place (same open time, new close or volume), and later bars follow
    bars = [first_bar]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        bar = page.evaluate(FORMING)
        bars.append(bar)
        patched = any(a["time"] == b["time"] and a != b for a, b in pairwise(bars))
        if patched and bar["time"] > first_bar["time"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the forming candle did not move: {bars[:3]} … {bars[-3:]}\n{voila.log_tail()}")
    assert bars[-1]["count"] == 61  # the window rolls over
    page.screenshot(path=str(SCREENSHOTS / "market-panels-later.png"), full_page=True)

    log = page.mtdata_log
    assert log.errors == [], log.errors
    assert not [url for url in log.outside_requests if "bokeh" in url], log.outside_requests
