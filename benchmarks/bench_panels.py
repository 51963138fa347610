"""Live panels: 2,000 price updates/s for 30 s into a dashboard of 5 panels, with no browser and with one attached.

What runs where (all on loopback):

* the sandbox, in its own process (:mod:`benchmarks.panels_feed`): its market holds still, and a
  benchmark-only ``feed`` event sends ``RATE`` price updates per second to the account's synchronized
  stream, one ``prices`` packet every 10 ms (prices of 5 symbols in turn, plus the ticks, forming candle and
  book the stream subscribed for EURUSD), the way the cloud batches them;
* the measured kernel, a real Jupyter kernel (:mod:`benchmarks.panels_kernel`): a session connected to that
  sandbox, its streaming connection subscribed to every stream the panels use, 3 positions open on fed
  symbols; then ``session.dashboard(symbols)`` (ticker of the 5 symbols, account, EURUSD 1m candles,
  positions, latency) or, with ``--market``, 5 market panels of ``session.panel`` (ticker, EURUSD 1m
  candles, ticks and book, latency). The updates reach the panels as a user's do: socket, packet
  orderer, terminal state, the session's LiveFeed, each panel's throttle, redraw on the kernel's thread;
* no browser: the kernel started by ``jupyter_client`` with nothing rendering its widgets, as in a notebook
  whose tab is closed (HTML widgets' state updates still go out on iopub; Bokeh panels, told of no view, send
  no patch: they redraw and mark their document stale); with a browser: Voila serves the same
  notebook to headless ``/usr/bin/chromium`` driven by Playwright (skipped when either is missing).

Method. Each run feeds twice: first before the panels exist (the baseline: the same packets, decoded and
applied to the terminal state by the client), then with the panels shown. Kernel CPU is the kernel
process's user + system time from ``/proc/<pid>/stat`` over each feed plus 0.5 s; the CPU spent on panels
is the difference of the two, as a share of one core (so it includes the LiveFeed's dispatch, the panels'
sinks on the session's thread, the redraws and comm serialization on the kernel's thread, and iopub).
Comm messages are counted in the kernel (ipykernel's comm class), sent and received, per panel (its widgets'
comms): a redraw of the ticker (an ipywidgets HTML) is 1 of them (a state update), a Bokeh panel's redraw is one
document patch, 3 of them (header, metadata, content frames), plus 1 per HTML text it changed (figures,
totals); hence the default rates, 10 redraws/s for the ticker, 2.5 for the candles and 2 for the account,
positions and latency panels (``mtdata.live.DEFAULT_RATE``, ``CHART_RATE``, ``MIXED_RATE``): at most 10
messages/s each.
"Last price shown within": for each symbol, each time the displayed ticker row changes (no browser: each
ticker redraw in the kernel; browser: the page's DOM, polled every 5 ms), the wait is the display time
minus the send time of the previously displayed price: a bound on how long any price sent in between
waited to be shown or overtaken on screen (over by at most one 10 ms packet period); the last price of
each symbol must be shown too. Worst wait over the run, target <= 200 ms. With a browser, where the page's main
thread went over the feed is reported too (DevTools' task, script, layout and style durations; tasks over 50 ms,
which hold back every update arriving meanwhile).

Run: ``python -m benchmarks.bench_panels`` (``--seconds N`` or ``MTDATA_BENCH_PANELS_SECONDS`` for a
shorter feed; ``--no-browser`` for the first part only; ``--market`` for the market panels; ``--trace FILE`` to
save Chromium's performance trace of the panels' feed). Targets: panels
< 15% of one core, <= 10 comm messages per panel per second, last price shown within 200 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import socketio

from benchmarks import panels_browser
from benchmarks.common import SandboxInfo, child_sandbox, report
from benchmarks.jupyter_setup import jupyter_env
from benchmarks.panels_kernel import SYMBOLS
from benchmarks.proc_cpu import cpu_seconds
from mtdata.socketio_compat import disable_client_sigint_handler

RATE = 2000
SECONDS = 30.0
TAIL = 0.5  # measured after each feed: the last redraws
TARGET_CPU = 5.0  # issue 16: the dashboard with nobody watching must cost little
TARGET_MESSAGES = 10.0
TARGET_WAIT_MS = 200.0
ROOT = Path(__file__).resolve().parent.parent
CELLS = ["from benchmarks.panels_kernel import KernelBench\nbench = KernelBench({folder!r})\n", "bench.show()\n"]


@contextmanager
def feed_sandbox() -> Iterator[SandboxInfo]:
    """The sandbox of :mod:`benchmarks.panels_feed` in a child process."""
    with child_sandbox(["-m", "benchmarks.panels_feed"], "feed.json", ",".join(SYMBOLS)) as info:
        yield info


def kernel_env(base: Path) -> dict[str, str]:
    """The environment of a kernel (or Voila) that imports ``benchmarks``: jupyter dirs under ``base``."""
    return jupyter_env(base, ROOT)


async def wait_file(path: Path, timeout: float = 300, alive: Any = None) -> Path:
    """Wait for ``path`` to exist (``alive()`` may raise to stop early)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} did not appear within {timeout} s")
        if alive is not None:
            alive()
        await asyncio.sleep(0.1)
    return path


