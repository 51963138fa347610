"""Reservoirs (protocol §8): bucketed running statistics and percentiles of a random sample, checked against numpy."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_latency_helpers import FakeClock

from mtdata.client.monitoring.reservoir import Reservoir, StatisticalReservoir, WindowedMetric
from mtdata.errors import ValidationException

values = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=300)


@settings(max_examples=60, deadline=None)
@given(data=values, offsets=st.lists(st.floats(min_value=0, max_value=58.9), min_size=300, max_size=300))
def test_statistics_match_numpy(data: list[float], offsets: list[float]) -> None:
    clock = FakeClock(0.0)
    reservoir = Reservoir(60, 60_000, clock=clock)
    for value, at in zip(data, sorted(offsets[: len(data)]), strict=True):
        clock.now = at
        reservoir.push_measurement(value)
    stats = reservoir.get_statistics()
    array = np.array(data)
    assert stats["count"] == len(data)
    assert stats["min"] == array.min() and stats["max"] == array.max()
    scale = max(1.0, float(np.abs(array).max()))
    assert stats["sum"] == pytest.approx(array.sum(), abs=1e-9 * scale * len(data))
    assert stats["average"] == pytest.approx(array.mean(), abs=1e-9 * scale)
    assert stats["sumOfSquares"] == pytest.approx(float((array**2).sum()), rel=1e-9, abs=1e-9)
    assert stats["msdev"] == pytest.approx(array.std(ddof=0), rel=1e-6, abs=1e-6 * scale)
    assert stats["stddev"] == pytest.approx(array.std(ddof=1), rel=1e-6, abs=1e-6 * scale)


def test_empty_and_single_measurement() -> None:
    reservoir = Reservoir(10, clock=FakeClock())
    assert reservoir.get_statistics() == {"count": 0, "sum": 0.0, "max": None, "min": None, "average": None,
                                          "sumOfSquares": 0.0, "msdev": None, "stddev": None}  # fmt: skip
    reservoir.push_measurement(7)
    stats = reservoir.get_statistics()
    assert (stats["count"], stats["average"], stats["msdev"], stats["stddev"]) == (1, 7, 0, None)


def test_buckets_expire_with_the_storage_period() -> None:
    clock = FakeClock(0.0)
    reservoir = Reservoir(60, 60_000, clock=clock)  # 1 s buckets
    reservoir.push_measurement(1)
    clock.now = 30.5
    reservoir.push_measurement(2)
    clock.now = 59.99
    assert reservoir.get_statistics()["count"] == 2
    clock.now = 60.0  # bucket 0 is now 60 buckets old
    stats = reservoir.get_statistics()
    assert (stats["count"], stats["min"], stats["max"]) == (1, 2, 2)
    clock.now = 90.5
    assert reservoir.get_statistics()["count"] == 0
    reservoir.push_measurement(5)  # a push after a long pause starts afresh
    assert reservoir.get_statistics()["sum"] == 5


def test_a_long_stream_keeps_only_the_window() -> None:
    clock = FakeClock(0.0)
    reservoir = Reservoir(10, 10_000, clock=clock)
    for step in range(1000):  # one measurement every 0.1 s for 100 s
        clock.now = step / 10
        reservoir.push_measurement(step)
    stats = reservoir.get_statistics()
    window = np.arange(900, 1000)  # the last 10 buckets, 90..99 (the current one included)
    assert stats["count"] == len(window)
    assert stats["average"] == pytest.approx(window.mean())
    assert stats["stddev"] == pytest.approx(window.std(ddof=1))


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=200),
       p=st.floats(min_value=0, max_value=100))  # fmt: skip
def test_percentiles_of_a_small_sample_match_numpy(data: list[float], p: float) -> None:
    reservoir = StatisticalReservoir(1000, 60_000, clock=FakeClock())
    for value in data:
        reservoir.push_measurement(value)
    expected = np.percentile(np.array(data), p, method="linear")
    scale = max(1.0, max(abs(v) for v in data))
    assert reservoir.get_percentile(p) == pytest.approx(expected, rel=1e-9, abs=1e-9 * scale)


def test_percentiles_of_the_sample_match_numpy_on_random_data() -> None:
    rng = random.Random(5)
    reservoir = StatisticalReservoir(1000, 60_000, rng.random, clock=FakeClock())
    data = np.random.default_rng(5).lognormal(3, 0.5, 50_000)
    for value in data:
        reservoir.push_measurement(float(value))
    assert len(reservoir) == 1000
    ps = [50, 75, 90, 95, 98]
    sampled = reservoir.get_percentiles(ps)
    for got, want in zip(sampled, np.percentile(data, ps), strict=True):
        assert got == pytest.approx(want, rel=0.1)  # a 1000-sample estimate of the full data's percentile
    kept = sorted(reservoir._values)
    assert sampled == pytest.approx(list(np.percentile(kept, ps)))
    assert set(kept) <= set(data.tolist())


def test_sample_entries_expire_after_the_interval() -> None:
    clock = FakeClock(0.0)
    reservoir = StatisticalReservoir(100, 1000, clock=clock)
    for value in (1, 2, 3):
        reservoir.push_measurement(value)
    clock.now = 0.5
    reservoir.push_measurement(10)
    clock.now = 0.999
    assert len(reservoir) == 4
    clock.now = 1.0
    assert len(reservoir) == 1 and reservoir.get_percentile(0) == 10
    clock.now = 1.5
    assert len(reservoir) == 0 and reservoir.get_percentile(50) is None


def test_sampling_counts_only_the_measurements_of_the_window() -> None:
    clock = FakeClock(0.0)
    reservoir = StatisticalReservoir(10, 1000, lambda: 0.9, clock=clock)
    for value in range(1000):
        reservoir.push_measurement(value)
    # the n-th measurement goes to slot int(0.9 * n): slot 9 for the 11th, then >= 10 (kept out) ever after
    assert sorted(reservoir._values) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
    clock.now = 5.0  # everything expired: the window holds nothing, and n starts again from 0
    for value in range(100, 110):
        reservoir.push_measurement(value)
    reservoir.push_measurement(999)  # the 11th of this window replaces slot 9 (with n = 1011 it would not)
    assert sorted(reservoir._values) == [100, 101, 102, 103, 104, 105, 106, 107, 108, 999]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValidationException, match="size"):
        Reservoir(0)
    with pytest.raises(ValidationException, match="storage_period_in_milliseconds"):
        Reservoir(10, -1)
    with pytest.raises(ValidationException, match="interval"):
        StatisticalReservoir(10, "1h")  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="p must be <= 100"):
        StatisticalReservoir(10, 1000).get_percentile(101)


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(min_value=0, max_value=400), st.integers(min_value=0, max_value=500)),
                      min_size=1, max_size=200))  # fmt: skip
def test_windowed_metric_equals_separate_reservoirs(steps: list[tuple[float, int]]) -> None:
    """Folding the finest bucket into every window gives exactly what pushing into each reservoir gives."""
    clock = FakeClock(0.0)
    windows = {"short": 60_000, "long": 600_000}  # 1 s and 10 s buckets
    metric = WindowedMetric(windows, 50, 60, clock=clock)
    direct = {name: Reservoir(60, span, clock=clock) for name, span in windows.items()}
    for pause, value in steps:
        clock.advance(pause / 10)
        metric.push(value)
        for reservoir in direct.values():
            reservoir.push_measurement(value)
        if value % 7 == 0:  # reading in the middle of a bucket must not change later figures
            metric.statistics([50])
    clock.advance(steps[0][0] / 100)
    figures = metric.statistics([50])
    for name, reservoir in direct.items():
        got, want = figures[name][1], reservoir.get_statistics()
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == (want[key] if want[key] is None else pytest.approx(want[key], rel=1e-9, abs=1e-9))


def test_windowed_metric_needs_nested_bucket_lengths() -> None:
    with pytest.raises(ValidationException, match="windows"):
        WindowedMetric({"a": 60_000, "b": 90_000}, 10, 60)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(min_value=0, max_value=600), st.integers(0, 10**6)), max_size=120),
       size=st.integers(min_value=1, max_value=40), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_the_sample_holds_only_measurements_of_the_window(steps: list[tuple[float, int]], size: int, seed: int) -> None:
    clock = FakeClock(0.0)
    reservoir = StatisticalReservoir(size, 1000, random.Random(seed).random, clock=clock)
    pushed: list[tuple[float, int]] = []
    for pause, value in steps:
        clock.advance(pause / 1000)
        reservoir.push_measurement(value)
        pushed.append((clock.now, value))
    in_window = sorted(value for at, value in pushed if at > clock.now - 1.0)
    assert len(reservoir) <= size  # (len() also drops what expired)
    sample = sorted(reservoir._values)
    assert not Counter(sample) - Counter(in_window)  # a sub-multiset of what the window saw
    if len(pushed) <= size:  # never full: nothing was left out
        assert sample == in_window
