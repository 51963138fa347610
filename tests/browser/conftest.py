"""Fixtures of the browser tests (see browser_harness.py): ``voila``, ``lab`` and ``notebook7`` per session,
``browser`` per module, ``page`` (Voila), ``lab_page`` (JupyterLab) and ``notebook7_page`` (Notebook 7) per
test."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from browser_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_PATH,
    SCREENSHOTS,
    TIMEOUT_MS,
    JupyterLab,
    Notebook7,
    PageLog,
    Voila,
    require_browser,
    stop,
)
from fresh_install import free_port

from benchmarks.jupyter_setup import jupyter_env

V = TypeVar("V", bound=Voila)
J = TypeVar("J", bound=JupyterLab)


def serve(base: Path, kind: type[V], command: list[str]) -> Iterator[V]:
    """Run ``command`` with the folder ``base / "notebooks"`` to serve as its last argument (Voila or JupyterLab,
    its own process group, jupyter folders in ``base``) until the session ends; yields it once its loopback URL
    is in its log."""
    root = base / "notebooks"
    root.mkdir()
    log = base / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*command, str(root)], stdout=out, stderr=subprocess.STDOUT,
                                   env=jupyter_env(base, KERNEL_PATH), start_new_session=True)  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", log.read_text(encoding="utf-8", errors="replace"))
            url = found.group(1) if found else time.sleep(0.1)
        if url is None:
            shown = log.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"{command[2]} did not start:\n{shown}", pytrace=False)
        yield kind(url=url, root=root, log=log)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    """A Voila server on 127.0.0.1, stopped at the end."""
    require_browser()
    yield from serve(tmp_path_factory.mktemp("voila"), Voila, [
        sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={free_port()}",
        "--show_tracebacks=True",
        # Voila's page asks for its kernel's shutdown on unload with an _xsrf cookie it never received (403)
        "--Voila.tornado_settings=disable_check_xsrf=True",
    ])  # fmt: skip


def serve_jupyter(factory: pytest.TempPathFactory, kind: type[J], package: str, app: str) -> Iterator[J]:
    """A server built on JupyterLab's (``python -m package``; its application class ``app``) on 127.0.0.1 with no
    token (loopback only: no secret to keep out of logs), its application object exposed to the page
    (``window.jupyterapp``), no news, update or extension queries (nothing leaves the machine)."""
    require_browser(package)
    yield from serve(factory.mktemp(package), kind, [
        sys.executable, "-m", package, "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={free_port()}",
        "--IdentityProvider.token=", "--ServerApp.password=", f"--{app}.expose_app_in_browser=True",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # (Notebook 7 runs JupyterLab's server extension too)
        "--allow-root",  # (containers run tests as root; JupyterLab refuses it otherwise)
    ])  # fmt: skip


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """A JupyterLab server (see :func:`serve_jupyter`), stopped at the end."""
    yield from serve_jupyter(tmp_path_factory, JupyterLab, "jupyterlab", "LabApp")


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook7]:
    """A Notebook 7 server (see :func:`serve_jupyter`), stopped at the end."""
    yield from serve_jupyter(tmp_path_factory, Notebook7, "notebook", "JupyterNotebookApp")


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


def new_tab(browser: Any, server: Voila, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab of ``browser``; requests off ``server`` are aborted and logged; at the end a screenshot and
    about:blank (Voila's page asks the server to shut its kernel down when it unloads)."""
    tab = browser.new_page()
    log = PageLog()
    tab.mtdata_log = log
    tab.on("console", lambda message: log.console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: log.errors.append(str(error)))

    def route(route: Any) -> None:
        if route.request.url.startswith(server.url):
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
            tab.goto("about:blank")
            tab.close()


@pytest.fixture
def page(browser: Any, voila: Voila, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab for Voila pages (see :func:`new_tab`)."""
    yield from new_tab(browser, voila, request)


def kernels_closing_tab(browser: Any, server: JupyterLab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab (see :func:`new_tab`); afterwards the kernels it started are shut down (JupyterLab and
    Notebook 7 keep them running when their page goes)."""
    try:
        yield from new_tab(browser, server, request)
    finally:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for kernel in client.get("api/kernels").json():
                client.delete(f"api/kernels/{kernel['id']}")


@pytest.fixture
def lab_page(browser: Any, lab: JupyterLab, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab for JupyterLab pages (see :func:`kernels_closing_tab`)."""
    yield from kernels_closing_tab(browser, lab, request)


@pytest.fixture
def notebook7_page(browser: Any, notebook7: Notebook7, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new tab for Notebook 7 pages (see :func:`kernels_closing_tab`)."""
    yield from kernels_closing_tab(browser, notebook7, request)


@pytest.fixture(params=["voila", "lab"])
def front(request: pytest.FixtureRequest) -> tuple[Voila, Any]:
    """A test using it runs in Voila, then in JupyterLab: the server and a tab (open with ``open_notebook``)."""
    server = request.getfixturevalue(request.param)
    return server, request.getfixturevalue("page" if request.param == "voila" else "lab_page")
