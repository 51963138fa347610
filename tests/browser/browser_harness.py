"""The browser harness: one Voila, one JupyterLab and one Notebook 7 server per test session (each started on
first use), headless Debian chromium driven by Playwright.

``voila`` serves a folder on a loopback port; a test writes a notebook into it with
``voila.notebook(name, cells)`` and opens the returned URL in ``page``. ``lab`` is JupyterLab the same way
(``lab_page``; :data:`RUN_ALL` runs the open notebook as the Run All menu does), ``notebook7`` Notebook 7's
one-document interface (``notebook7_page``; run the same way: it is built of JupyterLab's parts). Kernels
import ``mtdata`` and the test helpers in ``tests/live`` (on their PYTHONPATH). The browser may only reach
the loopback server: any other request is aborted and listed in ``page.mtdata_log.outside_requests`` (nothing
may need a CDN). Screenshots land in ``tests/browser/screenshots/`` (git-ignored). Without
``/usr/bin/chromium`` the tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from benchmarks.jupyter_setup import write_notebook

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
KERNEL_PATH = HERE.parent / "live"  # demo_panel.py
TIMEOUT_MS = 150_000  # a Voila kernel starts slowly on a loaded 2-core machine


def require_browser(server: str = "voila") -> None:
    """Skip (fail under CI=true) when chromium, Playwright or the ``server`` package (voila, jupyterlab,
    notebook) is missing. Looked up as installed distributions, not imported: ``tests/notebook`` is a package
    named ``notebook`` on the tests' path, and Notebook 7's package has the same name."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    for package in ("playwright", server):
        try:
            metadata.distribution(package)
        except metadata.PackageNotFoundError:
            missing.append(f"the {package} package (pip install -e '.[dev]')")
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " (CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Voila:
    """A running Voila server serving ``root``."""

    url: str
    root: Path
    log: Path
    #: Where a notebook of the served folder opens (its path follows).
    opens = "voila/render/"

    def notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code ``cells`` as ``name``.ipynb and return the URL that opens it."""
        write_notebook(self.root / f"{name}.ipynb", cells)
        return f"{self.url}{self.opens}{name}.ipynb"

    def copy(self, notebook: Path) -> str:
        """Copy ``notebook`` (e.g. a tutorial) into the served folder and return the URL that opens it."""
        shutil.copyfile(notebook, self.root / notebook.name)
        return f"{self.url}{self.opens}{notebook.name}"

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log (for failure messages)."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


@dataclass
class JupyterLab(Voila):
    """A running JupyterLab serving ``root`` (its application object exposed to the page as ``jupyterapp``)."""

    opens = "lab/tree/"


@dataclass
class Notebook7(JupyterLab):
    """A running Notebook 7 serving ``root``: a notebook opens alone in its page (``/notebooks/<path>``), its
    application object exposed as ``jupyterapp`` as JupyterLab's."""

    opens = "notebooks/"


#: The notebook ``path`` open in JupyterLab (its NotebookPanel), or null.
_PANEL = """(path => [...(window.jupyterapp?.shell?.widgets("main") ?? [])].find(w => w.context?.path === path))"""
#: Run notebook ``path`` as "Run > Run All Cells" does, once its kernel is ready; resolves when all ran.
RUN_ALL = f"""async path => {{
  const app = window.jupyterapp
  const panel = {_PANEL}(path)
  await panel.context.ready
  await panel.sessionContext.ready
  app.shell.activateById(panel.id)
  await app.commands.execute("notebook:clear-all-cell-outputs")  // execution counts too: "done" below is exact
  await app.commands.execute("notebook:run-all-cells")
}}"""
#: Null while JupyterLab still runs the cells of notebook ``path``; then the errors of its outputs (empty if none).
RUN_ALL_DONE = f"""path => {{
  const panel = {_PANEL}(path)
  const kernel = panel?.sessionContext?.session?.kernel
  const cells = [...(panel?.content?.widgets ?? [])].filter(cell => cell.model.type === "code")
  const errors = cells.flatMap(cell => cell.model.outputs.toJSON()).filter(out => out.output_type === "error")
    .map(out => `${{out.ename}}: ${{out.evalue}}`)
  if (errors.length > 0) return errors  // Run All stops at an error: the cells after it never run
  return kernel?.status === "idle" && cells.every(cell => cell.model.executionCount != null) ? [] : null
}}"""


def open_notebook(page: Any, server: Voila, url: str) -> None:
    """Open the notebook at ``url``: Voila runs it itself; in JupyterLab (a fresh workspace: nothing an earlier
    test opened is restored) run all its cells as the menu does and wait until they ran (an error output fails
    the test)."""
    if not isinstance(server, JupyterLab):
        page.goto(url)
        return
    page.goto(f"{url}?reset")
    path = url.removeprefix(f"{server.url}{server.opens}")
    page.wait_for_function(f"path => {_PANEL}(path) != null", arg=path, polling=100)
    page.evaluate(RUN_ALL, path)
    errors = page.wait_for_function(RUN_ALL_DONE, arg=path, polling=200).json_value()
    assert errors == [], f"{errors}\n{server.log_tail()}"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and its kernels (its process group): SIGTERM, then SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class PageLog:
    """What a page did besides rendering: console lines, page errors, requests refused."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
