"""Live panels: Bokeh figures in ipywidgets that stay live between cells (JupyterLab, Notebook, Voila).

The foundations, used by every panel:

- :class:`Throttle` (``throttle.py``): any number of updates from any thread become at most ``rate``
  (default 10) redraws per second, run on the kernel's thread, none while nothing changes.
- :class:`Window` (``window.py``): a bounded rollover window of columns (closed rows streamed, the forming
  row patched in place) mirrored into a Bokeh ``ColumnDataSource`` with one small message per redraw.
- :class:`Panel` (``view.py``): the base ipywidget around ``jupyter_bokeh.BokehModel``, BokehJS loaded
  inline (no CDN), the current document re-sent when a browser view connects, ``close()`` and
  ``snapshot(path)`` (a standalone HTML file, or a PNG drawn by a headless Chromium: ``png.py``).

The market panels (``session.panel``, a :class:`PanelFactory`) are fed by the session's :class:`LiveFeed`
(``feed.py``): one listener on its streaming connection, shared reference-counted subscriptions:
:class:`TickerPanel`, :class:`TicksPanel`, :class:`BookPanel` (``market_panels.py``) and
:class:`CandlesPanel` (``candles_panel.py``). :class:`LatencyPanel` (``latency_panel.py``) polls the session's
latency and health monitors instead.
"""

from __future__ import annotations

from .candles_panel import CandlesPanel
from .factory import PanelFactory
from .feed import LiveFeed, Stream
from .latency_panel import LatencyPanel
from .market_panels import BookPanel, TickerPanel, TicksPanel
from .throttle import DEFAULT_RATE, Throttle
from .view import Panel, load_bokehjs
from .window import Window

__all__ = [
    "DEFAULT_RATE",
    "BookPanel",
    "CandlesPanel",
    "LatencyPanel",
    "LiveFeed",
    "Panel",
    "PanelFactory",
    "Stream",
    "Throttle",
    "TickerPanel",
    "TicksPanel",
    "Window",
    "load_bokehjs",
]
