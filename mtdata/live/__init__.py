"""Live panels: Bokeh figures in ipywidgets that stay live between cells (JupyterLab, Notebook, Voila).

The foundations, used by every panel:

- :class:`Throttle` (``throttle.py``): any number of updates from any thread become at most ``rate``
  redraws per second (by default :data:`DEFAULT_RATE`, 10, for the ticker, an HTML widget, and
  :data:`CHART_RATE`, 2.5, for the Bokeh charts: one Bokeh patch is 3 comm messages, and :data:`MIXED_RATE`, 2,
  for Bokeh panels with HTML text: figures, totals), run on the kernel's thread, none while nothing changes.
- :class:`Window` (``window.py``): a bounded rollover window of columns (closed rows streamed, the forming
  row patched in place) mirrored into a Bokeh ``ColumnDataSource`` with one small message per redraw.
- :class:`LivePanel` (``view.py``): the base of every panel (throttled ``redraw()``, ``close()`` and its
  callbacks, ``snapshot(path)``: a standalone HTML file, or a PNG drawn by a headless Chromium: ``png.py``);
  :class:`Panel`, around ``jupyter_bokeh.BokehModel`` (``bokeh_widget.py``: BokehJS loaded inline, no CDN; the
  current document re-sent when a browser view connects), and :class:`HtmlPanel`, around an ``ipywidgets.HTML``
  (one comm message per redraw; a new view gets the current HTML from the widget's state).

The panels of a session (``session.panel``, a :class:`PanelFactory`) are fed by its :class:`LiveFeed`
(``feed.py``): one listener on its streaming connection, shared reference-counted subscriptions:

- market: :class:`TickerPanel`, :class:`TicksPanel`, :class:`BookPanel` (``market_panels.py``),
  :class:`CandlesPanel` (``candles_panel.py``);
- account: :class:`PositionsPanel`, :class:`OrdersPanel` (``trade_tables.py``, with close/cancel buttons),
  :class:`AccountPanel` (``account_panel.py``, with the equity curve);
- :class:`LatencyPanel` (``latency_panel.py``) polls the session's latency and health monitors instead.

Live data to compute on (``session.live``, a :class:`LiveData`, ``data.py``): :class:`LiveQuote` and
:class:`LiveCandles` (``.df``: history and the forming candle), on the same feed, with ``on_update`` callbacks.

:class:`Dashboard` (``dashboard.py``) lays several panels out together (``session.dashboard(symbols)``), and a
:class:`TradingDesk` puts a symbols picker over one and an order ticket that follows the pick (``session.panel.desk``);
:class:`OrderTicket` (``order_ticket.py``: the form) is an order form over a positions panel
(``session.order_ticket``); its review and send are ``order_review.py``'s, its price following the quote
``quote_follow.py``'s.
"""

from __future__ import annotations

from ..extras import needs

with needs("mtdata.live (the live panels)"):  # ipywidgets, Bokeh, jupyter_bokeh: the jupyter extra
    from .account_panel import AccountPanel
    from .bokeh_widget import load_bokehjs
    from .candles_panel import CandlesPanel
    from .dashboard import Dashboard, TradingDesk
    from .data import LiveCandles, LiveData, LiveQuote
    from .factory import PanelFactory
    from .feed import LiveFeed, Stream
    from .latency_panel import LatencyPanel
    from .market_panels import BookPanel, TickerPanel, TicksPanel
    from .order_ticket import OrderTicket
    from .throttle import CHART_RATE, DEFAULT_RATE, MIXED_RATE, Throttle
    from .trade_tables import OrdersPanel, PositionsPanel
    from .view import HtmlPanel, LivePanel, Panel
    from .window import Window

__all__ = [
    "CHART_RATE",
    "DEFAULT_RATE",
    "MIXED_RATE",
    "AccountPanel",
    "BookPanel",
    "CandlesPanel",
    "Dashboard",
    "HtmlPanel",
    "LatencyPanel",
    "LiveCandles",
    "LiveData",
    "LiveFeed",
    "LivePanel",
    "LiveQuote",
    "OrderTicket",
    "OrdersPanel",
    "Panel",
    "PanelFactory",
    "PositionsPanel",
    "Stream",
    "Throttle",
    "TickerPanel",
    "TicksPanel",
    "TradingDesk",
    "Window",
    "load_bokehjs",
]
