"""The browser part of the panels benchmark: Voila serves the kernel's notebook to headless chromium (Playwright).

The page loads while the kernel's first cell waits for the baseline feed to end; once the panels are drawn,
a probe in the page polls the ticker's rows every 5 ms and records each change of a symbol's displayed
time (``Date.now()``, the text): what the user saw, and when.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.jupyter_setup import write_notebook
from benchmarks.proc_cpu import cpu_seconds, tree_cpu

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
TIMEOUT_MS = 300_000
SETTLE = 2.0  # seconds between the panels drawn and the feed

# the ticker is on the page (an ipywidgets HTML: its table is in the page's DOM, replaced at each redraw) and the
# candles panel holds its history
READY = """() => {
  const bars = (window.Bokeh?.index?.roots ?? []).map(v => v.model.document?.get_model_by_name("candles"))
    .filter(s => s != null).map(s => s.get_column("time").length)
  return document.querySelector(".mtdata-ticker") != null && bars.some(n => n > 1)
}"""
PROBE = """() => {
  const shown = window.mtdataShown = {}
  const last = {}
  let ticker = null
  setInterval(() => {
    if (ticker == null || !ticker.isConnected) ticker = document.querySelector(".mtdata-ticker")
    const now = Date.now()
    for (const row of ticker?.querySelectorAll("tr[data-symbol]") ?? []) {
      const symbol = row.dataset.symbol, text = row.querySelector("td.mtdata-time")?.textContent
      if (text && text !== last[symbol]) { last[symbol] = text; (shown[symbol] ??= []).push([now, text]) }
    }
  }, 5)
  const long = window.mtdataLongTasks = []
  new PerformanceObserver(list => { for (const task of list.getEntries()) long.push(task.duration) })
    .observe({type: "longtask"})
}"""
#: What a ``--trace`` records: the page's tasks, scripts, style, layout and paint (DevTools' Performance panel).
TRACE_CATEGORIES = ("devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "toplevel")
#: Chromium's main-thread time by kind (DevTools ``Performance.getMetrics``, seconds), read over the panels' feed.
MAIN_THREAD = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def missing() -> str:
    """What the browser part lacks here (empty when chromium, Playwright and Voila are all there)."""
    lacking = [] if CHROMIUM.exists() else [f"{CHROMIUM} (apt-get install chromium)"]
    for module in ("playwright", "voila"):
        try:
            __import__(module)
        except ImportError:
            lacking.append(f"the {module} package")
    return " and ".join(lacking)


async def main_thread(devtools: Any) -> dict[str, float]:
    """The page's :data:`MAIN_THREAD` counters now (seconds)."""
    metrics = (await devtools.send("Performance.getMetrics"))["metrics"]
    return {m["name"]: m["value"] for m in metrics if m["name"] in MAIN_THREAD}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_voila(root: Path, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Voila serving ``root`` on a loopback port, in its own process group; its URL."""
    command = [sys.executable, "-m", "voila", str(root), "--no-browser", "--Voila.ip=127.0.0.1",
               f"--port={free_port()}", "--show_tracebacks=True",
               "--Voila.tornado_settings=disable_check_xsrf=True"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return process, found.group(1)
        time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"Voila did not start:\n{log.read_text(encoding='utf-8', errors='replace')[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Voila and its kernels (the process group it leads): SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


async def run(
    driver: Any, base: Path, env: dict[str, str], cells: list[str], trace: Path | None = None
) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """Both feeds into the kernel of a Voila page open in chromium: baseline, panels, what the page showed, and
    where the page's main thread went over the panels' feed (:data:`MAIN_THREAD` seconds, long tasks' ms); with
    ``trace``, Chromium's performance trace of the panels' feed is written there (open it in DevTools)."""
    from playwright.async_api import async_playwright

    root = base / "notebooks"
    root.mkdir()
    write_notebook(root / "panels.ipynb", [cell.format(folder=str(driver.folder)) for cell in cells])
    log = base / "voila.log"
    process, url = await asyncio.to_thread(start_voila, root, log, env)

    def alive() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"Voila exited:\n{log.read_text(errors='replace')[-3000:]}")

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            driver.others = {"chromium": lambda: tree_cpu(os.getpid(), "chromium"),
                             "Voila's server": lambda: cpu_seconds(process.pid)}  # fmt: skip
            loading = asyncio.create_task(page.goto(f"{url}voila/render/panels.ipynb", wait_until="commit"))
            await driver.started(alive)
            baseline = await driver.phase()
            driver.go()
            await loading
            await page.wait_for_function(READY, polling=100)
            await asyncio.sleep(SETTLE)
            await page.evaluate(PROBE)
            devtools = await page.context.new_cdp_session(page)
            await devtools.send("Performance.enable")
            before = await main_thread(devtools)
            if trace is not None:
                await browser.start_tracing(page=page, path=str(trace), categories=list(TRACE_CATEGORIES))
            panels = await driver.phase()
            if trace is not None:
                await browser.stop_tracing()
            after = await main_thread(devtools)
            shown = await page.evaluate("() => window.mtdataShown")
            busy = {name: after[name] - before[name] for name in MAIN_THREAD}
            busy["longTasks"] = await page.evaluate("() => window.mtdataLongTasks")
            await page.goto("about:blank")  # Voila shuts the page's kernel down
            await browser.close()
            return baseline, panels, shown, busy
    finally:
        await asyncio.to_thread(stop, process)
