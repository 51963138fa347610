"""A stand-in front end for widget tests: records what widgets send and sends what a browser would."""

from __future__ import annotations

import json
from typing import Any

from bokeh.document import Document
from bokeh.models import ColumnDataSource
from comm.base_comm import BaseComm
from ipywidgets import Widget


class RecordingComm(BaseComm):
    """A comm that keeps every message instead of sending it to a kernel's iopub."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[tuple[str, dict[str, Any] | None]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any):
        self.sent.append((msg_type, data))


class Frontend:
    """The messages of the comms opened while it is installed, by comm id (the comms themselves are not kept)."""

    def __init__(self) -> None:
        self.logs: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}

    def create_comm(self, *args: Any, **kwargs: Any) -> RecordingComm:
        opened = RecordingComm(*args, **kwargs)
        self.logs[opened.comm_id] = opened.sent
        return opened

    def sent(self, model_id: str) -> list[tuple[str, dict[str, Any] | None]]:
        """Every message sent on a widget's comm (``widget.model_id``; still readable after the widget closed)."""
        return self.logs[model_id]

    def document_patches(self, model_id: str) -> int:
        """How many Bokeh document patches a BokehModel sent (each is a header frame, then more frames)."""
        count = 0
        for kind, data in self.sent(model_id):
            content = (data or {}).get("content") or {}
            if kind == "comm_msg" and content.get("msg") == "patch" and isinstance(content.get("payload"), str):
                payload = json.loads(content["payload"])
                count += isinstance(payload, dict) and payload.get("msgtype") == "PATCH-DOC"
        return count

    def bundles(self, model_id: str) -> int:
        """How many times a BokehModel sent its whole document (``render_bundle``) after opening."""
        return sum(
            kind == "comm_msg" and "render_bundle" in (data or {}).get("state", {})
            for kind, data in self.sent(model_id)
        )

    def show(self, widget: Widget, views: int) -> None:
        """Report ``views`` displayed views of the widget, as ipywidgets' front end does when one is displayed."""
        data = {"method": "update", "state": {"_view_count": views}, "buffer_paths": []}
        widget.comm.handle_msg({"content": {"comm_id": widget.model_id, "data": data}, "buffers": []})

    def jsevent(self, widget: Widget, event: dict[str, Any]) -> None:
        """Send a document event from the browser, as jupyter_bokeh's front end does (also echoing our patches)."""
        data = {"method": "custom", "content": {"event": "jsevent", **event}}
        widget.comm.handle_msg({"content": {"comm_id": widget.model_id, "data": data}, "buffers": []})


def rendered_source(bokeh_widget: Widget, name: str) -> dict[str, list[Any]]:
    """The columns of the data source ``name`` as a newly connecting view would render them (from render_bundle)."""
    bundle = bokeh_widget.render_bundle
    (doc_json,) = bundle["docs_json"].values()
    doc = Document.from_json(doc_json)
    source = doc.select_one({"name": name})
    assert isinstance(source, ColumnDataSource)
    return {k: list(v) for k, v in source.data.items()}