async def kernel_stats(folder: Path) -> dict[str, Any]:
    """Ask the kernel's stats thread for its counters (see :mod:`benchmarks.panels_kernel`)."""
    (folder / "stats.json").unlink(missing_ok=True)
    (folder / "ask").touch()
    return json.loads((await wait_file(folder / "stats.json", 60)).read_text())


@dataclass
class Phase:
    """One feed into the kernel: the window measured, CPU seconds (process, kernel thread, session thread), what
    was fed, the kernel's counters before and after, and CPU seconds of the other processes measured."""

    seconds: float
    cpu: float
    main: float
    session: float
    fed: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    others: dict[str, float]


class Driver:
    """Feeds the sandbox's prices into one kernel and measures it."""

    def __init__(
        self, box: SandboxInfo, control: socketio.AsyncClient, folder: Path, seconds: float, layout: str
    ) -> None:
        self.box, self.control, self.folder, self.seconds = box, control, folder, seconds
        config = {"url": box.url, "token": box.token, "accountId": box.account_id, "layout": layout}
        (folder / "config.json").write_text(json.dumps(config))
        self.pid = self.session_thread = 0
        #: CPU-second counters of other processes measured over each feed too (the browser, Voila's server).
        self.others: dict[str, Callable[[], float]] = {}

    async def started(self, alive: Any) -> None:
        """Wait until the kernel connected and subscribed (it then waits for ``go``)."""
        info = json.loads((await wait_file(self.folder / "kernel.json", 300, alive)).read_text())
        self.pid, self.session_thread = int(info["pid"]), int(info["sessionThread"])

    def go(self) -> None:
        """Let the kernel make the panels."""
        (self.folder / "go").touch()

    async def phase(self) -> Phase:
        """Feed ``RATE`` prices/s for ``seconds``; the kernel's CPU and counters over the feed plus ``TAIL``."""
        before = await kernel_stats(self.folder)
        others = {name: read() for name, read in self.others.items()}
        began, cpu = time.perf_counter(), self._cpu()
        order = {"accountId": self.box.account_id, "symbols": list(SYMBOLS), "rate": RATE, "seconds": self.seconds}
        fed = await self.control.call("feed", order, timeout=self.seconds + 300)
        await asyncio.sleep(TAIL)
        cpu = [after - before for after, before in zip(self._cpu(), cpu, strict=True)]
        seconds = time.perf_counter() - began
        others = {name: read() - others[name] for name, read in self.others.items()}
        return Phase(seconds, *cpu, fed, before, await kernel_stats(self.folder), others)

    def _cpu(self) -> tuple[float, float, float]:
        """CPU seconds of the kernel process, its main thread and its session's loop thread."""
        return cpu_seconds(self.pid), cpu_seconds(self.pid, self.pid), cpu_seconds(self.pid, self.session_thread)


@asynccontextmanager
async def control_client(box: SandboxInfo) -> AsyncIterator[socketio.AsyncClient]:
    """A bare socket.io client of the sandbox that sends the ``feed`` orders."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"{box.url}?auth-token={box.token}&protocol=3", socketio_path="ws")
    try:
        yield client
    finally:
        await client.disconnect()


async def bare_kernel(driver: Driver, base: Path) -> tuple[Phase, Phase]:
    """Both feeds into a kernel started by jupyter_client, no front end rendering its widgets."""
    from jupyter_client.manager import start_new_kernel

    manager, client = await asyncio.to_thread(
        start_new_kernel, kernel_name="python3", startup_timeout=300, env=kernel_env(base), cwd=str(ROOT)
    )
    try:
        ids = [client.execute(cell.format(folder=str(driver.folder))) for cell in CELLS]

        def alive() -> None:
            if not manager.is_alive():
                raise RuntimeError("the kernel died")

        await driver.started(alive)
        baseline = await driver.phase()
        driver.go()
        await asyncio.to_thread(replies, client, ids)
        return baseline, await driver.phase()
    finally:
        client.stop_channels()
        await asyncio.to_thread(manager.shutdown_kernel, now=True)


def replies(client: Any, ids: list[str]) -> None:
    """Wait for the execute replies of ``ids``; raise with the kernel's traceback when a cell failed."""
    pending = set(ids)
    while pending:
        reply = client.get_shell_msg(timeout=300)
        if reply["parent_header"].get("msg_id") not in pending:
            continue
        pending.discard(reply["parent_header"]["msg_id"])
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"a kernel cell failed: {content.get('ename')}: {content.get('evalue')}\n"
                               + "\n".join(content.get("traceback", [])))  # fmt: skip


