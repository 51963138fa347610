"""Helpers shared by the latency, reservoir and health tests: a clock the test moves by hand."""

from __future__ import annotations


class FakeClock:
    """A clock in seconds that only moves when told (pass it as ``clock=``)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds
