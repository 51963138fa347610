"""The base of every live panel: a Bokeh layout shown through ``jupyter_bokeh.BokehModel`` (an ipywidget).

Works wherever ipywidgets render (JupyterLab, Notebook 7, Voila, VS Code), unlike ``push_notebook``.
Producers call :meth:`Panel.changed` from any thread after storing new data; at most ``rate`` times per
second the panel's :meth:`Panel.redraw` (a subclass hook) runs on the kernel's thread and changes Bokeh
models; everything one redraw changed travels to the browser as one document patch (three comm frames).
Patches sent while no browser view exists are lost, so when a view connects (a Voila page opening after
the notebook ran, a reloaded JupyterLab tab, the same panel displayed twice) the panel re-sends its whole
document if it changed since it was last sent whole: it asks the front end to count views (ipywidgets'
``_view_count``) and refreshes ``render_bundle`` when the count grows.
BokehJS is loaded inline, once per kernel, so panels need no CDN.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import ipywidgets
from bokeh.document.events import DocumentPatchedEvent
from bokeh.embed import file_html
from bokeh.io.notebook import load_notebook
from bokeh.models import LayoutDOM
from bokeh.protocol import Protocol
from bokeh.resources import INLINE
from jupyter_bokeh import BokehModel

from ..client import checks
from . import png
from .throttle import DEFAULT_RATE, Throttle

log = logging.getLogger("mtdata.live")

_bokehjs_loaded = False

#: Model attributes the browser owns: selections made by the user (all others are echoes of kernel changes).
BROWSER_OWNED = frozenset({"indices", "line_indices", "multiline_indices", "image_indices"})


def load_bokehjs() -> None:
    """Send BokehJS, inline, to the notebook's page once per kernel; outside IPython there is no page (no-op)."""
    global _bokehjs_loaded
    if _bokehjs_loaded:
        return
    from IPython import get_ipython

    if get_ipython() is None:
        return
    load_notebook(resources=INLINE, hide_banner=True)
    _bokehjs_loaded = True


class _BokehWidget(BokehModel):
    """``BokehModel`` that sends one redraw's changes as one PATCH-DOC, re-sends its document, closes twice.

    jupyter_bokeh 4.1 sends one PATCH-DOC (three comm frames or more) per Bokeh event, keeps the document of
    its creation in ``render_bundle`` (what a new view draws), and its ``close()`` raises KeyError when run
    again (ipywidgets runs it again from ``__del__``).
    """

    def __init__(self, model: LayoutDOM) -> None:
        self._held: list[DocumentPatchedEvent] | None = None
        self._stale = False
        super().__init__(model, _view_count=0)  # the front end reports each view it displays

    def update_from_model(self, model: LayoutDOM) -> None:
        """Serialize the whole document into ``render_bundle`` (sent to the front end)."""
        super().update_from_model(model)
        self._stale = False

    def resend(self) -> None:
        """Send the whole current document again if it changed since it was last sent whole."""
        if self._stale:
            self.update_from_model(self._model)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the document's changes made inside the block and send them as one message at its end."""
        self._held = []
        try:
            yield
        finally:
            events, self._held = self._held, None
            if events:
                self._send_patch(events)

    def _sync_model(self, model: BokehModel, content: dict[str, Any], buffers: list[Any]) -> None:
        """Apply what the browser changed itself (a table's selection, a Bokeh event); drop echoes of our patches.

        jupyter_bokeh's front end sends every patch it applied back to the kernel; applied again, streamed rows
        would be appended twice and a stale echo would undo a newer value, and decoding them costs CPU.
        """
        if content.get("kind") == "MessageSent" or content.get("attr") in BROWSER_OWNED:
            super()._sync_model(model, content, buffers)

    def close(self) -> None:
        """Close the widget and stop listening to the document (idempotent)."""
        with suppress(KeyError):  # already unregistered from the document by an earlier close()
            super().close()

    def _document_patched(self, event: DocumentPatchedEvent) -> None:
        self._stale = True
        if event.setter is self:
            return
        if self._held is not None:
            self._held.append(event)
        else:
            self._send_patch([event])

    def _send_patch(self, events: list[DocumentPatchedEvent]) -> None:
        # the framing jupyter_bokeh's front end expects: header, metadata, content, then (ref, bytes) per buffer
        msg = Protocol().create("PATCH-DOC", events)
        for frame in (msg.header_json, msg.metadata_json, msg.content_json):
            self.send({"msg": "patch", "payload": frame})
        for buffer in msg.buffers:
            self.send({"msg": "patch", "payload": json.dumps(buffer.ref)})
            self.send({"msg": "patch"}, [buffer.to_bytes()])


class Panel(ipywidgets.VBox):
    """A live Bokeh layout (plus optional ipywidgets ``controls`` below it) updated at most ``rate`` times a second.

    Subclasses build their figures, store incoming data thread-safely (a :class:`~mtdata.live.window.Window`,
    or a latest value), call :meth:`changed`, and implement :meth:`redraw`. Create panels on the kernel's
    thread (in a cell): the running loop found there is where every redraw happens.
    """

    def __init__(
        self,
        layout: LayoutDOM,
        *,
        title: str = "mtdata panel",
        rate: float = DEFAULT_RATE,
        controls: Sequence[ipywidgets.Widget] = (),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._closed = True  # until built: ipywidgets calls close() from __del__, even after a failed __init__
        if not isinstance(layout, LayoutDOM):
            raise checks.fail("layout", "must be a Bokeh layout or figure", layout)
        checks.text("title", title)
        self._layout = layout
        self._title = title
        self._throttle = Throttle(self._redraw_batched, rate=rate, loop=loop)
        self._closers: list[Callable[[], Any]] = []
        load_bokehjs()
        self._bokeh = _BokehWidget(layout)
        self._bokeh.observe(self._view_count_changed, names="_view_count")
        super().__init__(children=[self._bokeh, *controls])
        self._closed = False

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

    @property
    def layout_model(self) -> LayoutDOM:
        """The Bokeh layout the panel shows."""
        return self._layout

    def changed(self) -> None:
        """Tell the panel its data changed (thread-safe, cheap): a redraw follows within ``1 / rate`` seconds."""
        self._throttle.poke()

    def redraw(self) -> None:
        """Apply the latest data to the Bokeh models; runs on the kernel's thread. Subclasses implement it."""
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
            child.close()
        super().close()

    def snapshot(self, path: str | os.PathLike[str]) -> Path:
        """Write the panel as it is now to ``path`` and return it: a standalone HTML file (BokehJS inline: opens
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
            target.write_text(file_html(self._layout, INLINE, title=self._title, theme=None), encoding="utf-8")
        else:
            png.render_png(self._layout, target, browser, title=self._title)
        return target

    def _redraw_batched(self) -> None:
        with self._bokeh.batch():
            self.redraw()

    def _view_count_changed(self, change: dict[str, Any]) -> None:
        if self._closed or (change["new"] or 0) <= (change["old"] or 0):
            return
        if not self._throttle.closed:
            self._throttle.flush_now()
        self._bokeh.resend()
