"""The live-panel pipeline in a real browser: a thread feeds a panel in a Voila kernel, chromium shows it move."""

from __future__ import annotations

from typing import Any

import bokeh
import pytest
from browser_harness import SCREENSHOTS, Voila

pytestmark = pytest.mark.timeout(400)  # page waits are bounded by the harness's TIMEOUT_MS

DEMO = """\
from demo_panel import FakeFeed, PricePanel

panel = PricePanel(rollover=2000)
feed = FakeFeed(panel, rate=200).start()
panel
"""

# the text the page shows in the demo's Bokeh Div (Bokeh draws inside shadow roots, after style elements)
LABEL = """() => {
  const find = root => root.querySelector(".demo-last-price")
    ?? [...root.querySelectorAll("*")].filter(e => e.shadowRoot).map(e => find(e.shadowRoot)).find(e => e) ?? null
  const label = find(document)
  if (label == null) return null
  return [...label.shadowRoot.children].filter(c => c.tagName !== "STYLE").map(c => c.textContent).join("")
}"""
# the bars of the data source named "prices" in the newest BokehJS view showing it (null until there is one)
BARS = """() => {
  let bars = null
  for (const view of window.Bokeh?.index?.roots ?? []) {
    const source = view.model.document?.get_model_by_name("prices")
    if (source != null) bars = Array.from(source.get_column("bar") ?? [])
  }
  return bars
}"""


def shown(page: Any) -> tuple[str, list[int]]:
    """The demo's label text and chart bars as the page has them now."""
    return page.evaluate(LABEL), page.evaluate(BARS)


def test_a_panel_fed_from_a_thread_keeps_moving_in_voila_with_data_from_before_the_page_opened(voila: Voila, page: Any):
    page.goto(voila.notebook("demo_panel", [DEMO]))
    page.wait_for_function(f"() => ({LABEL})()?.startsWith('last ') && ({BARS})()?.length > 0", polling=100)
    first_text, first_bars = shown(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "demo-panel-start.png"))

    # bars streamed before the browser connected were re-sent when the view appeared: the chart starts at 0
    assert first_bars[0] == 0, (first_bars[:5], voila.log_tail())

    # a few seconds later the text and the chart have moved on (new bars streamed, none lost or repeated)
    page.wait_for_function(
        f"([text, count]) => ({BARS})()?.length >= count + 20 && ({LABEL})() !== text",
        arg=[first_text, len(first_bars)],
        polling=100,
    )
    later_text, later_bars = shown(page)
    assert later_bars == list(range(len(later_bars)))
    assert later_text.startswith("last ") and later_text != first_text
    page.screenshot(path=str(SCREENSHOTS / "demo-panel-later.png"))

    # BokehJS came inline with the notebook, the very version the kernel uses; nothing came from a CDN
    assert page.evaluate("() => window.Bokeh.version") == bokeh.__version__
    log = page.mtdata_log
    assert not [url for url in log.outside_requests if "bokeh" in url], log.outside_requests
    assert log.errors == [], log.errors
