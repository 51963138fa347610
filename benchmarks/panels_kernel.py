"""The kernel side of the panels benchmark (``bench_panels``): what the measured Jupyter kernel runs.

A notebook of two cells drives it, the same with no browser (a bare kernel) and in Voila::

    bench = KernelBench(folder)   # connect, subscribe, report the pid; block until the driver writes "go"
    bench.show()                  # the dashboard (or 5 panels), displayed

The folder is shared with the driver process: ``config.json`` (sandbox url, token, account, layout) in,
``kernel.json`` (pid, session thread) out; a daemon thread answers each ``ask`` file with ``stats.json``:
comm messages sent and received per comm (counted in ipykernel's comm class: everything widgets send to
iopub or get from a front end), the panels' comm ids and redraws, those whose chart
source no longer mirrors their window, and the ticker's redraws (wall time, shown price time per symbol).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets

import mtdata
from mtdata.live import Panel, TickerPanel

#: The ticker's symbols (the fed prices rotate over them); the other panels follow the first.
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD")
MAIN = SYMBOLS[0]
#: The market-data streams of each layout's panels, subscribed before the baseline: both feeds carry the same data.
STREAMS: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {
    "dashboard": [(symbol, [{"type": "quotes"}]) for symbol in SYMBOLS]
    + [(MAIN, [{"type": "candles", "timeframe": "1m"}])],
}
STREAMS["market"] = STREAMS["dashboard"] + [(MAIN, [{"type": "ticks"}, {"type": "marketDepth"}])]
#: Positions opened before the baseline, so the positions and account panels have floating profits to follow.
POSITIONS = (("buy", "EURUSD"), ("sell", "GBPUSD"), ("buy", "USDJPY"))
POLL = 0.1


class CommCounts:
    """Comm messages the kernel publishes (and the Bokeh document patches among them: the first of each patch's
    frames) and receives, by comm id: ipykernel's comm class, patched once."""

    def __init__(self) -> None:
        from ipykernel.comm.comm import BaseComm

        self.sent: dict[str, int] = {}
        self.patches: dict[str, int] = {}
        self.received: dict[str, int] = {}
        publish, handle = BaseComm.publish_msg, BaseComm.handle_msg

        def publish_counted(comm: Any, *args: Any, **kwargs: Any) -> None:
            self.sent[comm.comm_id] = self.sent.get(comm.comm_id, 0) + 1
            content = (kwargs.get("data") or {}).get("content") or {}
            if isinstance(content, dict) and '"PATCH-DOC"' in str(content.get("payload", "")):
                self.patches[comm.comm_id] = self.patches.get(comm.comm_id, 0) + 1
            publish(comm, *args, **kwargs)

        def handle_counted(comm: Any, msg: Any) -> None:
            self.received[comm.comm_id] = self.received.get(comm.comm_id, 0) + 1
            handle(comm, msg)

        BaseComm.publish_msg = publish_counted  # type: ignore[method-assign]
        BaseComm.handle_msg = handle_counted  # type: ignore[method-assign]

    def copy(self) -> dict[str, dict[str, int]]:
        """The counts now (``sent``, ``patches``, ``received``)."""
        return {name: _copy(getattr(self, name)) for name in ("sent", "patches", "received")}


def _copy(counts: dict[str, int]) -> dict[str, int]:
    """A copy of a dict another thread may grow meanwhile."""
    while True:
        try:
            return dict(counts)
        except RuntimeError:  # a new comm counted while copying
            continue


def _mirrored(panel: Panel) -> bool:
    """True unless the panel has a window whose Bokeh source (what a newly connecting view would draw) no longer
    holds the window's rows."""
    window = getattr(panel, "window", None)
    if window is None:
        return True
    return window.data() == {name: list(values) for name, values in window.source.data.items()}


def _widget_ids(widget: ipywidgets.Widget) -> list[str]:
    """The model ids of a widget and of every widget below it (``children``)."""
    ids = [widget.model_id]
    for child in getattr(widget, "children", ()):
        ids += _widget_ids(child)
    return ids


