"""``session.panel``: the live panels of one session, built on its :class:`~mtdata.live.feed.LiveFeed`.

The factory holds its panels weakly; :meth:`PanelFactory.close` (run by ``session.close()``) closes the
ones still alive, then the feed (its subscriptions and listener).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, TypeVar

from ..order_checks import unknown_symbol
from .account_panel import AccountPanel
from .candles_panel import CandlesPanel
from .dashboard import Dashboard, TradingDesk
from .data import LiveData
from .feed import LiveFeed
from .latency_panel import LatencyPanel
from .market_panels import BookPanel, TickerPanel, TicksPanel, symbol_list
from .order_ticket import OrderTicket
from .throttle import CHART_RATE, DEFAULT_RATE, MIXED_RATE
from .trade_tables import OrdersPanel, PositionsPanel
from .view import LivePanel

if TYPE_CHECKING:
    from ..session import Session

P = TypeVar("P", bound=LivePanel)


class PanelFactory:
    """Makes live panels of a session: ``s.panel.ticker(["EURUSD"])``, ``s.panel.candles("EURUSD", "1m")`` …

    ``rate`` is the most redraws per second of a panel: :data:`DEFAULT_RATE` (10) for the ticker (one comm message
    per redraw), :data:`CHART_RATE` (2.5) for the Bokeh charts (three comm messages per redraw), :data:`MIXED_RATE`
    (2) for the account, positions, orders and latency panels (a Bokeh patch and HTML text: four or five).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._feed: LiveFeed | None = None
        self._panels: weakref.WeakSet[LivePanel] = weakref.WeakSet()
        self._tickets: weakref.WeakSet[OrderTicket] = weakref.WeakSet()
        self.data = LiveData(session, lambda: self.feed)
        """Live data objects on the same feed (``session.live``: :mod:`mtdata.live.data`)."""

    @property
    def feed(self) -> LiveFeed:
        """The session's live feed (made on first use)."""
        if self._feed is None:
            if self._session.closed:
                raise RuntimeError("the session is closed")
            self._feed = LiveFeed(self._session)
        return self._feed

    @property
    def open(self) -> list[LivePanel]:
        """The panels made here that are still open."""
        return [panel for panel in list(self._panels) if not panel.closed]

    def ticker(self, symbols: str | list[str], *, rate: float = DEFAULT_RATE) -> TickerPanel:
        """Bid, ask, spread, change since the panel opened and last update of ``symbols``, flashing on change."""
        return self._keep(TickerPanel(self.feed, symbols, rate=rate))

    def candles(
        self, symbol: str, timeframe: str = "1m", *, rollover: int = 300, rate: float = CHART_RATE
    ) -> CandlesPanel:
        """Candlesticks and volume of ``symbol``: ``rollover`` bars of history, then the forming bar live."""
        return self._keep(CandlesPanel(self._session, self.feed, symbol, timeframe, rollover=rollover, rate=rate))

    def ticks(self, symbol: str, *, rollover: int = 2000, rate: float = CHART_RATE) -> TicksPanel:
        """Bid and ask lines of ``symbol``'s ticks (the newest ``rollover``)."""
        return self._keep(TicksPanel(self.feed, symbol, rollover=rollover, rate=rate))

    def book(self, symbol: str, *, rate: float = CHART_RATE) -> BookPanel:
        """``symbol``'s order book: depth ladder and cumulative depth chart."""
        return self._keep(BookPanel(self.feed, symbol, rate=rate))

    def latency(
        self, *, every: float = 1.0, window: str = "1h", rollover: int = 600, rate: float = MIXED_RATE
    ) -> LatencyPanel:
        """The session's latency percentiles (a table), client-side p50/p95 over time and the connection's health."""
        return self._keep(LatencyPanel(self._session, every=every, window=window, rollover=rollover, rate=rate))

    def positions(self, symbol: str | None = None, *, rate: float = MIXED_RATE) -> PositionsPanel:
        """Open positions (of ``symbol``, or all) with floating profit, live; "Close selected" and "Close all"."""
        return self._keep(PositionsPanel(self._session, self.feed, symbol, rate=rate))

    def orders(self, symbol: str | None = None, *, rate: float = MIXED_RATE) -> OrdersPanel:
        """Pending orders (of ``symbol``, or all), live; "Cancel selected" and "Cancel all"."""
        return self._keep(OrdersPanel(self._session, self.feed, symbol, rate=rate))

    def account(self, *, rollover: int = 3000, rate: float = MIXED_RATE) -> AccountPanel:
        """Balance, equity, margin, free margin and margin level, with the equity curve (``rollover`` points)."""
        return self._keep(AccountPanel(self._session, self.feed, rollover=rollover, rate=rate))

    def dashboard(self, symbols: str | list[str], timeframe: str = "1m", *, rate: float | None = None) -> Dashboard:
        """Five panels in one widget: a ticker of ``symbols``, candles of the first, account, positions, latency.

        ``rate``: the most redraws per second of every panel; by default each panel's own (the ticker
        :data:`DEFAULT_RATE`, candles :data:`CHART_RATE`, the others :data:`MIXED_RATE`: at most 10 comm messages
        per panel per second).
        """
        names = symbol_list(symbols)
        given = {} if rate is None else {"rate": rate}
        makers = {
            "ticker": lambda: self.ticker(names, **given),
            "account": lambda: self.account(**given),
            "candles": lambda: self.candles(names[0], timeframe, **given),
            "positions": lambda: self.positions(**given),
            "latency": lambda: self.latency(**given),
        }
        return Dashboard.build(makers, [["ticker", "account"], ["candles"], ["positions"], ["latency"]])

    def desk(self, symbols: str | list[str], timeframe: str = "1m") -> TradingDesk:
        """A symbols picker (the account's symbols, ``symbols`` picked) over a :meth:`dashboard` of the symbols picked
        and an :meth:`order_ticket` following the first: the dashboard notebook's app."""
        names = symbol_list(symbols)
        choices = list(self._session.specifications().index)
        for name in names:
            if name not in choices:
                raise unknown_symbol(name)
        ticket = self.order_ticket(names[0])
        try:
            return TradingDesk(lambda picked: self.dashboard(picked, timeframe), ticket, choices, names)
        except BaseException:
            ticket.close()
            raise

    def order_ticket(self, symbol: str) -> OrderTicket:
        """An order form for ``symbol`` (review, then confirm) above a live positions panel of every symbol: another
        symbol typed (or picked on a desk) trades there, and the position it opens shows, selected, beneath it."""
        positions = self.positions()
        try:
            ticket = OrderTicket(self._session, symbol, positions=positions)
        except BaseException:
            positions.close()
            raise
        self._tickets.add(ticket)
        return ticket

    def close(self) -> None:
        """Close every order ticket and open panel, then the feed (no subscription or listener left). Idempotent."""
        self.data.close()
        for ticket in list(self._tickets):
            ticket.close()
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()  # one teardown; the panels' own detaches are then no-ops
        for panel in self.open:
            panel.close()

    def _keep(self, panel: P) -> P:
        self._panels.add(panel)
        return panel
