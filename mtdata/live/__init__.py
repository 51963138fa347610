"""Live panels: Bokeh figures in ipywidgets that stay live between cells (JupyterLab, Notebook, Voila).

The foundations, used by every panel:

- :class:`Throttle` (``throttle.py``): any number of updates from any thread become at most ``rate``
  (default 10) redraws per second, run on the kernel's thread, none while nothing changes.
- :class:`Window` (``window.py``): a bounded rollover window of columns (closed rows streamed, the forming
  row patched in place) mirrored into a Bokeh ``ColumnDataSource`` with one small message per redraw.
- :class:`Panel` (``view.py``): the base ipywidget around ``jupyter_bokeh.BokehModel``, BokehJS loaded
  inline (no CDN), the current document re-sent when a browser view connects, ``close()`` and
  ``snapshot(path)`` (a standalone HTML file).

Nothing here talks to a server: panels are fed by whoever calls ``Window.stream``/``patch`` and
``Panel.changed`` (in mtdata, the session's streaming connection).
"""

from __future__ import annotations

from .throttle import DEFAULT_RATE, Throttle
from .view import Panel, load_bokehjs
from .window import Window

__all__ = ["DEFAULT_RATE", "Panel", "Throttle", "Window", "load_bokehjs"]
