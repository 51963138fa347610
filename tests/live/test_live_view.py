"""Panel: coalesced redraws as one document patch each, re-send on view connect, close(), HTML snapshots, and the
PNG snapshot's error without a browser (pictures drawn by a browser: tests/browser/test_snapshot_png.py)."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from pathlib import Path

import pytest
from bokeh.models import Div
from demo_panel import FakeFeed, PricePanel
from live_frontend import Frontend, rendered_source

from mtdata.errors import ValidationException
from mtdata.live import Panel, png


async def shows(panel: PricePanel, ticks: int) -> None:
    """Wait until the panel has redrawn after its ``ticks``-th price."""
    for _ in range(1000):
        if panel.label.text.endswith(f"after {ticks} ticks"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the panel still shows {panel.label.text!r}")


async def drawn(panel: PricePanel) -> None:
    """Wait until the panel has redrawn with prices fed, however many (for a feed still running, whose next price
    may come before the loop redraws: the count shown is then never one named in advance)."""
    for _ in range(1000):
        if panel.label.text.startswith("last "):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the panel still shows {panel.label.text!r}")


async def feed_from_thread(panel: PricePanel, count: int) -> None:
    """Feed ``count`` prices (1, 1.00001, …) from another thread; wait until the panel shows the last one."""
    thread = threading.Thread(target=lambda: [panel.feed(1 + i / 1e5) for i in range(count)])
    thread.start()
    await asyncio.to_thread(thread.join)
    await shows(panel, count)


async def test_prices_from_a_thread_become_few_redraws_each_one_document_patch(frontend: Frontend):
    panel = PricePanel(rate=20)
    bokeh_id = panel.children[0].model_id
    frontend.show(panel.children[0], views=1)
    redraw_threads: set[int] = set()
    redraw = panel.redraw

    def recording_redraw() -> None:
        redraw_threads.add(threading.get_ident())
        redraw()

    panel.redraw = recording_redraw
    await feed_from_thread(panel, 2000)
    assert redraw_threads == {threading.get_ident()}
    assert 1 <= panel.redraws < 2000
    assert frontend.document_patches(bokeh_id) == panel.redraws
    assert panel.window.data()["bar"][-1] == 199
    panel.close()


async def test_a_connecting_view_gets_the_current_window_not_the_initial_one(frontend: Frontend):
    panel = PricePanel()
    widget = panel.children[0]
    await feed_from_thread(panel, 55)
    assert rendered_source(widget, "prices") == {"bar": [], "price": []}  # what a late browser would draw
    frontend.show(widget, views=1)
    assert rendered_source(widget, "prices") == panel.window.data()
    assert len(panel.window.data()["bar"]) == 6

    panel.feed(2.0)  # ticks 56: the forming bar 5 moves
    await shows(panel, 56)
    frontend.show(widget, views=2)  # the same panel displayed a second time
    assert rendered_source(widget, "prices")["price"][-1] == 2.0
    panel.close()


async def test_echoes_of_our_patches_from_the_browser_change_nothing_but_its_selections_apply(frontend: Frontend):
    panel = PricePanel()
    widget = panel.children[0]
    await feed_from_thread(panel, 25)
    source, shown = panel.window.source, panel.label.text
    before = {name: list(column) for name, column in source.data.items()}
    streamed = {"bar": [1, 2], "price": [1.0, 1.1]}  # jupyter_bokeh's front end sends back what it applied
    frontend.jsevent(
        widget, {"kind": "ColumnsStreamed", "model": {"id": source.id}, "data": streamed, "rollover": None}
    )
    frontend.jsevent(widget, {"kind": "ColumnsPatched", "model": {"id": source.id}, "patches": {"price": [[0, 9.9]]}})
    frontend.jsevent(widget, {"kind": "ModelChanged", "model": {"id": panel.label.id}, "attr": "text", "new": "old"})
    assert {name: list(column) for name, column in source.data.items()} == before == panel.window.data()
    assert panel.label.text == shown
    frontend.jsevent(
        widget, {"kind": "ModelChanged", "model": {"id": source.selected.id}, "attr": "indices", "new": [1]}
    )
    assert source.selected.indices == [1]  # a selection made in the browser is the browser's
    panel.close()


async def test_pending_data_is_drawn_before_a_view_gets_the_document(frontend: Frontend):
    panel = PricePanel(rate=0.2)  # the next redraw is 5 s away
    widget = panel.children[0]
    panel.feed(1.5)
    await shows(panel, 1)
    panel.feed(1.6)
    frontend.show(widget, views=1)
    assert rendered_source(widget, "prices")["price"] == [1.6]
    panel.close()


async def test_the_document_is_resent_only_to_a_new_view_and_only_when_it_changed(frontend: Frontend):
    panel = PricePanel()
    widget = panel.children[0]
    frontend.show(widget, views=1)
    assert frontend.bundles(widget.model_id) == 0  # nothing changed since the widget opened
    panel.feed(1.0)
    await shows(panel, 1)
    frontend.show(widget, views=0)
    assert frontend.bundles(widget.model_id) == 0
    frontend.show(widget, views=1)
    assert frontend.bundles(widget.model_id) == 1
    frontend.show(widget, views=2)
    assert frontend.bundles(widget.model_id) == 1  # still the same document
    panel.close()


async def test_patches_go_out_only_while_a_view_shows_the_panel(frontend: Frontend):
    panel = PricePanel(rate=50)
    widget = panel.children[0]
    panel.feed(1.0)
    await shows(panel, 1)
    assert frontend.document_patches(widget.model_id) == 0  # no view: nothing a view could read half of
    frontend.show(widget, views=1)
    assert frontend.bundles(widget.model_id) == 1 and rendered_source(widget, "prices")["price"] == [1.0]
    panel.feed(1.1)
    await shows(panel, 2)
    assert frontend.document_patches(widget.model_id) == 1
    frontend.show(widget, views=0)  # the tab closed
    panel.feed(1.2)
    await shows(panel, 3)
    assert frontend.document_patches(widget.model_id) == 1
    frontend.show(widget, views=1)  # reopened: the whole document again, then patches
    assert frontend.bundles(widget.model_id) == 2 and rendered_source(widget, "prices")["price"] == [1.2]
    panel.close()


async def test_close_stops_updates_runs_callbacks_once_closes_comms_and_leaves_nothing_referenced(frontend: Frontend):
    panel = PricePanel(rate=50)
    ids = [panel.model_id, panel.children[0].model_id]
    calls: list[str] = []
    panel.on_close(lambda: calls.append("first"))
    panel.on_close(lambda: calls.append("second"))
    feed = FakeFeed(panel, rate=500).start()
    await drawn(panel)
    panel.close()
    panel.close()
    redraws = panel.redraws
    sent = [len(frontend.sent(i)) for i in ids]
    await asyncio.sleep(0.3)  # the feed keeps pushing prices into the closed panel
    feed.stop()
    assert panel.closed
    assert calls == ["second", "first"]
    assert panel.redraws == redraws
    assert [len(frontend.sent(i)) for i in ids] == sent
    assert all(frontend.sent(i)[-1][0] == "comm_close" for i in ids)

    ref = weakref.ref(panel)
    del panel, feed
    gc.collect()
    assert ref() is None


async def test_its_repr_is_one_line_naming_the_panel_and_whether_it_is_live(frontend: Frontend):
    panel = PricePanel(rate=50)
    assert repr(panel) == "<PricePanel 'demo prices' live>"  # not ipywidgets' tree of children and their styles
    panel.close()
    assert repr(panel) == "<PricePanel 'demo prices' closed>"


async def test_a_failing_close_callback_is_logged_and_the_others_still_run(
    frontend: Frontend, caplog: pytest.LogCaptureFixture
):
    panel = PricePanel()
    calls: list[str] = []
    panel.on_close(lambda: calls.append("first"))
    panel.on_close(lambda: 1 / 0)
    panel.close()
    assert calls == ["first"]
    assert "closing a live panel" in caplog.text


async def test_a_snapshot_is_a_standalone_html_file_with_the_latest_data(frontend: Frontend, tmp_path: Path):
    panel = PricePanel(rate=0.2)
    widget_id = panel.children[0].model_id
    frontend.show(panel.children[0], views=1)
    panel.feed(1.25)
    panel.feed(1.23456)
    before = len(frontend.sent(widget_id))
    path = panel.snapshot(tmp_path / "prices.html")
    html = path.read_text(encoding="utf-8")
    assert "last 1.23456 after 2 ticks" in html
    assert "cdn.bokeh.org" not in html and "<script src=" not in html
    assert len(html) > 500_000  # BokehJS itself is inside
    assert frontend.document_patches(widget_id) == 1  # the pending redraw, nothing for the snapshot itself
    assert len(frontend.sent(widget_id)) == before + 3
    panel.close()
    assert panel.snapshot(tmp_path / "closed.htm").exists()


async def test_bad_arguments_are_refused(frontend: Frontend, tmp_path: Path):
    with pytest.raises(ValidationException) as caught:
        Panel("not a layout")  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "layout"
    with pytest.raises(ValidationException):
        Panel(Div(), rate=0)
    panel = PricePanel()
    with pytest.raises(ValidationException) as caught:
        panel.snapshot(tmp_path / "prices.jpg")
    assert caught.value.details[0]["parameter"] == "path"
    with pytest.raises(ValidationException):
        panel.on_close("nope")  # type: ignore[arg-type]
    panel.close()


async def test_a_png_snapshot_without_a_browser_says_what_is_missing_and_writes_nothing(
    frontend: Frontend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    panel = PricePanel()
    monkeypatch.delenv(png.BROWSER_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(png, "BROWSER_PATHS", ())
    with pytest.raises(RuntimeError, match="needs Chromium or Google Chrome"):
        panel.snapshot(tmp_path / "prices.png")
    not_a_browser = tmp_path / "chrome.txt"
    not_a_browser.write_text("", encoding="utf-8")
    monkeypatch.setenv(png.BROWSER_ENV, str(not_a_browser))
    with pytest.raises(RuntimeError, match="not an executable"):
        panel.snapshot(tmp_path / "prices.PNG")
    assert not list(tmp_path.glob("prices*"))
    panel.close()


async def test_the_base_panel_has_no_redraw_of_its_own(frontend: Frontend):
    panel = Panel(Div(text="x"))
    assert panel.rate == 2.5  # CHART_RATE: a Bokeh panel's redraw is 3 comm messages, 7.5 a second
    assert panel.layout_model.text == "x"
    with pytest.raises(NotImplementedError):
        panel.redraw()
    panel.close()
