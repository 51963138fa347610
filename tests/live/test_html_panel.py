"""HtmlPanel: coalesced redraws, each one widget state update (one comm message), the current HTML in the widget's
state for a newly connecting view, close(), HTML snapshots."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from live_frontend import Frontend

from mtdata.errors import ValidationException
from mtdata.live import DEFAULT_RATE, HtmlPanel


class CounterPanel(HtmlPanel):
    """Shows the latest of the numbers fed to it from any thread."""

    def __init__(self, rate: float = DEFAULT_RATE) -> None:
        self.latest = 0
        super().__init__("<b>nothing yet</b>", style="<style>.counter{color:red}</style>", title="counter", rate=rate)

    def feed(self, number: int) -> None:
        self.latest = number  # one reference swap: atomic
        self.changed()

    def redraw(self) -> None:
        self.show(f"<b class='counter'>{self.latest}</b>")


async def until_shown(panel: CounterPanel, number: int) -> None:
    for _ in range(1000):
        if panel.html == f"<b class='counter'>{number}</b>":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the panel still shows {panel.html!r}")


def updates(frontend: Frontend, model_id: str) -> int:
    """State updates sent on a widget's comm after it opened."""
    return sum(kind == "comm_msg" and (data or {}).get("method") == "update" for kind, data in frontend.sent(model_id))


async def test_numbers_from_a_thread_become_few_redraws_each_one_comm_message(frontend: Frontend):
    panel = CounterPanel(rate=20)
    assert panel.rate == 20 and panel.html == "<b>nothing yet</b>"
    style, view = panel.children[0].children  # the style sheet in a widget of its own, sent once
    assert style.value == "<style>.counter{color:red}</style>"
    producer = threading.Thread(target=lambda: [panel.feed(n) for n in range(1, 2001)])
    producer.start()
    await asyncio.to_thread(producer.join)
    await until_shown(panel, 2000)
    assert 1 <= panel.redraws < 2000
    assert updates(frontend, view.model_id) == panel.redraws
    assert all(kind == "comm_msg" for kind, _ in frontend.sent(view.model_id)[1:])  # nothing but the updates
    assert view.get_state()["value"] == panel.html  # what a newly connecting view gets
    panel.close()
    assert panel.closed and view.comm is None


async def test_close_stops_redraws_and_runs_the_callbacks_once(frontend: Frontend):
    panel = CounterPanel()
    closed: list[str] = []
    panel.on_close(lambda: closed.append("feed"))
    panel.close()
    panel.close()
    panel.feed(5)
    await asyncio.sleep(0.3)
    assert closed == ["feed"] and panel.redraws == 0


async def test_an_html_snapshot_is_a_standalone_page_of_what_is_shown(frontend: Frontend, tmp_path: Path):
    panel = CounterPanel()
    panel.feed(42)
    page = panel.snapshot(tmp_path / "counter.html").read_text(encoding="utf-8")  # the pending redraw runs first
    assert "<b class='counter'>42</b>" in page and "<title>counter</title><style>.counter" in page
    assert page.startswith("<!DOCTYPE html>")
    with pytest.raises(ValidationException) as caught:
        panel.snapshot(tmp_path / "counter.txt")
    assert caught.value.details[0]["parameter"] == "path"
    panel.close()


async def test_bad_arguments_are_refused(frontend: Frontend):
    with pytest.raises(ValidationException) as caught:
        HtmlPanel(42)  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "html"
    with pytest.raises(ValidationException) as caught:
        HtmlPanel(style=None)  # type: ignore[arg-type]
    assert caught.value.details[0]["parameter"] == "style"
    with pytest.raises(ValidationException) as caught:
        HtmlPanel(rate=0)
    assert caught.value.details[0]["parameter"] == "rate"
    panel = HtmlPanel("x")
    assert panel.children[0].value == "x"  # no style: the HTML widget alone
    with pytest.raises(NotImplementedError):
        panel.redraw()
    panel.close()
