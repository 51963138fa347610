"""Throttle: pokes from any thread coalesce into at most ``rate`` flushes per second on the loop's thread."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable

import pytest

from mtdata.errors import ValidationException
from mtdata.live import CHART_RATE, DEFAULT_RATE, Throttle
from mtdata.live.throttle import CHART_PHASE, FRAME


class Recorder:
    """A flush callback that records the value it saw, its thread and the loop time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.value = 0
        self.seen: list[int] = []
        self.times: list[float] = []
        self.threads: set[int] = set()
        self.changed = asyncio.Event()

    def flush(self) -> None:
        self.seen.append(self.value)
        self.times.append(self.loop.time())
        self.threads.add(threading.get_ident())
        self.changed.set()

    async def until(self, value: int) -> None:
        while not self.seen or self.seen[-1] != value:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


def produce(throttle: Throttle, recorder: Recorder, count: int, pause: float = 0.0) -> threading.Thread:
    """Update the value and poke ``count`` times from a new thread (started)."""
    done = threading.Event()

    def run() -> None:
        for i in range(1, count + 1):
            recorder.value = i
            throttle.poke()
            if pause:
                done.wait(pause)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


async def test_a_burst_from_a_thread_becomes_few_flushes_on_the_loop_thread_ending_with_the_latest_value():
    recorder = Recorder(asyncio.get_running_loop())
    throttle = Throttle(recorder.flush, rate=20)
    producer = produce(throttle, recorder, 3000, pause=0.0002)
    await asyncio.to_thread(producer.join)
    await recorder.until(3000)
    assert recorder.threads == {threading.get_ident()}
    assert 1 <= len(recorder.seen) < 3000
    gaps = [b - a for a, b in zip(recorder.times, recorder.times[1:], strict=False)]
    assert all(gap >= 1 / 20 - 0.005 for gap in gaps), gaps
    assert throttle.flushes == len(recorder.seen)


async def test_nothing_is_flushed_while_nothing_changes():
    recorder = Recorder(asyncio.get_running_loop())
    throttle = Throttle(recorder.flush, rate=50)
    recorder.value = 1
    throttle.poke()
    await recorder.until(1)
    await asyncio.sleep(0.3)
    assert recorder.seen == [1]
    recorder.value = 2
    throttle.poke()
    await recorder.until(2)
    assert recorder.seen == [1, 2]


async def test_a_change_soon_after_a_flush_waits_for_the_interval():
    loop = asyncio.get_running_loop()
    recorder = Recorder(loop)
    throttle = Throttle(recorder.flush, rate=0.5)  # a 2 s interval; the first flush is immediate
    recorder.value = 1
    throttle.poke()
    await recorder.until(1)
    recorder.value = 2
    throttle.poke()
    await asyncio.sleep(0.3)
    assert recorder.seen == [1]  # the second waits for the interval to pass


async def test_close_cancels_the_pending_flush_and_ignores_later_pokes():
    recorder = Recorder(asyncio.get_running_loop())
    throttle = Throttle(recorder.flush, rate=1)
    recorder.value = 1
    throttle.poke()
    await recorder.until(1)
    throttle.poke()  # due in about a second
    await asyncio.sleep(0)
    throttle.close()
    throttle.close()
    throttle.poke()
    await asyncio.sleep(1.5)
    assert recorder.seen == [1]
    assert throttle.closed


async def test_flush_now_runs_a_pending_flush_at_once_and_only_once():
    recorder = Recorder(asyncio.get_running_loop())
    throttle = Throttle(recorder.flush, rate=1)
    recorder.value = 1
    throttle.poke()
    throttle.flush_now()
    assert recorder.seen == [1]
    throttle.flush_now()
    await asyncio.sleep(0.2)
    assert recorder.seen == [1]


