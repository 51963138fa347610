"""A demo panel and a fake price feed, for tests only (real panels are fed by the session's streaming connection)."""

from __future__ import annotations

import random
import threading
from typing import Any

from bokeh.layouts import column
from bokeh.models import Div
from bokeh.plotting import figure

from mtdata.live import Panel, Window

TICKS_PER_BAR = 10


class PricePanel(Panel):
    """Last price as text and a line of bars: every price patches the forming bar, every 10th closes it."""

    def __init__(self, rollover: int = 500, **kwargs: Any) -> None:
        self.window = Window(("bar", "price"), rollover=rollover)
        self.window.source.name = "prices"
        self.label = Div(text="waiting", name="last_price", css_classes=["demo-last-price"])
        chart = figure(height=220, width=520, title="demo prices", name="chart")
        chart.line("bar", "price", source=self.window.source)
        self.ticks = 0
        self.last: float | None = None
        super().__init__(column(self.label, chart), title="demo prices", **kwargs)

    def feed(self, price: float) -> None:
        """Take one price (from the feeding thread)."""
        bar = self.ticks // TICKS_PER_BAR
        self.ticks += 1
        if self.ticks % TICKS_PER_BAR == 0:
            self.window.stream({"bar": [bar], "price": [price]})
        else:
            self.window.patch({"bar": bar, "price": price})
        self.last = price
        self.changed()

    def redraw(self) -> None:
        """Show the new bars and the last price."""
        self.window.apply()
        self.label.text = f"last {self.last:.5f} after {self.ticks} ticks"


class FakeFeed:
    """A random walk fed into a panel from a background thread, ``rate`` prices per second, until stopped."""

    def __init__(self, panel: PricePanel, rate: float = 200.0, seed: int = 7) -> None:
        self._panel = panel
        self._interval = 1.0 / rate
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-feed", daemon=True)

    def start(self) -> FakeFeed:
        """Start feeding; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop feeding and wait for the thread to end."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        price = 1.1
        while not self._stop.wait(self._interval):
            price = round(price + self._random.uniform(-1e-4, 1e-4), 5)
            self._panel.feed(price)
