"""How a Bokeh panel's document reaches the page: :func:`load_bokehjs` (BokehJS inline, once per kernel),
:class:`BokehWidget` (the ``jupyter_bokeh`` widget that carries it) and :func:`page_ranges` (ranges the kernel
leaves to the page).

Kept apart from the panels' base (``view.py``) because it is one job of its own: the wire between the kernel's
Bokeh models and BokehJS in the browser. One redraw's changes travel as one document patch (three comm
messages), sent only while the front end reports a view; a view that connects gets the whole document again if
it changed since last sent whole; of what the browser sends back, only what it owns (a user's selection) is
applied. :class:`~mtdata.live.view.Panel` is this module's only user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from bokeh.document.events import DocumentPatchedEvent
from bokeh.io.notebook import load_notebook
from bokeh.models import LayoutDOM
from bokeh.protocol import Protocol
from bokeh.resources import INLINE
from jupyter_bokeh import BokehModel

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


def page_ranges(chart: Any) -> Any:
    """``chart`` with its ranges kept by the page: what the browser computes from the data, pans and zooms is not
    sent back to the kernel, which never reads it (each redraw had the page send its range changes back, and the
    kernel decode and apply them: 2-4 messages a redraw)."""
    chart.x_range.syncable = chart.y_range.syncable = False
    return chart


class BokehWidget(BokehModel):
    """``BokehModel`` that sends one redraw's changes as one PATCH-DOC, re-sends its document, closes twice.

    jupyter_bokeh 4.1 sends one PATCH-DOC (three comm frames or more) per Bokeh event, keeps the document of
    its creation in ``render_bundle`` (what a new view draws), and its ``close()`` raises KeyError when run
    again (ipywidgets runs it again from ``__del__``). Patches go out only while the front end reports a view:
    its receiver reads frames strictly in turn (header, metadata, content), so a view made while a patch's frames
    were arriving would read every later frame in the wrong role and freeze; until a view exists, the changes
    only mark the document stale, and the first view gets it whole.
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
        if not self._view_count:  # no view to apply it (see the class docstring): the document is stale instead
            return
        # the framing jupyter_bokeh's front end expects: header, metadata, content, then (ref, bytes) per buffer
        msg = Protocol().create("PATCH-DOC", events)
        for frame in (msg.header_json, msg.metadata_json, msg.content_json):
            self.send({"msg": "patch", "payload": frame})
        for buffer in msg.buffers:
            self.send({"msg": "patch", "payload": json.dumps(buffer.ref)})
            self.send({"msg": "patch"}, [buffer.to_bytes()])


__all__ = ["BROWSER_OWNED", "BokehWidget", "load_bokehjs", "page_ranges"]
