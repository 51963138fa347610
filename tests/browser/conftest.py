"""The browser harness: one Voila server and one headless Debian chromium (Playwright) per test session.

``voila`` serves a folder on a loopback port; a test writes a notebook into it with
``voila.notebook(name, cells)`` and opens the returned URL in ``page``. Kernels import ``mtdata`` and the
test helpers in ``tests/live`` (on their PYTHONPATH). The browser may only reach the loopback server:
any other request is aborted and listed in ``page.outside_requests`` (nothing may need a CDN).
Screenshots land in ``tests/browser/screenshots/`` (git-ignored). Without ``/usr/bin/chromium`` the tests
skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

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
TIMEOUT_MS = 60_000


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
        notebook = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
                for i, source in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / f"{name}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        return f"{self.url}voila/render/{name}.ipynb"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


@pytest.fixture(scope="session")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    """A Voila server on 127.0.0.1 (its own process group, jupyter dirs in a temp folder), stopped at the end."""
    require_browser()
    base = tmp_path_factory.mktemp("voila")
    root = base / "notebooks"
    root.mkdir()
    log = base / "voila.log"
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_DATA_DIR=str(base / "data"),
        IPYTHONDIR=str(base / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(KERNEL_PATH), env.get("PYTHONPATH", "")) if p),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    command = [
        sys.executable, "-m", "voila", str(root), "--no-browser", "--Voila.ip=127.0.0.1",
        f"--port={free_port()}", "--show_tracebacks=True",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text(encoding="utf-8", errors="replace"))
            url = found.group(1) if found else time.sleep(0.1)
        if url is None:
            pytest.fail(f"Voila did not start:\n{log.read_text(encoding='utf-8', errors='replace')}", pytrace=False)
        yield Voila(url=url, root=root, log=log)
    finally:
        stop(process)


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


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian chromium through Playwright, with a temporary profile; loopback traffic only."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 800},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@dataclass
class PageLog:
    """What a page did besides rendering: console lines, page errors, requests refused."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, voila: Voila, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab; requests off loopback are aborted and logged; a screenshot is saved when the test ends."""
    tab = browser.new_page()
    log = PageLog()
    tab.mtdata_log = log
    tab.on("console", lambda message: log.console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: log.errors.append(str(error)))

    def route(route: Any) -> None:
        if route.request.url.startswith(voila.url):
            route.continue_()
        else:
            log.outside_requests.append(route.request.url)
            route.abort()

    tab.route("**/*", route)
    try:
        yield tab
    finally:
        SCREENSHOTS.mkdir(exist_ok=True)
        try:
            tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-end.png"), full_page=True)
        finally:
            tab.close()