async def test_a_failing_flush_is_logged_and_later_changes_still_flush(caplog: pytest.LogCaptureFixture):
    calls: list[int] = []
    flushed = asyncio.Event()

    def flush() -> None:
        calls.append(1)
        flushed.set()
        if len(calls) == 1:
            raise ValueError("boom")

    throttle = Throttle(flush, rate=50)
    with caplog.at_level(logging.ERROR, logger="mtdata.live"):
        throttle.poke()
        await asyncio.wait_for(flushed.wait(), 10)
    assert "live panel update failed" in caplog.text
    flushed.clear()
    throttle.poke()
    await asyncio.wait_for(flushed.wait(), 10)
    assert len(calls) == 2


def test_a_poke_after_the_loop_closed_stops_the_throttle():
    loop = asyncio.new_event_loop()
    throttle = Throttle(lambda: None, loop=loop)
    loop.close()
    throttle.poke()
    assert throttle.closed


def test_a_throttle_needs_a_running_loop_or_an_explicit_one():
    with pytest.raises(RuntimeError, match="running asyncio event loop"):
        Throttle(lambda: None)


@pytest.mark.parametrize("rate", [0, -1, 1e6, float("nan"), "10", True])
async def test_bad_rates_are_refused(rate):
    with pytest.raises(ValidationException) as caught:
        Throttle(lambda: None, rate=rate)
    assert caught.value.details[0]["parameter"] == "rate"


async def test_rate_is_reported():
    assert Throttle(lambda: None).rate == pytest.approx(10)


def on_frames(slots: list[float], phase: float) -> bool:
    """True when every slot is ``phase`` after a frame's start (loop clock)."""
    return all(abs((slot - phase) / FRAME - round((slot - phase) / FRAME)) < 1e-6 for slot in slots)


async def test_aligned_throttles_flush_on_shared_frames_in_phase_order():
    loop = asyncio.get_running_loop()
    order: list[str] = []
    slots: dict[str, list[float]] = {"ticker": [], "chart": []}
    throttles: dict[str, Throttle] = {}

    def flusher(name: str) -> Callable[[], None]:
        def flush() -> None:
            order.append(name)
            slots[name].append(throttles[name]._last)  # the frame it was due on

        return flush

    throttles["chart"] = Throttle(flusher("chart"), rate=CHART_RATE, phase=CHART_PHASE)
    throttles["ticker"] = Throttle(flusher("ticker"), rate=DEFAULT_RATE, phase=0.0)
    deadline = loop.time() + 30
    while len(slots["chart"]) < 4:
        assert loop.time() < deadline, "too few flushes"
        for throttle in throttles.values():
            throttle.poke()  # a steady stream of changes
        await asyncio.sleep(0.01)
    for throttle in throttles.values():
        throttle.close()
    assert on_frames(slots["ticker"], 0.0) and on_frames(slots["chart"], CHART_PHASE)
    gaps = [round((b - a) / FRAME) for a, b in itertools.pairwise(slots["chart"])]
    assert gaps and all(gap >= round(1 / (CHART_RATE * FRAME)) for gap in gaps)  # 2.5/s: every 4th frame or later
    assert all(round((b - a) / FRAME) >= 1 for a, b in itertools.pairwise(slots["ticker"]))  # at most one a frame
    for slot in slots["chart"]:  # in the frame of a chart's redraw, the ticker (phase 0) went first
        frame_start = slot - CHART_PHASE
        ticker_index = [i for i, s in enumerate(slots["ticker"]) if abs(s - frame_start) < 1e-6]
        if ticker_index:
            chart_position = [i for i, name in enumerate(order) if name == "chart"][slots["chart"].index(slot)]
            ticker_position = [i for i, name in enumerate(order) if name == "ticker"][ticker_index[0]]
            assert ticker_position < chart_position


async def test_fast_throttles_and_bad_phases():
    fast = Throttle(lambda: None, rate=50, phase=0.0)  # an interval under a frame: not aligned
    assert fast._phase is None
    for phase in (-0.01, 0.5):
        with pytest.raises(ValidationException) as caught:
            Throttle(lambda: None, phase=phase)
        assert caught.value.details[0]["parameter"] == "phase"
