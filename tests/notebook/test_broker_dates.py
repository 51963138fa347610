"""Broker dates: ``broker_time`` on candles and ticks, and a date alone of a D1/W1/MN1 request as the broker's date."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from mtdata.session import Session


def test_a_date_alone_of_a_daily_request_is_the_broker_date(session: Session) -> None:
    """[2026-10-26, 2026-11-07) on the broker's calendar: Monday to Friday of two weeks, across the US change of
    November 1 (UTC+3 then UTC+2: candles open at 21:00, then 22:00 UTC the evening before)."""
    daily = session.candles("EURUSD", "1d", "2026-10-26", date(2026, 11, 7))
    dates = [d.isoformat() for d in daily["broker_time"].dt.date]
    assert dates == ["2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29", "2026-10-30",
                     "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]  # fmt: skip
    assert (daily["broker_time"].dt.hour == 0).all()
    assert daily.index[0] == pd.Timestamp("2026-10-25T21:00Z") and daily.index[-1] == pd.Timestamp("2026-11-05T22:00Z")
    assert daily.attrs["gaps"] == [["EURUSD", "2026-10-29T21:00:00+00:00", "2026-11-01T22:00:00+00:00"]]  # a weekend
    utc = session.candles("EURUSD", "1d", "2026-10-26T00:00:00Z", "2026-11-07T00:00:00Z")  # instants stay instants
    pd.testing.assert_frame_equal(utc, daily.iloc[1:])
    newest = session.candles("EURUSD", "1d", end="2026-11-07", limit=3)
    assert [d.isoformat() for d in newest["broker_time"].dt.date] == ["2026-11-04", "2026-11-05", "2026-11-06"]


@pytest.mark.parametrize(
    ("timeframe", "start", "end", "expected"),
    [
        ("1w", "2026-10-26", "2026-11-09", ["2026-10-26", "2026-11-02"]),
        ("1mn", "2026-10-01", "2026-11-01", ["2026-10-01"]),
        ("1mn", "2026-10-01", None, ["2026-10-01", "2026-11-01"]),
    ],
)
def test_weeks_and_months_are_named_by_their_broker_date_too(
    session: Session, timeframe: str, start: str, end: str | None, expected: list[str]
) -> None:
    frame = session.candles("EURUSD", timeframe, start, end)
    assert [d.isoformat() for d in frame["broker_time"].dt.date] == expected
    assert frame.index[0] < pd.Timestamp(start, tz="UTC")  # opened the evening before, UTC


def test_intraday_requests_keep_dates_as_midnight_utc_and_a_daily_resample_lines_up(session: Session) -> None:
    hourly = session.candles("EURUSD", "1h", "2026-11-02", "2026-11-07")
    assert hourly.index[0] == pd.Timestamp("2026-11-02T00:00Z")
    daily = session.candles("EURUSD", "1d", "2026-11-03", "2026-11-06")
    by_broker_date = hourly.groupby(hourly["broker_time"].dt.date).agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "tick_volume": "sum"}
    )
    resampled = by_broker_date.loc[date(2026, 11, 3) : date(2026, 11, 5)]
    assert [d.isoformat() for d in resampled.index] == [d.isoformat() for d in daily["broker_time"].dt.date]
    for name in ("open", "high", "low", "close", "tick_volume"):
        assert resampled[name].tolist() == daily[name].tolist(), name
    ticks = session.ticks("EURUSD", "2026-11-03T10:00:00Z", "2026-11-03T10:01:00Z")
    assert str(ticks["broker_time"].dtype) == "datetime64[ms]"
    assert ((ticks["broker_time"] - ticks.index.tz_localize(None)) == pd.Timedelta(hours=2)).all()
