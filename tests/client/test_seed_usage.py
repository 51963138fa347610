"""The seed's usage document runs against the sandbox: every step as written, in the document's order.

The steps come from ``data/seed_manifest.json`` (``tools/seed_manifest.py``, whose ``seed_usage`` module
states how the lost indentation and brackets were rebuilt). Only placeholders are replaced: the SDK import
gives mtdata's ``MetaApi`` pointed at the sandbox, the token and account id are the sandbox's, and
``asyncio.run`` (which cannot run inside the test's loop) awaits the endless coroutine for a few seconds and
then cancels it. The document defines ``maintain_connection`` without running it: it runs across a sandbox
restart, then is cancelled; ``cleanup`` runs last.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import json
import typing
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from test_streaming_helpers import eventually

from mtdata.client import MetaApi
from mtdata.sandbox import SandboxHandle

MANIFEST = json.loads((Path(__file__).parent / "data" / "seed_manifest.json").read_text(encoding="utf-8"))
STEPS = MANIFEST["usage"]["steps"]
#: (the document's text, what runs instead, how often the document has it)
REPLACEMENTS = [
    ("from metaapi_cloud_sdk import MetaApi", "MetaApi = sandbox_meta_api  # mtdata's MetaApi on the sandbox", 1),
    ("'your-token'", "sandbox_token", 1),
    ("'your-account-id'", "sandbox_account_id", 1),
    ("asyncio .run (", "await run_for_a_while (", 1),
]
#: What the callbacks of the document print when data arrives.
STREAMED = ("收到K线数据", "收到Tick数据", "收到订单簿数据", "K线数据:", "Tick数据:", "订单簿数据:")


def test_every_placeholder_is_in_the_document() -> None:
    document = "".join(step["code"] for step in STEPS)
    for text, _, count in REPLACEMENTS:
        assert document.count(text) == count, text
    assert [step["title"] for step in STEPS][:3] == ["imports", "创建MetaAPI实例", "获取账户"]
    assert len(STEPS) == 29


async def run_until(condition: Callable[[], bool], limit: float, coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run ``coroutine`` until ``condition()`` holds (at most ``limit`` seconds), then cancel it."""
    task = asyncio.ensure_future(coroutine)
    try:
        await eventually(lambda: condition() or task.done(), limit, "the streamed data")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run_step(code: str, namespace: dict[str, Any], title: str) -> None:
    """Run one step of the document with top-level ``await``, as a notebook cell would."""
    for text, replacement, _ in REPLACEMENTS:
        code = code.replace(text, replacement)
    compiled = compile(code, f"<usage step {title}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)
    if asyncio.iscoroutine(result):
        await result


@pytest.mark.usefixtures("quick_reconnects")
async def test_the_usage_document_runs_as_written(sandbox: SandboxHandle) -> None:
    out = io.StringIO()
    namespace: dict[str, Any] = {
        "sandbox_meta_api": partial(MetaApi.sandbox, sandbox.url),
        "sandbox_token": sandbox.token,
        "sandbox_account_id": sandbox.account_id,
        "run_for_a_while": partial(run_until, lambda: all(text in out.getvalue() for text in STREAMED), 20),
        "Optional": typing.Optional,  # the document's option classes use it without importing it
    }
    try:
        with contextlib.redirect_stdout(out):
            for step in STEPS:
                await run_step(step["code"], namespace, step["title"])
                if "maintain_connection" in namespace and "maintained" not in namespace:
                    namespace["maintained"] = await maintain_across_restart(namespace, sandbox, out)
            await namespace["cleanup"]()
    finally:
        if "api" in namespace:
            await namespace["api"].close()
    printed = out.getvalue()
    assert all(text in printed for text in STREAMED), printed[-2000:]
    assert "错误" not in printed, printed[-2000:]  # neither handle_streaming_data nor the loops reported an error
    assert namespace["candles"] == [] or namespace["candles"][-1]["time"].year <= 2023
    assert isinstance(namespace["ticks"], list) and namespace["symbols"] and namespace["specification"]["symbol"]
    assert namespace["price"]["symbol"] == "EURUSD" and namespace["server_time"]["time"]
    assert namespace["is_connected"] is True and namespace["is_synchronized"] is True
    assert namespace["health_status"]["connected"] and namespace["account_information"]["balance"] > 0
    connection = namespace["connection"]
    assert not connection.opened and connection.connection.subscribed_symbols() == []  # cleanup() did its part


async def maintain_across_restart(namespace: dict[str, Any], sandbox: SandboxHandle, out: io.StringIO) -> bool:
    """Run the document's ``maintain_connection`` while the sandbox restarts; cancel it once resynchronized."""
    connection = namespace["connection"]
    task = asyncio.ensure_future(namespace["maintain_connection"]())
    try:
        connected_before = out.getvalue().count("连接已建立")
        await asyncio.to_thread(sandbox.restart)
        await eventually(lambda: out.getvalue().count("连接已建立") > connected_before, 30, "the stream to return")
        await eventually(lambda: bool(connection.is_synchronized()), 30, "the resynchronization")
        await asyncio.sleep(1.2)  # a turn of maintain_connection's loop on the resynchronized connection
        assert not task.done(), "maintain_connection ended by itself"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "连接已断开" in out.getvalue()
    return True
