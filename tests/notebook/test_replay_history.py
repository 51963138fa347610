"""Replayed files through the notebook layer: history is the file and nothing else, gaps are reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import mtdata
from mtdata.sandbox import SandboxHandle


def _session(factory: Callable[..., SandboxHandle], start: str, **replay: Path) -> mtdata.Session:
    box = factory(start=start, replay=replay)
    return mtdata.connect(box.token, box.account_id, url=box.url, progress=False)


def test_three_days_of_file_are_three_days_of_history_with_the_rest_listed_as_gaps(
    mtdata_sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    """A 3-day M1 file (Monday to Wednesday, every minute) with the clock three weeks later: the history of those
    three weeks is the file's 3 days (it used to repeat weekly: 11 daily rows), and the weeks around are gaps."""
    times = pd.date_range("2026-11-02T00:00Z", "2026-11-04T23:59Z", freq="1min")
    close = 1.1 + np.arange(len(times)) / 100_000
    path = tmp_path / "eurusd.csv"
    pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "open": close, "high": close + 0.0001,
                  "low": close - 0.0001, "close": close}).to_csv(path, index=False)  # fmt: skip
    with _session(mtdata_sandbox_factory, "2026-11-25T12:00:00Z", EURUSD=path) as session:
        m1 = session.candles("EURUSD", "1m", "2026-10-26T00:00:00Z", "2026-11-23T00:00:00Z")
        daily = session.candles("EURUSD", "1d", "2026-10-26T00:00:00Z", "2026-11-23T00:00:00Z")
    assert m1.index.equals(pd.DatetimeIndex(times).as_unit(m1.index.unit).rename(m1.index.name))
    assert np.allclose(m1["close"], close)
    assert len(daily) == 4  # broker days: Nov 2 (from 00:00 UTC), 3, 4 and the last two hours of the 4th (UTC+2)
    assert daily["close"].iloc[-1] == m1["close"].iloc[-1] and daily["open"].iloc[0] == m1["open"].iloc[0]
    assert m1.attrs["gaps"] == [["EURUSD", "2026-10-26T00:00:00+00:00", "2026-11-02T00:00:00+00:00"],
                                ["EURUSD", "2026-11-04T23:59:00+00:00", "2026-11-23T00:00:00+00:00"]]  # fmt: skip
    assert daily.attrs["gaps"][0][1] == "2026-10-26T00:00:00+00:00"
    assert daily.attrs["gaps"][-1][2] == "2026-11-23T00:00:00+00:00"
