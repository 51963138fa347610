"""Market panels fed by a session's :class:`~mtdata.live.feed.LiveFeed`: ticker, ticks and order book.

Each panel stores what the feed hands it (on the session's loop thread) as a latest value or in a
:class:`~mtdata.live.window.Window`, pokes :meth:`~mtdata.live.view.Panel.changed`, and applies it to its
Bokeh models in :meth:`redraw` (on the kernel's thread, at most ``rate`` times a second).
"""

from __future__ import annotations

import html
import threading
from datetime import datetime
from typing import Any

from bokeh.layouts import row
from bokeh.models import ColumnDataSource, CrosshairTool, DataTable, HoverTool, TableColumn
from bokeh.plotting import figure

from ..client import checks
from ..market_hours import StaleWatch
from .bokeh_widget import page_ranges
from .clock import time_figure
from .feed import LiveFeed, Stream
from .price_format import change_text, price_digits, price_text, spread_points
from .table_rows import show_rows
from .throttle import CHART_RATE, DEFAULT_RATE
from .view import HtmlPanel, Panel
from .window import Window

#: Ticker cells flash green (up) or red (down) for a second after a change (a CSS animation per redraw).
TICKER_STYLE = """<style>
.mtdata-ticker{border-collapse:collapse;font:13px monospace}
.mtdata-ticker th,.mtdata-ticker td{padding:2px 10px;text-align:right}
.mtdata-ticker th{border-bottom:1px solid #999}
@keyframes mtdata-up{from{background:#b9f6ca}to{background:transparent}}
@keyframes mtdata-down{from{background:#ffcdd2}to{background:transparent}}
.mtdata-up{animation:mtdata-up 1s;color:#1b5e20}.mtdata-down{animation:mtdata-down 1s;color:#b71c1c}
</style>"""


def symbol_list(symbols: str | list[str]) -> list[str]:
    """One symbol or a list of distinct ones, checked."""
    names = [symbols] if isinstance(symbols, str) else symbols
    if not isinstance(names, list | tuple) or not names:
        raise checks.fail("symbols", "must be a symbol or a non-empty list of symbols", symbols)
    for name in names:
        checks.text("symbols", name)
    if len(set(names)) != len(names):
        raise checks.fail("symbols", "must not repeat a symbol", symbols)
    return list(names)