def market_ms(text: str, near_ms: float) -> float:
    """Epoch ms of a displayed ``HH:MM:SS.mmm`` (UTC), on the day that puts it nearest ``near_ms``."""
    clock = datetime.strptime(text, "%H:%M:%S.%f")
    of_day = ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1000 + clock.microsecond / 1000
    day = near_ms - near_ms % 86_400_000
    return min((day + shift + of_day for shift in (-86_400_000, 0, 86_400_000)), key=lambda ms: abs(ms - near_ms))


def waits(shown: dict[str, list[tuple[float, float]]], fed: dict[str, Any]) -> tuple[list[float], list[float], int]:
    """Per display change: the wait bound (display time minus the send time of the price shown before) and the
    age of the price shown; also how many symbols never showed their last price. Times in epoch ms. A change
    away from a price sent before this feed (the quote a ticker opens with) bounds no wait of the feed's."""
    offset, first = fed["offsetMs"], fed["firstMs"]
    bounds, ages, missing = [], [], 0
    for symbol, last in fed["last"].items():
        seen = sorted(shown.get(symbol, []))
        changes = [seen[0]] if seen else []
        for at, price in seen[1:]:
            if price != changes[-1][1]:
                changes.append((at, price))
        for (_, before), (at, price) in pairwise(changes):
            if first is None or before < first:
                continue
            bounds.append(at - (before - offset))
            ages.append(at - (price - offset))
        missing += not changes or changes[-1][1] != last
    return bounds, ages, missing


