"""The blocking facade everywhere (script, running loop, other threads, a Jupyter kernel) and a clean close()."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

import mtdata
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session


def _threads() -> set[str]:
    """mtdata's own threads (the session loop, an embedded sandbox)."""
    return {thread.name for thread in threading.enumerate() if thread.name.startswith("mtdata")}


async def test_blocking_methods_work_inside_a_running_loop(session: Session) -> None:
    asyncio.get_running_loop()  # as in a Jupyter cell: a loop is running on this thread
    frame = session.candles("EURUSD", "1h", limit=3)
    assert len(frame) == 3


async def test_async_twins_await_from_any_loop(session: Session) -> None:
    frames = await asyncio.gather(session.candles_async("EURUSD", "1h", limit=3), session.ticks_async(
        "EURUSD", "2026-11-17T08:00:00Z", "2026-11-17T08:01:00Z"))  # fmt: skip
    assert len(frames[0]) == 3 and len(frames[1]) > 10
    with pytest.raises(ValidationException):
        await session.candles_async("EURUSD", "bad")


def test_blocking_methods_from_another_thread(session: Session) -> None:
    """An ipywidgets callback runs on the kernel's thread while its loop is busy: any thread will do."""
    results: list = []
    worker = threading.Thread(target=lambda: results.append(session.candles("EURUSD", "1h", limit=2)))
    worker.start()
    worker.join(30)
    assert len(results[0]) == 2


def test_the_session_loop_refuses_blocking_calls_on_itself(session: Session) -> None:
    async def inside() -> None:
        session.candles("EURUSD", "1h", limit=1)

    with pytest.raises(RuntimeError, match="_async"):
        session.run(inside())


def test_close_async_on_the_sessions_own_loop_is_refused_and_the_session_stays_usable(session: Session) -> None:
    with pytest.raises(RuntimeError, match="own loop"):
        session.run(session.close_async())
    assert not session.closed and len(session.candles("EURUSD", "1h", limit=1)) == 1


def test_close_leaves_nothing_running() -> None:
    before = _threads()
    session = mtdata.connect(sandbox={"start": "2026-11-18T09:00:00Z"}, progress=False)
    url = session.sandbox.url
    assert len(session.candles("EURUSD", "1h", limit=2)) == 2
    assert "<table>" in session._repr_html_() and "Sandbox demo" in session._repr_html_()
    session.close()
    session.close()  # idempotent
    assert session.closed and _threads() <= before
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=2)
    with pytest.raises(RuntimeError, match="closed"):
        session.candles("EURUSD", "1h", limit=2)


async def test_async_context_manager(box: SandboxHandle) -> None:
    before = _threads()
    async with await mtdata.connect_async(box.token, box.account_id, url=box.url) as session:
        assert len(await session.candles_async("EURUSD", "1d", limit=2)) == 2
    assert session.closed and _threads() <= before


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"account_id": "x"}, "token"), ({"token": "t"}, "account_id"), ({"concurrency": 0}, "concurrency"),
     ({"cache": 5}, "cache"), ({"progress": "no"}, "progress")],
)  # fmt: skip
def test_connect_checks_its_arguments(kwargs: dict, argument: str) -> None:
    before = _threads()
    with pytest.raises(ValidationException, match=argument):
        mtdata.connect(**kwargs)
    assert _threads() <= before


def test_a_region_the_account_is_not_in_is_refused_at_connect(box: SandboxHandle) -> None:
    before = _threads()
    with pytest.raises(ValidationException, match=r"^region is not a region of account .*it is in vint-hill"):
        mtdata.connect(box.token, box.account_id, url=box.url, region="singapore", progress=False)
    assert _threads() <= before  # its loop and client are closed
    with mtdata.connect(box.token, box.account_id, url=box.url, region="vint-hill", progress=False) as pinned:
        quote = pinned.price("EURUSD")  # the account's own region: it streams as without region=
        assert quote["symbol"].tolist() == ["EURUSD"] and quote["bid"].iloc[0] > 0


def test_import_is_light() -> None:
    code = "import sys, mtdata; assert not {'pandas', 'pyarrow', 'xarray'} & set(sys.modules), sys.modules.keys()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_notebook_runs_in_a_jupyter_kernel(box: SandboxHandle, tmp_path: Path) -> None:
    cells = [
        "import mtdata, asyncio, threading",
        f"session = mtdata.connect({box.token!r}, {box.account_id!r}, url={box.url!r}, progress=False)",
        "frame = session.candles(['EURUSD', 'GBPUSD'], '1h', '2026-11-16', '2026-11-17')\n"
        "assert asyncio.get_event_loop().is_running()  # the kernel's own loop runs this cell\n"
        "assert len(frame) == 48 and list(frame.symbol.cat.categories) == ['EURUSD', 'GBPUSD']",  # [start, end)
        "again = await session.candles_async('EURUSD', '1h', limit=3)\nassert len(again) == 3",
        "import ipywidgets\nclicks = []\nbutton = ipywidgets.Button()\n"
        "button.on_click(lambda _: clicks.append(len(session.candles('EURUSD', '1h', limit=4))))\n"
        "button.click()  # the callback runs on the kernel's thread, as a browser click would\nassert clicks == [4]",
        "session",
        "session.close()\nassert not [t for t in threading.enumerate() if t.name == 'mtdata-session']",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = notebook.cells[5].outputs[0]["data"]
    assert "text/html" in shown and "Sandbox demo" in shown["text/html"]