class TickerPanel(HtmlPanel):
    """Bid, ask, spread, change since the panel opened and last update of some symbols; changed cells flash. Prices
    show the symbol's digits and the spread its points, as MetaTrader does (:mod:`mtdata.live.price_format`). A quote
    of a market closed since (a weekend's Friday quote) says "stale" after its time
    (:class:`~mtdata.market_hours.StaleWatch`).

    An HTML table (an ``ipywidgets.HTML``): one comm message per redraw, so it keeps :data:`DEFAULT_RATE`."""

    def __init__(self, feed: LiveFeed, symbols: str | list[str], *, rate: float = DEFAULT_RATE) -> None:
        self.symbols = symbol_list(symbols)
        """The symbols shown, one row each in this order."""
        self._lock = threading.Lock()
        self._latest: dict[str, dict[str, Any]] = {}
        self._first_bid: dict[str, float] = {}
        self._shown: dict[str, dict[str, Any]] = {}
        self._specs: dict[str, dict[str, Any] | None] = {}
        self._watch = StaleWatch(feed._session, self.changed)
        super().__init__(self._table({}), style=TICKER_STYLE, title="ticker " + " ".join(self.symbols), rate=rate)
        self.on_close(self._watch.close)
        self._listen_all(feed, [(Stream("quotes", s), self._price) for s in self.symbols])
        feed._session.run(self._seed(feed))

    async def _seed(self, feed: LiveFeed) -> None:
        """Read the symbols' specifications (digits, point) and start from the quotes the connection already holds:
        a closed market sends no new one (on the loop)."""
        for symbol in self.symbols:
            state = feed._connection.terminal_state if feed._connection is not None else None
            self._specs[symbol] = state.specification(symbol) if state is not None else None
            price = state.price(symbol) if state is not None else None
            if price is not None and symbol not in self._latest:
                self._price(price)

    def values(self) -> dict[str, dict[str, Any]]:
        """The values shown at the last redraw, per symbol: bid, ask, spread (ask - bid) and ``points`` (the spread
        in the symbol's points; None without its specification), change, time, stale."""
        return {symbol: dict(shown) for symbol, shown in self._shown.items()}

    def _price(self, price: dict[str, Any]) -> None:
        with self._lock:
            self._latest[price["symbol"]] = price
        self._watch.note(price)
        self.changed()

    def redraw(self) -> None:
        """Rebuild the table from the latest prices, marking what moved since the last redraw."""
        with self._lock:
            latest = dict(self._latest)
        moves: dict[str, dict[str, str]] = {}
        for symbol, price in latest.items():
            bid, ask = price["bid"], price["ask"]
            first = self._first_bid.setdefault(symbol, bid)
            now = {"bid": bid, "ask": ask, "spread": round(ask - bid, 10), "change": round(bid - first, 10)}
            now["points"] = spread_points(bid, ask, self._specs.get(symbol))
            now["time"], now["stale"] = price.get("time"), self._watch.stale.get(symbol, False)
            before = self._shown.get(symbol, {})
            moves[symbol] = {
                key: "mtdata-up" if now[key] > before[key] else "mtdata-down"
                for key in ("bid", "ask")
                if key in before and now[key] != before[key]
            }
            self._shown[symbol] = now
        self.show(self._table(moves))

    def _table(self, moves: dict[str, dict[str, str]]) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("symbol", "bid", "ask", "spread", "change", "last update"))
        rows = []
        for symbol in self.symbols:
            shown = self._shown.get(symbol)
            if shown is None:
                cells = [html.escape(symbol), *["…"] * 5]
                rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
                continue
            move = moves.get(symbol, {})
            when = shown["time"].strftime("%H:%M:%S.%f")[:-3] if isinstance(shown["time"], datetime) else "?"
            when += " stale (market closed)" if shown["stale"] else ""
            digits = price_digits(self._specs.get(symbol))
            cells = [
                ("symbol", html.escape(symbol)),
                ("bid", price_text(shown["bid"], digits)),
                ("ask", price_text(shown["ask"], digits)),
                ("spread", price_text(shown["spread"], digits) if shown["points"] is None else str(shown["points"])),
                ("change", change_text(shown["change"], digits)),
                ("time", when),
            ]
            tds = "".join(f"<td class='mtdata-{k} {move.get(k, '')}'>{v}</td>" for k, v in cells)
            rows.append(f"<tr data-symbol='{html.escape(symbol)}'>{tds}</tr>")
        return f"<table class='mtdata-ticker'><tr>{head}</tr>{''.join(rows)}</table>"


class TicksPanel(Panel):
    """Bid and ask of every tick of a symbol as two lines, the newest ``rollover`` ticks."""

    def __init__(self, feed: LiveFeed, symbol: str, *, rollover: int = 2000, rate: float = CHART_RATE) -> None:
        self.symbol = checks.text("symbol", symbol)
        """The symbol whose ticks are charted."""
        self.window = Window(("time", "bid", "ask"), rollover=rollover)
        """The chart's data: ``time`` (ms since the epoch), ``bid`` and ``ask`` of the newest ``rollover`` ticks."""
        self.window.source.name = "ticks"
        chart = time_figure(height=280, width=700, title=f"{symbol} ticks", name="ticks_chart")
        chart.line("time", "bid", source=self.window.source, color="#1565c0", legend_label="bid")
        chart.line("time", "ask", source=self.window.source, color="#c62828", legend_label="ask")
        chart.add_tools(CrosshairTool(), HoverTool(tooltips=[("bid", "@bid{0.00000}"), ("ask", "@ask{0.00000}")]))
        chart.legend.location = "top_left"
        super().__init__(chart, title=f"{symbol} ticks", rate=rate)
        self._listen_all(feed, [(Stream("ticks", self.symbol), self._ticks)])

    def _ticks(self, ticks: list[dict[str, Any]]) -> None:
        self.window.stream(
            {
                "time": [tick["time"].timestamp() * 1000 for tick in ticks],
                "bid": [tick.get("bid") for tick in ticks],
                "ask": [tick.get("ask") for tick in ticks],
            }
        )
        self.changed()

    def redraw(self) -> None:
        """Stream the new ticks to the chart."""
        self.window.apply()


