"""Fixtures of the browser tests (see browser_harness.py): ``voila`` per session, ``browser`` per module, ``page``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_PATH,
    SCREENSHOTS,
    TIMEOUT_MS,
    PageLog,
    Voila,
    free_port,
    require_browser,
    stop,
)

from benchmarks.jupyter_setup import jupyter_env


@pytest.fixture(scope="session")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    """A Voila server on 127.0.0.1 (its own process group, jupyter dirs in a temp folder), stopped at the end."""
    require_browser()
    base = tmp_path_factory.mktemp("voila")
    root = base / "notebooks"
    root.mkdir()
    log = base / "voila.log"
    env = jupyter_env(base, KERNEL_PATH)
    command = [
        sys.executable, "-m", "voila", str(root), "--no-browser", "--Voila.ip=127.0.0.1",
        f"--port={free_port()}", "--show_tracebacks=True",
        # Voila's page asks for its kernel's shutdown on unload with an _xsrf cookie it never received (403)
        "--Voila.tornado_settings=disable_check_xsrf=True",
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


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian chromium through Playwright, with a temporary profile, one per test module.

    Not per session: sync Playwright keeps its event loop marked running on the main thread while it is open,
    and every asyncio test after it would then fail with "cannot be called from a running event loop".
    """
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


@pytest.fixture
def page(browser: Any, voila: Voila, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab; requests off loopback are aborted and logged; at the end a screenshot, and the kernel is shut down."""
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
            tab.goto("about:blank")  # Voila's page asks the server to shut its kernel down when it unloads
            tab.close()
