"""Throttle: pokes from any thread coalesce into at most ``rate`` flushes per second on the loop's thread."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from mtdata.errors import ValidationException
from mtdata.live import Throttle


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
