"""The bases of live panels: :class:`LivePanel` (throttled redraws, close callbacks, snapshots), under
:class:`Panel`, a Bokeh layout shown through ``jupyter_bokeh.BokehModel``, and :class:`HtmlPanel`, HTML shown
through an ``ipywidgets.HTML``.

Works wherever ipywidgets render (JupyterLab, Notebook 7, Voila, VS Code), unlike ``push_notebook``.
Producers call :meth:`LivePanel.changed` from any thread after storing new data; at most ``rate`` times per
second the panel's :meth:`LivePanel.redraw` (a subclass hook) runs on the kernel's thread. A :class:`Panel`'s
redraw changes Bokeh models; everything one redraw changed travels to the browser as one document patch (three
comm messages), sent only while the front end reports a view (ipywidgets' ``_view_count``, which the panel
asks it to keep). When a view connects (a Voila page opening after the notebook ran, a reloaded JupyterLab tab,
the same panel displayed twice) the panel re-sends its whole document (``render_bundle``) if it changed since
it was last sent whole. That transport, and BokehJS loaded inline once per kernel (panels need no CDN), is
``bokeh_widget.py``'s. Panels redraw on a frame shared by the kernel's panels (:class:`Throttle`'s ``phase``).
An :class:`HtmlPanel`'s redraw sets its HTML: one comm message, and a connecting view reads the current HTML
from the widget's state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets
from bokeh.embed import file_html
from bokeh.models import LayoutDOM
from bokeh.resources import INLINE

from ..client import checks
from . import png
from .bokeh_widget import BokehWidget, load_bokehjs
from .throttle import CHART_PHASE, CHART_RATE, DEFAULT_RATE, Throttle

if TYPE_CHECKING:
    from .feed import LiveFeed, Sink, Stream

log = logging.getLogger("mtdata.live")


def close_tree(widget: ipywidgets.Widget) -> None:
    """Close a widget and every widget in its boxes (a box's ``close()`` leaves its children open)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


def one_line(widget: ipywidgets.Widget, what: str, closed: bool) -> str:
    """A live widget's repr: its class, ``what`` it shows and whether it is live, on one line (not ipywidgets' tree
    of children and styles; a page without the widget, such as GitHub's or the docs', shows this line)."""
    return f"<{type(widget).__name__} {what} {'closed' if closed else 'live'}>"


class LivePanel(ipywidgets.VBox):
    """The common base of live panels: a view widget (plus optional ipywidgets ``controls`` below it) redrawn at
    most ``rate`` times a second, close callbacks, snapshots.

    Subclasses (:class:`Panel`, Bokeh; :class:`HtmlPanel`, HTML) make the view in ``_make_view()``; concrete
    panels store incoming data thread-safely (a :class:`~mtdata.live.window.Window`, or a latest value), call
    :meth:`changed`, and implement :meth:`redraw`. Create panels on the kernel's thread (in a cell): the running
    loop found there is where every redraw happens.
    """

    _closed = True  # until built: arguments are checked first, and ipywidgets calls close() from __del__
    #: Where in the kernel's shared redraw frame the panel redraws (see :class:`~mtdata.live.throttle.Throttle`).
    phase = 0.0

    def __init__(
        self,
        *,
        title: str,
        rate: float,
        controls: Sequence[ipywidgets.Widget] = (),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        try:
            checks.text("title", title)
            self._title = title
            self._throttle = Throttle(self._flush, rate=rate, loop=loop, phase=self.phase)
            self._closers: list[Callable[[], Any]] = []
            super().__init__(children=[self._make_view(), *controls])
        except BaseException:  # e.g. a bad rate: the widgets given must not stay open
            for widget in (*controls, *self._texts()):
                close_tree(widget)
            raise
        self._closed = False

    def __repr__(self) -> str:
        return one_line(self, repr(self._title), self._closed)

    @property
    def rate(self) -> float:
        """The most redraws per second."""
        return self._throttle.rate

    @property
    def redraws(self) -> int:
        """How many times :meth:`redraw` ran."""
        return self._throttle.flushes

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def changed(self) -> None:
        """Tell the panel its data changed (thread-safe, cheap): a redraw follows within ``1 / rate`` seconds."""
        self._throttle.poke()

    def redraw(self) -> None:
        """Apply the latest data to the view; runs on the kernel's thread. Concrete panels implement it."""
        raise NotImplementedError

    def on_close(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` (e.g. unsubscribe a feed) when the panel closes; a raising callback is logged."""
        if not callable(callback):
            raise checks.fail("callback", "must be callable", callback)
        self._closers.append(callback)

    def close(self) -> None:
        """Stop updates, run the close callbacks, close the widgets. Idempotent; call on the kernel's thread."""
        if self._closed:
            return
        self._closed = True
        self._throttle.close()
        closers, self._closers = self._closers, []
        for callback in reversed(closers):
            try:
                callback()
            except Exception:
                log.exception("closing a live panel: %r failed", callback)
        for child in self.children:
            close_tree(child)
        super().close()

    def snapshot(self, path: str | os.PathLike[str]) -> Path:
        """Write the panel as it is now to ``path`` and return it: a standalone HTML file (nothing fetched: opens
        offline) for ``.html``, a picture for ``.png``, drawn by a headless Chromium or Google Chrome that must be
        installed (no Python package needed: see :mod:`mtdata.live.png`; RuntimeError when none is found)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".html", ".htm", ".png"):
            raise checks.fail("path", "must name an .html or .png file", str(path))
        browser = png.require_browser() if suffix == ".png" else None
        if not self._closed:
            self._throttle.flush_now()
        if browser is None:
            target.write_text(self._page(), encoding="utf-8")
        else:
            self._picture(target, browser)
        return target

    def _listen(self, feed: LiveFeed, stream: Stream, sink: Sink) -> None:
        """Attach ``sink`` to ``feed``'s ``stream`` until the panel closes."""
        feed.attach(stream, sink)
        self.on_close(lambda: feed.detach(stream, sink))

    def _listen_all(self, feed: LiveFeed, streams: list[tuple[Stream, Sink]]) -> None:
        """Attach every sink; on a failure close the panel (detaching those already attached) and re-raise."""
        try:
            for stream, sink in streams:
                self._listen(feed, stream, sink)
        except BaseException:
            self.close()
            raise

    def _texts(self) -> tuple[ipywidgets.Widget, ...]:
        """Widgets a subclass made for the view before this base was built (closed if building fails)."""
        return ()

    def _make_view(self) -> ipywidgets.Widget:
        """The widget showing the panel (made once, after the throttle)."""
        raise NotImplementedError

    def _flush(self) -> None:
        """One throttled redraw (the hook around :meth:`redraw`)."""
        self.redraw()

    def _page(self) -> str:
        """The panel as a standalone HTML page."""
        raise NotImplementedError

    def _picture(self, target: Path, browser: str) -> None:
        """Draw the panel's page with ``browser`` into the PNG ``target``."""
        png.render_page(self._page(), target, browser)


class Panel(LivePanel):
    """A live Bokeh layout updated at most ``rate`` times a second, with HTML texts ``above`` and ``below`` it
    (``ipywidgets.HTML``; ``style``, a ``<style>`` block for them, is sent once) and ipywidgets ``controls`` last.

    Each redraw's Bokeh changes travel as one document patch (three comm messages): hence :data:`CHART_RATE`.
    Text that changes with the market (figures, totals) belongs in ``above`` / ``below``, not in a Bokeh ``Div``:
    BokehJS rebuilds a changed ``Div`` and lays its whole document out again (style recalculation, tasks long
    enough to hold back every other update on the page), while an HTML widget's update is one comm message and
    one ``innerHTML``. Snapshots include the texts. Bokeh panels redraw just after the HTML panels of the same
    frame (:data:`~mtdata.live.throttle.CHART_PHASE`): the page draws their patches after the ticker's update.
    """

    phase = CHART_PHASE  #: Bokeh panels redraw just after the HTML panels of the same frame.

    def __init__(
        self,
        layout: LayoutDOM,
        *,
        title: str = "mtdata panel",
        rate: float = CHART_RATE,
        above: Sequence[ipywidgets.HTML] = (),
        below: Sequence[ipywidgets.HTML] = (),
        style: str = "",
        controls: Sequence[ipywidgets.Widget] = (),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(layout, LayoutDOM):
            raise checks.fail("layout", "must be a Bokeh layout or figure", layout)
        for name, texts in (("above", above), ("below", below)):
            if not all(isinstance(text, ipywidgets.HTML) for text in texts):
                raise checks.fail(name, "must be ipywidgets.HTML widgets", texts)
        if not isinstance(style, str):
            raise checks.fail("style", "must be a string", style)
        self._layout, self._above, self._below, self._style = layout, tuple(above), tuple(below), style
        super().__init__(title=title, rate=rate, controls=controls, loop=loop)

    def _texts(self) -> tuple[ipywidgets.Widget, ...]:
        return (*self._above, *self._below)

    @property
    def layout_model(self) -> LayoutDOM:
        """The Bokeh layout the panel shows."""
        return self._layout

    def _make_view(self) -> ipywidgets.Widget:
        load_bokehjs()
        self._bokeh = BokehWidget(self._layout)
        self._bokeh.observe(self._view_count_changed, names="_view_count")
        style = [ipywidgets.HTML(self._style)] if self._style else []
        parts = [*style, *self._above, self._bokeh, *self._below]
        return self._bokeh if len(parts) == 1 else ipywidgets.VBox(parts)

    def _flush(self) -> None:
        with self._bokeh.batch():
            self.redraw()

    def _page(self) -> str:
        page = file_html(self._layout, INLINE, title=self._title, theme=None)
        above = self._style + "".join(text.value for text in self._above)
        below = "".join(text.value for text in self._below)
        opening = re.compile(r"<body[^>]*>").search(page, max(page.rfind("</head>"), 0))  # (BokehJS inline says <body)
        closing = page.rfind("</body>")
        if opening is None or closing < 0:  # (Bokeh's page template has both)
            return page
        return page[: opening.end()] + above + page[opening.end() : closing] + below + page[closing:]

    def _picture(self, target: Path, browser: str) -> None:
        size, stretch = png.page_size(self._layout), png.stretches(self._layout)
        png.render_page(self._page(), target, browser, size=size, stretch=stretch)

    def _view_count_changed(self, change: dict[str, Any]) -> None:
        if self._closed or (change["new"] or 0) <= (change["old"] or 0):
            return
        if not self._throttle.closed:
            self._throttle.flush_now()
        self._bokeh.resend()


class HtmlPanel(LivePanel):
    """A live panel showing HTML in an ``ipywidgets.HTML``: a redraw is one widget state update (one comm message),
    so it can redraw :data:`DEFAULT_RATE` times a second; a newly connecting view gets the current HTML from the
    widget's state. Concrete panels build the HTML in :meth:`~LivePanel.redraw` and :meth:`show` it. ``style`` (a
    ``<style>`` block) sits in a widget of its own, sent once: a style sheet re-parsed at every redraw would make the
    browser recompute the whole page's styles."""

    def __init__(
        self,
        html: str = "",
        *,
        style: str = "",
        title: str = "mtdata panel",
        rate: float = DEFAULT_RATE,
        controls: Sequence[ipywidgets.Widget] = (),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        for name, value in (("html", html), ("style", style)):
            if not isinstance(value, str):
                raise checks.fail(name, "must be a string", value)
        self._initial, self._style = html, style
        super().__init__(title=title, rate=rate, controls=controls, loop=loop)

    @property
    def html(self) -> str:
        """The HTML shown."""
        return self._html.value

    def show(self, html: str) -> None:
        """Show ``html`` (sent to the browser only when it differs from what is shown); on the kernel's thread."""
        self._html.value = html

    def _make_view(self) -> ipywidgets.Widget:
        self._html = ipywidgets.HTML(self._initial)
        return ipywidgets.VBox([ipywidgets.HTML(self._style), self._html]) if self._style else self._html

    def _page(self) -> str:
        return (
            f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{escape(self._title)}</title>"
            f"{self._style}</head><body>{self.html}</body></html>\n"
        )
