"""Helpers shared by the benchmarks: a sandbox in its own process, timing, and one-line reports."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

#: Ten symbols of the sandbox's universe that stream in every session (FX majors, gold, bitcoin).
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURJPY", "XAUUSD", "BTCUSD")
#: A Wednesday noon to pin the simulated clock to, so FX symbols stream even when benchmarks run on a weekend.
WEEKDAY = "2026-11-25T12:00:00.000Z"


@dataclass(frozen=True)
class SandboxInfo:
    """Where a sandbox process listens and how to talk to it."""

    url: str
    token: str
    account_id: str


@contextmanager
def sandbox_process(*options: str) -> Iterator[SandboxInfo]:
    """Run ``mtdata sandbox`` in a child process (its own interpreter and core), stopped on exit."""
    with child_sandbox(["-m", "mtdata", "sandbox", "--port", "0", "--data-dir"], "sandbox.json", *options) as info:
        yield info


@contextmanager
def child_sandbox(module_args: list[str], info_file: str, *options: str) -> Iterator[SandboxInfo]:
    """Run ``python <module_args> <data dir> <options>`` in a child process; it writes ``info_file`` once it listens."""
    with tempfile.TemporaryDirectory(prefix="mtdata-bench-") as data_dir:
        command = [sys.executable, *module_args, data_dir, *options]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            info = json.loads(_wait_for(Path(data_dir) / info_file, proc))
            yield SandboxInfo(info["url"], info["token"], info["accountId"])
        finally:
            proc.terminate()
            proc.wait(30)


def serve_child_sandbox(handle: Any, data_dir: str, info_file: str) -> None:
    """In the child of :func:`child_sandbox`: tell the parent where the sandbox listens, then serve until killed."""
    info = {"url": handle.url, "token": handle.token, "accountId": handle.account_id}
    (Path(data_dir) / info_file).write_text(json.dumps(info))
    try:
        while True:
            time.sleep(3600)
    finally:
        handle.stop()


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    raise TimeoutError(f"{path} did not appear within {timeout} s")


def epoch_seconds(iso: str) -> float:
    """Seconds since the epoch of a wire ISO time (``2024-01-01T00:00:00.000Z``)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def report(name: str, value: float, unit: str, target: float | None = None, higher_is_better: bool = True) -> bool:
    """Print one figure, with its target and PASS/MISS when it has one; returns whether it passed."""
    line = f"{name:<46} {value:>12,.0f} {unit}" if abs(value) >= 100 else f"{name:<46} {value:>12.3f} {unit}"
    passed = True
    if target is not None:
        passed = value >= target if higher_is_better else value <= target
        sign = ">=" if higher_is_better else "<="
        line += f"   (target {sign} {target:,g} {unit}: {'PASS' if passed else 'MISS'})"
    print(line, flush=True)
    return passed
