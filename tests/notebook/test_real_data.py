"""Real published prices through the sandbox's replay, checked against an independent pandas aggregation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mtdata
from mtdata.sandbox.config import ReplaySource
from mtdata.sandbox.market import Market
from mtdata.timeframes import MT5_TIMEFRAMES

EURUSD = pytest.importorskip("backtesting.test").EURUSD
RULES = {"open": "first", "high": "max", "low": "min", "close": "last", "tick_volume": "sum"}
NEW_YORK = "America/New_York"


@pytest.fixture(scope="module")
def replay_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hourly bars as an M1 candle file: each hour's bar at its first minute (times in UTC, as published)."""
    path = tmp_path_factory.mktemp("real") / "eurusd_h1.csv"
    frame = EURUSD.rename(columns=str.lower).rename(columns={"volume": "tick_volume"})
    frame.index = frame.index.strftime("%Y-%m-%dT%H:%M:%SZ").rename("time")
    frame.to_csv(path)
    return path


@pytest.fixture(scope="module")
def session(replay_file: Path) -> Iterator[mtdata.Session]:
    """A sandbox replaying the file for EURUSD, its clock on the Monday after the data (history covers it all)."""
    box = mtdata.sandbox.start(start="2018-02-12T12:00:00Z", replay={"EURUSD": replay_file})
    try:
        with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as opened:
            yield opened
    finally:
        box.stop()


def broker_wall(utc: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """New York close by the tz database: the broker's wall clock is New York's plus 7 hours (midnight = 17:00)."""
    return utc.tz_localize("UTC").tz_convert(NEW_YORK).tz_localize(None) + pd.Timedelta(hours=7)


def from_wall(wall: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """UTC instants of broker wall-clock times (no bucket starts in a skipped or repeated hour: FX is shut then)."""
    return (wall - pd.Timedelta(hours=7)).tz_localize(NEW_YORK).tz_convert("UTC").as_unit("ms").rename("time")


def expected(timeframe: str) -> pd.DataFrame:
    """The published bars aggregated by pandas alone into ``timeframe`` candles on the broker's clock."""
    wall = broker_wall(EURUSD.index)
    if timeframe == "1mn":
        start = wall.to_period("M").to_timestamp()
    elif timeframe == "1w":
        start = wall.normalize() - pd.to_timedelta(wall.day_of_week, unit="D")
    else:
        start = wall.floor(f"{MT5_TIMEFRAMES[timeframe]}min")
    bars = EURUSD.rename(columns=str.lower).rename(columns={"volume": "tick_volume"})
    bars["tick_volume"] = bars["tick_volume"].clip(lower=4)  # replay's documented floor: a bar plays 4 ticks or more
    frame = bars.groupby(start.to_numpy()).agg(RULES)
    frame["broker_time"] = frame.index.to_numpy().astype("datetime64[ms]")
    frame.index = from_wall(pd.DatetimeIndex(frame.index))
    return frame


@pytest.mark.parametrize("timeframe", list(MT5_TIMEFRAMES))
def test_every_timeframe_of_real_eurusd_equals_a_pandas_aggregation_on_the_broker_clock(
    session: mtdata.Session, timeframe: str
) -> None:
    """The data set: EURUSD hourly bid OHLC and tick volume, 2017-04-19 09:00 to 2018-02-07 15:00 UTC (5,000 bars),
    as published on PyPI inside ``backtesting`` (backtesting.py, ``backtesting.test.EURUSD``). Each bar is replayed
    as an M1 candle; every timeframe the sandbox serves through ``Session.candles`` must equal pandas' own
    aggregation on a New York close clock computed from the tz database, open times, OHLC, tick volume and
    ``broker_time``."""
    served = session.candles("EURUSD", timeframe, "2017-04-01", "2018-03-01")
    truth = expected(timeframe)
    assert len(served) == len(truth) and served.index.equals(truth.index), timeframe
    for name in ("open", "high", "low", "close"):
        np.testing.assert_allclose(served[name].to_numpy(), truth[name].to_numpy(), rtol=0, atol=1e-9)
    assert served["tick_volume"].tolist() == truth["tick_volume"].tolist()
    assert (served["broker_time"].to_numpy() == truth["broker_time"].to_numpy()).all()
    if timeframe == "1d":  # broker days run Monday to Friday, every week of the year: no Sunday candle
        weekday = served["broker_time"].dt.day_of_week
        assert 6 not in set(weekday)
        # two one-tick bars published at Friday 21:00 UTC (17:00 in New York, the close) are Saturday's
        assert [str(d) for d in served["broker_time"][weekday == 5].dt.date] == ["2017-10-07", "2017-10-21"]


def test_the_eu_clock_gives_real_fx_data_sunday_candles(replay_file: Path) -> None:
    """Why New York close is the default: on the EU clock the week between the EU and the US end of daylight saving
    (2017-10-29 to 11-05) opens on Sunday 23:00 broker time, which makes a one-hour Sunday D1 candle."""
    at = pd.Timestamp("2018-02-12T12:00Z").value // 1_000_000
    eu = Market(0, wall_clock=lambda: at / 1000, replay=[ReplaySource("EURUSD", replay_file)], broker_clock="eu")
    sundays = [c["brokerTime"][:10] for c in eu.candles("EURUSD", "1d", None, 1000)
               if pd.Timestamp(c["brokerTime"]).day_of_week == 6]  # fmt: skip
    assert sundays == ["2017-10-29"]
