"""PNG pictures of Bokeh layouts and HTML pages, drawn by a headless Chromium or Chrome: no Python package needed.

Bokeh's own ``export_png`` needs selenium and a matching webdriver; a browser alone does here. The page (a
layout's standalone HTML, BokehJS inline, nothing fetched) is written to a temporary folder, the browser's own
``--headless --screenshot`` draws it in a window larger than the layout can be, and the picture is cropped
to what the layout drew (with Pillow, which Bokeh requires). Which browser: the ``MTDATA_BROWSER``
environment variable (an executable), else the first of :data:`BROWSERS` found on ``PATH`` or in
:data:`BROWSER_PATHS`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bokeh.models import LayoutDOM
from PIL import Image, ImageChops

log = logging.getLogger("mtdata.live")

BROWSER_ENV = "MTDATA_BROWSER"
#: Executable names looked up on ``PATH``, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Well-known install locations (macOS, Windows), tried after ``PATH``.
BROWSER_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)
#: The browser's flags: no sandbox (it shows a local page we wrote; containers running as root need it), shared
#: memory in /tmp (containers' /dev/shm is small), no network chatter, virtual time so that timers and animation
#: frames run before the picture is taken.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=2000",
)
#: Bounds of the browser window (pixels).
MIN_SIZE, MAX_SIZE = (800, 600), 8000
PADDING = 8
TIMEOUT = 120.0


def find_browser() -> str | None:
    """The Chromium or Chrome executable to draw with, or None when there is none."""
    named = os.environ.get(BROWSER_ENV)
    if named:
        return named
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in BROWSER_PATHS if os.path.isfile(path)), None)


def require_browser() -> str:
    """The browser to draw with; RuntimeError saying what to install when there is none."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError(
            "a PNG snapshot needs Chromium or Google Chrome (e.g. `apt-get install chromium`, or set "
            f"{BROWSER_ENV} to its executable); snapshot to an .html file needs no browser"
        )
    if not (os.path.isfile(browser) and os.access(browser, os.X_OK)):
        raise RuntimeError(f"{BROWSER_ENV} names {browser!r}, which is not an executable file")
    return browser


def page_size(layout: LayoutDOM) -> tuple[int, int]:
    """A browser window (width, height) that likely holds the whole layout: its parts' sizes summed, generously."""
    width = height = 0
    for model in layout.select({"type": LayoutDOM}):
        if getattr(model, "children", None):
            continue  # a row, column or grid: its parts count
        width += (model.width or 600) + 60  # + toolbar and margins
        height += (model.height or 300) + 40
    return min(max(width, MIN_SIZE[0]), MAX_SIZE), min(max(height, MIN_SIZE[1]), MAX_SIZE)


def stretches(layout: LayoutDOM) -> tuple[bool, bool]:
    """Whether some part of the layout stretches to the window's width, and to its height (Bokeh's sizing modes)."""
    modes = {model.sizing_mode for model in layout.select({"type": LayoutDOM})}
    return bool(modes & {"stretch_width", "stretch_both", "scale_width", "scale_both"}), bool(
        modes & {"stretch_height", "stretch_both", "scale_height", "scale_both"}
    )


def render_page(
    page: str,
    target: Path,
    browser: str,
    *,
    size: tuple[int, int] = MIN_SIZE,
    stretch: tuple[bool, bool] = (False, False),
    timeout: float = TIMEOUT,
) -> Path:
    """Draw the standalone HTML ``page`` with ``browser`` in a ``size`` window and write the picture, cropped to what
    the page shows, to ``target``.

    A page reaching the window's edge is drawn again in a window twice as large in that direction (up to
    :data:`MAX_SIZE`), unless it stretches to the window's size in that direction (``stretch``: width, height).
    """
    (width, height), (stretch_x, stretch_y) = size, stretch
    with tempfile.TemporaryDirectory(prefix="mtdata-png-", ignore_cleanup_errors=True) as folder:
        html = Path(folder) / "page.html"
        html.write_text(page, encoding="utf-8")
        shot = Path(folder) / "shot.png"
        while True:
            _screenshot(browser, html, shot, Path(folder) / "profile", (width, height), timeout)
            with Image.open(shot) as image:
                image.load()
            box = _content_box(image)
            if box is None:
                raise RuntimeError(f"{browser} drew a blank page")
            wide = not stretch_x and box[2] >= width - 1 and width < MAX_SIZE
            tall = not stretch_y and box[3] >= height - 1 and height < MAX_SIZE
            if not (wide or tall):  # all of the page is in the picture
                break
            width, height = min(2 * width, MAX_SIZE) if wide else width, min(2 * height, MAX_SIZE) if tall else height
        left, top, right, bottom = box
        image.crop((max(left - PADDING, 0), max(top - PADDING, 0), right + PADDING, bottom + PADDING)).save(target)
    return target


def _content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of what differs from the page's background (the bottom-right pixel's color)."""
    rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    return ImageChops.difference(rgb, background).getbbox()


def _screenshot(browser: str, html: Path, shot: Path, profile: Path, size: tuple[int, int], timeout: float) -> None:
    command = [
        browser,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={shot}",
        html.as_uri(),
    ]
    posix = sys.platform != "win32"
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=posix
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, posix)
        raise RuntimeError(f"{browser} took more than {timeout:g} s to draw the snapshot") from None
    if process.returncode != 0 or not shot.exists():
        tail = output.decode(errors="replace").strip().splitlines()[-3:]
        log.debug("browser output: %s", output.decode(errors="replace"))
        raise RuntimeError(f"{browser} failed to draw the snapshot (exit code {process.returncode}): {' '.join(tail)}")


def _kill(process: subprocess.Popen[bytes], posix: bool) -> None:
    """Kill the browser and its helper processes (its process group on POSIX)."""
    if posix:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.wait()