def kernel_shown(stats: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """The ticker's redraws recorded in the kernel, as (wall ms, shown price ms) per symbol."""
    shown: dict[str, list[tuple[float, float]]] = {}
    for at, prices in stats["shown"]:
        for symbol, price in prices.items():
            shown.setdefault(symbol, []).append((at, price))
    return shown


def summary(mode: str, baseline: Phase, panels: Phase, shown: dict[str, list[tuple[float, float]]]) -> None:
    """Print one run's figures with their targets."""
    fed = panels.fed
    seconds = panels.seconds
    before, after = panels.before, panels.after
    print(f"panels, {mode}: {after['layout']} layout, panels: {', '.join(after['panels'])}", flush=True)
    report(f"panels, {mode}: price updates delivered", fed["prices"] / fed["seconds"], "prices/s", 0.95 * RATE)
    if fed["skipped"] or baseline.fed["skipped"]:
        report(f"panels, {mode}:   skipped (client backlog)", fed["skipped"] + baseline.fed["skipped"], "prices")
    report(f"panels, {mode}: kernel CPU, feed without panels", 100 * baseline.cpu / baseline.seconds, "% of a core")
    report(f"panels, {mode}: kernel CPU, feed with panels", 100 * panels.cpu / seconds, "% of a core")
    share = 100 * (panels.cpu / seconds - baseline.cpu / baseline.seconds)
    report(f"panels, {mode}: kernel CPU spent on panels", share, "% of a core", TARGET_CPU, higher_is_better=False)
    for name, thread in (("the kernel's thread", "main"), ("the session's thread", "session")):
        used = 100 * (getattr(panels, thread) / seconds - getattr(baseline, thread) / baseline.seconds)
        report(f"panels, {mode}:   of which {name}", used, "% of a core")
    for name, used in panels.others.items():
        report(f"panels, {mode}: CPU of {name}, feed with panels", 100 * used / seconds, "% of a core")
    counts = {kind: {cid: n - before["comms"][kind].get(cid, 0) for cid, n in after["comms"][kind].items()}
              for kind in ("sent", "patches", "received")}  # fmt: skip
    per_panel = {kind: {name: sum(counts[kind].get(i, 0) for i in ids) / seconds for name, ids in
                        after["panels"].items()} for kind in counts}  # fmt: skip
    report(f"panels, {mode}: comm messages sent", sum(counts["sent"].values()) / seconds, "messages/s")
    sent = per_panel["sent"]
    busiest = max(sent, key=sent.__getitem__)
    report(f"panels, {mode}: comm messages of the busiest panel ({busiest})", sent[busiest], "messages/s",
           TARGET_MESSAGES, higher_is_better=False)  # fmt: skip
    report(f"panels, {mode}: document updates of the busiest panel", max(per_panel["patches"].values()), "patches/s")
    report(f"panels, {mode}: comm messages received", sum(counts["received"].values()) / seconds, "messages/s")
    for kind, unit in (("sent", "messages"), ("patches", "patches"), ("received", "messages received")):
        print(f"    {unit}/s: " + ", ".join(f"{name} {rate:.1f}" for name, rate in per_panel[kind].items()), flush=True)
    redraws = {name: (n - before["redraws"].get(name, 0)) / seconds for name, n in after["redraws"].items()}
    print("    redraws/s: " + ", ".join(f"{name} {rate:.1f}" for name, rate in redraws.items()), flush=True)
    mismatched = after["mismatched"]
    report(f"panels, {mode}: charts whose kernel-side source left their window", len(mismatched), "", 0, False)
    if mismatched:
        print(f"    {', '.join(mismatched)} (what a newly connecting view would draw)", flush=True)
    bounds, ages, missing = waits(shown, fed)
    if len(bounds) >= 2:
        report(f"panels, {mode}: age of the price shown, median", statistics.median(ages), "ms")
        report(f"panels, {mode}: last price shown within (p99)", statistics.quantiles(bounds, n=100)[98], "ms")
    report(f"panels, {mode}: last price shown within (worst)", max(bounds, default=float("inf")), "ms",
           TARGET_WAIT_MS, higher_is_better=False)  # fmt: skip
    report(f"panels, {mode}: symbols whose last price was never shown", missing, "", 0, higher_is_better=False)


def delivery(kernel: dict[str, list[tuple[float, float]]], page: dict[str, list[tuple[float, float]]],
             fed: dict[str, Any]) -> None:  # fmt: skip
    """Split the browser's wait in two: the kernel's own bound (from its redraws, as with no browser) and the delay
    from a redraw in the kernel to the page showing that price (iopub, Voila's server, websocket, the page)."""
    bounds, _, _ = waits(kernel, fed)
    if bounds:
        report("panels, browser:   the kernel's redraws within (worst)", max(bounds), "ms")
    delays = []
    for symbol, rows in page.items():
        first: dict[float, float] = {}
        for at, price in kernel.get(symbol, []):
            first.setdefault(price, at)
        # the first row is the document the page opened with, drawn before the page was there (its load time)
        delays += [at - first[price] for at, price in rows[1:] if price in first]
    if len(delays) >= 2:
        cuts = statistics.quantiles(delays, n=100)
        report("panels, browser:   kernel redraw to page, median", cuts[49], "ms")
        report("panels, browser:   kernel redraw to page, p99", cuts[98], "ms")
        report("panels, browser:   kernel redraw to page, worst", max(delays), "ms")


def page_summary(busy: dict[str, Any], seconds: float) -> None:
    """Where the page's main thread went over the feed: tasks, scripts, layout, style (DevTools), long tasks."""
    for name in panels_browser.MAIN_THREAD:
        report(f"panels, browser: page main thread, {name}", 100 * busy[name] / seconds, "% of a core")
    long = busy["longTasks"]
    report("panels, browser: page tasks over 50 ms", len(long) / seconds, "per s")
    if long:
        report("panels, browser: page tasks over 50 ms, longest", max(long), "ms")


async def run(seconds: float, browser: bool, layout: str, trace: Path | None = None) -> None:
    """Both runs (the browser one when chromium, Playwright and Voila are there), figures printed."""
    disable_client_sigint_handler()
    with feed_sandbox() as box, tempfile.TemporaryDirectory(prefix="mtdata-bench-panels-") as temp:
        base = Path(temp)
        async with control_client(box) as control:
            folder = base / "bare"
            folder.mkdir()
            baseline, panels = await bare_kernel(Driver(box, control, folder, seconds, layout), base)
            summary("no browser", baseline, panels, kernel_shown(panels.after))
            if not browser:
                return
            missing = panels_browser.missing()
            if missing:
                print(f"panels, browser: skipped, needs {missing}", flush=True)
                return
            folder = base / "voila"
            folder.mkdir()
            driver = Driver(box, control, folder, seconds, layout)
            baseline, panels, shown, busy = await panels_browser.run(driver, base, kernel_env(base), CELLS, trace)
            page = {s: [(at, market_ms(t, at + panels.fed["offsetMs"])) for at, t in rows] for s, rows in shown.items()}
            summary("browser", baseline, panels, page)
            page_summary(busy, panels.seconds)
            delivery(kernel_shown(panels.after), page, panels.fed)


def main() -> None:
    """Run the benchmark: ``--seconds N`` (default 30, or MTDATA_BENCH_PANELS_SECONDS), ``--no-browser``,
    ``--market`` (five market panels instead of the dashboard), ``--trace FILE`` (Chromium's trace, JSON)."""
    seconds = float(os.environ.get("MTDATA_BENCH_PANELS_SECONDS", SECONDS))
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
    layout = "market" if "--market" in sys.argv else "dashboard"
    trace = Path(sys.argv[sys.argv.index("--trace") + 1]) if "--trace" in sys.argv else None
    asyncio.run(run(seconds, browser="--no-browser" not in sys.argv, layout=layout, trace=trace))


if __name__ == "__main__":
    main()
