"""PNG snapshots drawn by headless chromium: a real picture of the panel's latest data, tall layouts whole, the
latency panel and the ticker (an HTML panel) of a real session.

Needs only a Chromium or Chrome executable (``mtdata.live.png.find_browser``); skips without one, except under
``CI=true`` where it fails. Pictures are copied to ``tests/browser/screenshots/`` (git-ignored) for a look.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Div
from bokeh.plotting import figure
from browser_harness import SCREENSHOTS
from PIL import Image

import mtdata
from mtdata.live import Panel, png
from mtdata.live.latency_panel import LatencyPanel

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RED = (255, 0, 0)


@pytest.fixture(autouse=True)
def browser() -> None:
    if png.find_browser() is None:
        reason = "PNG snapshots need Chromium or Google Chrome (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true: failing instead of skipping)", pytrace=False)
        pytest.skip(reason)


class BarsPanel(Panel):
    """A title and red bars that appear only once :meth:`redraw` ran."""

    def __init__(self, **kwargs: object) -> None:
        self.bars = ColumnDataSource(data={"x": [], "top": []})
        self.latest: list[float] = []
        chart = figure(width=500, height=300, title="bars", toolbar_location=None)
        chart.vbar("x", 0.8, "top", source=self.bars, color="#ff0000")
        super().__init__(column(Div(text="<b>snapshot</b>"), chart), **kwargs)  # type: ignore[arg-type]

    def feed(self, tops: list[float]) -> None:
        self.latest = tops
        self.changed()

    def redraw(self) -> None:
        self.bars.data = {"x": list(range(len(self.latest))), "top": self.latest}


def keep(path: Path) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)


def red_pixels(image: Image.Image) -> int:
    colors = image.convert("RGB").getcolors(image.width * image.height) or []
    return next((count for count, color in colors if color == RED), 0)


@pytest.mark.timeout(400)
async def test_a_png_snapshot_is_a_cropped_picture_with_the_pending_data_drawn(tmp_path: Path):
    panel = BarsPanel(rate=0.2)  # the pending redraw is 5 s away: the snapshot runs it first
    panel.feed([3, 1, 4, 1, 5])
    path = panel.snapshot(tmp_path / "bars.png")
    keep(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert 500 <= image.width < 800 and 300 <= image.height < 500  # the layout, not the whole window
        assert red_pixels(image) > 2000  # the bars
        assert len(image.convert("RGB").getcolors(1_000_000) or []) > 20  # text, axes, antialiasing: not blank
    panel.close()
    assert panel.snapshot(tmp_path / "closed.PNG").read_bytes()[:8] == PNG_SIGNATURE  # still works once closed


@pytest.mark.timeout(400)
async def test_a_layout_taller_than_the_first_window_is_drawn_whole(tmp_path: Path):
    lines = "".join(f"<div style='height:20px'>line {i}</div>" for i in range(120))
    panel = BarsPanel()
    panel.layout_model.children.append(Div(text=lines + "<div style='height:20px;background:#ff0000'></div>"))
    path = panel.snapshot(tmp_path / "tall.png")
    keep(path)
    with Image.open(path) as image:
        assert image.height > 2400 + 300  # 121 lines of 20 px below the chart
        bottom = image.convert("RGB").crop((0, image.height - 40, image.width, image.height))
        assert red_pixels(bottom) > 100  # the last line is in the picture
    panel.close()


@pytest.mark.timeout(400)
async def test_the_latency_panel_of_a_streaming_session_draws(tmp_path: Path):
    with mtdata.connect(sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60}, progress=False) as session:
        session.price("EURUSD")
        panel = LatencyPanel(session, every=0.2)
        for _ in range(1200):  # 60 s
            if panel.reading and panel.reading.latencies["price"]["clientLatency"]["count"]:
                break
            await asyncio.sleep(0.05)
        path = panel.snapshot(tmp_path / "latency.png")
        keep(path)
        panel.close()
    with Image.open(path) as image:
        assert image.width >= 700 and image.height >= 300  # health, table and the 700 x 220 chart
        assert len(image.convert("RGB").getcolors(1_000_000) or []) > 20


@pytest.mark.timeout(400)
async def test_the_ticker_an_html_panel_of_a_streaming_session_draws(tmp_path: Path):
    with mtdata.connect(sandbox={"start": "2026-11-18T12:00:00Z", "speed": 60}, progress=False) as session:
        ticker = session.panel.ticker(["EURUSD", "GBPUSD"])
        for _ in range(1200):  # 60 s
            if len(ticker.values()) == 2:
                break
            await asyncio.sleep(0.05)
        page = ticker.snapshot(tmp_path / "ticker.html").read_text(encoding="utf-8")
        path = ticker.snapshot(tmp_path / "ticker.png")
        keep(path)
        ticker.close()
    assert "<table class='mtdata-ticker'>" in page and "data-symbol='GBPUSD'" in page and "@keyframes" in page
    with Image.open(path) as image:
        assert 300 <= image.width < 800 and 40 <= image.height < 200  # the table, cropped
        assert len(image.convert("RGB").getcolors(1_000_000) or []) > 20  # text and antialiasing: not blank
