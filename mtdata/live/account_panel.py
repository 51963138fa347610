"""The account panel: balance, equity, margins and currency, live, above an equity curve.

It follows the feed's :data:`~mtdata.live.feed.ACCOUNT` stream (account information, positions and every
prices packet move the equity); the account information is copied on the session's loop at the panel's rate
(a :class:`~mtdata.live.feed.StateCopy`), with the market's time of the copy (a
:class:`~mtdata.live.clock.MarketClock`: the trade server's, as the candles chart's); each redraw shows the latest
copy, rewrites the figures when they changed and draws one equity sample at that time in a bounded
:class:`~mtdata.live.window.Window` (a sample at the same market time replaces the last one; ``rollover`` samples and
the newest: at the default 2 redraws a second while prices stream, 25 minutes).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets
from bokeh.models import CrosshairTool, HoverTool

from .clock import MarketClock, time_figure
from .feed import ACCOUNT, AccountEvent, LiveFeed
from .throttle import MIXED_RATE
from .view import Panel
from .window import Window

if TYPE_CHECKING:
    from ..session import Session

#: (name shown and returned by :meth:`AccountPanel.values`, as in ``session.account()``; the wire key).
FIGURES = (
    ("balance", "balance"),
    ("equity", "equity"),
    ("margin", "margin"),
    ("free_margin", "freeMargin"),
    ("margin_level", "marginLevel"),
    ("currency", "currency"),
)
STYLE = """<style>
.mtdata-account{border-collapse:collapse;font:13px monospace}
.mtdata-account th,.mtdata-account td{padding:2px 10px;text-align:right}
.mtdata-account th{border-bottom:1px solid #999}
</style>"""


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name == "margin_level":
        return f"{value:,.2f}%"
    return f"{value:,.2f}" if isinstance(value, int | float) else html.escape(str(value))


def figures_html(values: dict[str, Any]) -> str:
    """The figures as a one-row HTML table (— where the terminal has no value, e.g. no margin level)."""
    head = "".join(f"<th>{name.replace('_', ' ')}</th>" for name, _key in FIGURES)
    cells = "".join(f"<td class='mtdata-{name}'>{_cell(name, values.get(name))}</td>" for name, _key in FIGURES)
    return f"<table class='mtdata-account'><tr>{head}</tr><tr>{cells}</tr></table>"


class AccountPanel(Panel):
    """Balance, equity, margin, free margin, margin level and currency, live, and the equity curve below."""

    def __init__(self, session: Session, feed: LiveFeed, *, rollover: int = 3000, rate: float = MIXED_RATE) -> None:
        self._session = session
        self._shown: dict[str, Any] = {}
        self._clock = MarketClock()
        self._copied_at: float | None = None  # the market's time of the copy (ms)
        self.window = Window(("time", "equity", "balance"), rollover=rollover)
        """The equity curve's data: ``time`` (the market's, ms since the epoch), ``equity`` and ``balance``, a row per
        redraw (one at the same market time replaces the last), the newest ``rollover`` rows."""
        self.window.source.name = "equity"
        self.figures = ipywidgets.HTML(figures_html({}))
        """The figures above the chart (balance, equity, margin, free margin, margin level, currency) as an HTML table;
        :meth:`values` gives them as numbers."""
        self.figures.add_class("mtdata-account-figures")
        chart = time_figure(height=240, width=700, title="equity", name="equity_chart")
        chart.line("time", "equity", source=self.window.source, color="#1565c0", legend_label="equity")
        chart.step("time", "balance", source=self.window.source, color="#757575", mode="after", legend_label="balance")
        tips = [("time", "@time{%F %T}"), ("equity", "@equity{0,0.00}"), ("balance", "@balance")]
        chart.add_tools(CrosshairTool(), HoverTool(tooltips=tips, formatters={"@time": "datetime"}))
        chart.legend.location = "top_left"
        super().__init__(chart, title="account", rate=rate, above=[self.figures], style=STYLE)
        try:
            session.run(self._clock.start(session.connection()))
        except BaseException:
            self.close()
            raise
        self._copy = feed.state_copy("account", self.rate, self._copied)
        self.on_close(self._copy.close)
        self._listen_all(feed, [(ACCOUNT, self._event)])
        self._copy.poke()  # draw what is there now

    def values(self) -> dict[str, Any]:
        """The figures shown at the last redraw (names as in ``session.account()``)."""
        return dict(self._shown)

    def _event(self, event: AccountEvent) -> None:
        if event.kind != "orders":
            self._copy.poke()

    def _copied(self) -> None:
        """A copy was taken (session's loop): note the market's time now, then redraw."""
        self._copied_at = self._clock.now()
        self.changed()

    def redraw(self) -> None:
        """Show the account information's latest copy (taken on the session's loop): changed figures, one equity
        sample."""
        if self._session.closed:
            return
        info = self._copy.value
        if info is None:
            return
        values = {name: info.get(key) for name, key in FIGURES}
        if values != self._shown:
            self.figures.value = figures_html(values)
            self._shown = values
        at = self._copied_at
        if values["equity"] is not None and at is not None:
            self.window.advance({"time": at, "equity": values["equity"], "balance": values["balance"]})
            self.window.apply()


__all__ = ["FIGURES", "AccountPanel", "figures_html"]
