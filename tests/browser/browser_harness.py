"""The browser harness: one Voila server per test session, headless Debian chromium driven by Playwright.

``voila`` serves a folder on a loopback port; a test writes a notebook into it with
``voila.notebook(name, cells)`` and opens the returned URL in ``page``. Kernels import ``mtdata`` and the
test helpers in ``tests/live`` (on their PYTHONPATH). The browser may only reach the loopback server:
any other request is aborted and listed in ``page.mtdata_log.outside_requests`` (nothing may need a CDN).
Screenshots land in ``tests/browser/screenshots/`` (git-ignored). Without ``/usr/bin/chromium`` the tests
skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

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


def require_browser() -> None:
    """Skip (fail under CI=true) when chromium, Playwright or Voila is missing."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    for module in ("playwright", "voila"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the {module} package (pip install -e '.[dev]')")
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " (CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Voila:
    """A running Voila server serving ``root``."""

    url: str
    root: Path
    log: Path

    def notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code ``cells`` as ``name``.ipynb and return the URL that runs and shows it."""
        write_notebook(self.root / f"{name}.ipynb", cells)
        return f"{self.url}voila/render/{name}.ipynb"

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log (for failure messages)."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Voila and its kernels (its process group): SIGTERM, then SIGKILL after 10 s."""
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
