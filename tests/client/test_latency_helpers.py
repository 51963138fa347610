"""Helpers shared by the latency, reservoir and health tests: a clock the test moves by hand, a poller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class FakeClock:
    """A clock in seconds that only moves when told (pass it as ``clock=``)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


async def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check()`` until it returns something truthy (and return it); fail after a generous ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.02)
    return result