BOOK_COLUMNS = ("side", "price", "volume", "cumulative")


def book_levels(book: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """A book's ladder (asks high to low, then bids high to low, cumulative volume from the touch) and depth steps."""
    asks = sorted((level for level in book if level.get("type") == "BOOK_TYPE_SELL"), key=lambda lv: lv["price"])
    bids = sorted((level for level in book if level.get("type") == "BOOK_TYPE_BUY"), key=lambda lv: -lv["price"])
    ladder: dict[str, list[Any]] = {name: [] for name in BOOK_COLUMNS}
    depth: dict[str, list[Any]] = {"ask_price": [], "ask_depth": [], "bid_price": [], "bid_depth": []}
    sides = []
    for side, levels in (("ask", asks), ("bid", bids)):
        total, rows = 0.0, []
        for level in levels:
            total = round(total + level["volume"], 8)
            rows.append((side, level["price"], level["volume"], total))
            depth[f"{side}_price"].append(level["price"])
            depth[f"{side}_depth"].append(total)
        sides.append(rows[::-1] if side == "ask" else rows)
    for rows in sides:
        for values in rows:
            for name, value in zip(BOOK_COLUMNS, values, strict=True):
                ladder[name].append(value)
    return ladder, depth


class BookPanel(Panel):
    """A symbol's order book: the depth ladder (a table) and the cumulative depth of each side (a chart)."""

    def __init__(self, feed: LiveFeed, symbol: str, *, rate: float = CHART_RATE) -> None:
        self.symbol = checks.text("symbol", symbol)
        """The symbol whose order book is shown."""
        self._latest: dict[str, Any] | None = None
        empty, depth = book_levels([])
        self.ladder = ColumnDataSource(data=empty, name="ladder")
        """The ladder's data: side, price, volume and cumulative volume from the touch, asks high to low then bids."""
        self.depth = ColumnDataSource(data=depth, name="depth")
        """The depth chart's data: each side's prices and cumulative volume (``ask_price``, ``ask_depth``,
        ``bid_price``, ``bid_depth``)."""
        self.table = DataTable(
            source=self.ladder,
            columns=[TableColumn(field=name, title=name, width=360 // len(BOOK_COLUMNS)) for name in BOOK_COLUMNS],
            autosize_mode="none",  # fixed widths: the page does not re-measure the columns at every book
            width=360,
            height=320,
            index_position=None,
            name="book_table",
        )
        """The depth ladder, a Bokeh ``DataTable`` of :attr:`ladder`."""
        chart = page_ranges(figure(height=320, width=420, title=f"{symbol} cumulative depth", name="depth_chart"))
        chart.step("ask_price", "ask_depth", source=self.depth, color="#c62828", mode="after", legend_label="asks")
        chart.step("bid_price", "bid_depth", source=self.depth, color="#1565c0", mode="after", legend_label="bids")
        chart.add_tools(CrosshairTool())
        super().__init__(row(self.table, chart), title=f"{symbol} book", rate=rate)
        self._listen_all(feed, [(Stream("marketDepth", self.symbol), self._book)])

    def _book(self, book: dict[str, Any]) -> None:
        self._latest = book  # one reference swap: atomic
        self.changed()

    def redraw(self) -> None:
        """Show the newest book (both sources replaced: a book is a few dozen levels)."""
        book = self._latest
        if book is None:
            return
        ladder, depth = book_levels(book.get("book") or [])
        show_rows(self.table, ladder)
        self.depth.data = depth