class KernelBench:
    """One session on the driver's sandbox, its market data subscribed, the panels made on :meth:`show`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        config = json.loads((self.folder / "config.json").read_text())
        self.comms = CommCounts()
        self.session = mtdata.connect(config["token"], config["accountId"], url=config["url"], progress=False)
        self.layout = config["layout"]
        connection = self.session.connection()
        for symbol, subscriptions in STREAMS[self.layout]:
            self.session.run(connection.subscribe_to_market_data(symbol, subscriptions, wait_for_quote=False))
        for side, symbol in POSITIONS:
            getattr(self.session, side)(symbol, 0.01)
        self.panels: dict[str, Panel] = {}
        self.shown: list[tuple[float, dict[str, float]]] = []
        session_thread = next(t for t in threading.enumerate() if t.name == "mtdata-session")
        info = {"pid": os.getpid(), "sessionThread": session_thread.native_id}
        (self.folder / "kernel.json").write_text(json.dumps(info))
        threading.Thread(target=self._answer, name="bench-stats", daemon=True).start()
        self._loop: asyncio.AbstractEventLoop | None = None
        while not (self.folder / "go").exists():
            time.sleep(POLL)

    def show(self) -> ipywidgets.Widget:
        """The layout's panels: ``session.dashboard(SYMBOLS)``, or ("market") ticker, candles, ticks, book and
        latency panels of ``session.panel`` in a box."""
        if self.layout == "dashboard":
            board = self.session.dashboard(list(SYMBOLS))
            self.panels, widget = board.panels, board
        else:
            factory = self.session.panel
            makers: dict[str, Callable[[], Panel]] = {
                "ticker": lambda: factory.ticker(list(SYMBOLS)),
                "candles": lambda: factory.candles(MAIN, "1m"),
                "ticks": lambda: factory.ticks(MAIN),
                "book": lambda: factory.book(MAIN),
                "latency": lambda: factory.latency(),
            }
            self.panels = {name: make() for name, make in makers.items()}
            widget = ipywidgets.VBox(list(self.panels.values()))
        self._loop = asyncio.get_running_loop()  # the kernel's, where the panels redraw
        ticker = next(panel for panel in self.panels.values() if isinstance(panel, TickerPanel))
        self._record(ticker)
        return widget

    def _record(self, ticker: TickerPanel) -> None:
        """Note each ticker redraw: wall-clock ms and the time of the price it shows per symbol (epoch ms)."""
        redraw = ticker.redraw

        def recorded() -> None:
            redraw()
            shown = {symbol: v["time"].timestamp() * 1000 for symbol, v in ticker.values().items() if v.get("time")}
            self.shown.append((time.time() * 1000, shown))

        ticker.redraw = recorded  # type: ignore[method-assign]

    def stats(self) -> dict[str, Any]:
        """What the driver reads: comm messages per comm, the panels' comm ids and redraws, the ticker's redraws."""
        return {
            "comms": self.comms.copy(),
            "layout": self.layout,
            "panels": {name: _widget_ids(panel) for name, panel in self.panels.items()},
            "redraws": {name: panel.redraws for name, panel in self.panels.items()},
            "mismatched": self._mismatched(),
            "shown": list(self.shown),
        }

    def _mismatched(self) -> list[str]:
        """The panels whose chart source left their window, checked on the kernel's thread (between redraws)."""
        if self._loop is None:
            return []

        async def check() -> list[str]:
            return [name for name, panel in self.panels.items() if not _mirrored(panel)]

        return asyncio.run_coroutine_threadsafe(check(), self._loop).result(timeout=60)

    def _answer(self) -> None:
        ask, out = self.folder / "ask", self.folder / "stats.json"
        while True:
            time.sleep(POLL)
            if ask.exists():
                staged = out.with_suffix(".tmp")
                staged.write_text(json.dumps(self.stats()))
                staged.replace(out)
                ask.unlink()
