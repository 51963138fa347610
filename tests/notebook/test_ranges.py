"""One range rule for every range of the notebook layer and the CLI: [start, end), a date alone is midnight UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import mtdata
from mtdata.arguments import ZONE_RULE
from mtdata.cli import main
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

MS = pd.Timedelta(1, "ms")


def hours(frame: pd.DataFrame) -> list[str]:
    return [time.strftime("%d %H:%M") for time in frame.index]


@pytest.fixture(scope="module")
def cached(box: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A second session on the same sandbox whose candles go through the on-disk cache."""
    root = tmp_path_factory.mktemp("cache")
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False, cache=root) as opened:
        yield opened


@pytest.mark.parametrize("path", ["download", "cache"])
def test_candles_include_start_and_exclude_end(session: Session, cached: Session, path: str) -> None:
    s = session if path == "download" else cached
    frame = s.candles("EURUSD", "1h", "2026-11-17T10:00:00Z", "2026-11-17T12:00:00Z")
    assert hours(frame) == ["17 10:00", "17 11:00"]
    assert hours(s.candles("EURUSD", "1h", "2026-11-17T10:00:00Z", pd.Timestamp("2026-11-17T12:00Z") + MS)) == [
        "17 10:00", "17 11:00", "17 12:00"]  # fmt: skip
    assert hours(s.candles("EURUSD", "1h", pd.Timestamp("2026-11-17T10:00Z") + MS, "2026-11-17T12:00:00Z")) == [
        "17 11:00"]  # fmt: skip
    empty = s.candles("EURUSD", "1h", "2026-11-17T10:00:00Z", "2026-11-17T10:00:00Z")
    assert empty.empty and list(empty) == list(frame) and empty.attrs["timeframe"] == "1h"


@pytest.mark.parametrize("path", ["download", "cache"])
def test_a_date_alone_is_midnight_and_ranges_sharing_a_bound_tile(
    session: Session, cached: Session, path: str
) -> None:
    s = session if path == "download" else cached
    day = s.candles("EURUSD", "1h", "2026-11-16", "2026-11-17")
    assert len(day) == 24 and hours(day)[0] == "16 00:00" and hours(day)[-1] == "16 23:00"
    week = s.candles(["EURUSD", "BTCUSD"], "15m", "2026-11-12", "2026-11-17")
    parts = [s.candles(["EURUSD", "BTCUSD"], "15m", a, b) for a, b in
             (("2026-11-12", "2026-11-14T06:15:00Z"), ("2026-11-14T06:15:00Z", "2026-11-17"))]  # fmt: skip
    tiled = pd.concat(parts)
    assert not tiled.reset_index().duplicated(["time", "symbol"]).any()
    pd.testing.assert_frame_equal(tiled.sort_values(["time", "symbol"]), week.sort_values(["time", "symbol"]),
                                  check_categorical=False)  # fmt: skip


def test_newest_candles_are_those_opened_before_end(session: Session) -> None:
    assert hours(session.candles("EURUSD", "1h", end="2026-11-17T12:00:00Z", limit=3)) == [
        "17 09:00", "17 10:00", "17 11:00"]  # fmt: skip


def test_ticks_include_start_and_exclude_end(session: Session) -> None:
    around = session.ticks("EURUSD", "2026-11-17T10:00:00Z", "2026-11-17T10:01:00Z")
    first, second, third = around.index[3:6]
    inner = session.ticks("EURUSD", first, third)
    assert inner.index.min() == first and inner.index.max() == second
    assert session.ticks("EURUSD", first, first).empty
    date_only = session.ticks("EURUSD", "2026-11-17T23:59:00Z", "2026-11-18")
    assert date_only.index.max() < pd.Timestamp("2026-11-18", tz="UTC")


def test_deals_include_start_and_exclude_end(session: Session) -> None:
    result = session.buy("EURUSD", 0.01)
    deal = session.deals().iloc[[-1]]
    assert deal["order_id"].iloc[0] == result.order_id
    time = deal.index[0]
    got = session.deals(time, time + MS)
    assert list(got["id"]) == list(deal["id"]) and list(got.index) == [time]
    assert session.deals(time - MS, time).empty and session.deals(time, time).empty
    orders = session.history_orders(time, time + MS)
    assert result.order_id in set(orders["id"])
    assert result.order_id not in set(session.history_orders(time - pd.Timedelta(hours=1), time)["id"])
    session.close_all()


def test_export_end_is_excluded(box: SandboxHandle, tmp_path: Path) -> None:
    argv = ["export", "--symbols", "EURUSD", "--timeframe", "1h", "--start", "2026-11-02", "--end", "2026-11-04",
            "--out", str(tmp_path / "a"), "--url", box.url, "--token", box.token, "--account-id", box.account_id]
    assert main(argv) == 0
    frame = mtdata.read_parquet(tmp_path / "a")
    assert hours(frame)[0] == "02 00:00" and hours(frame)[-1] == "03 23:00" and len(frame) == 48


@pytest.mark.parametrize(
    "call",
    [
        lambda s, t: s.candles("EURUSD", "1h", t, "2026-11-18T00:00:00Z"),
        lambda s, t: s.candles("EURUSD", "1h", "2026-11-16", t),
        lambda s, t: s.ticks("EURUSD", t),
        lambda s, t: s.deals(t),
        lambda s, t: s.history_orders(end=t),
    ],
)
def test_a_time_of_day_without_a_zone_is_refused_string_or_datetime(
    session: Session, call: Callable[[Session, object], object]
) -> None:
    naives = ("2026-11-17T10:00", "2026-11-17 10:00:00", datetime(2026, 11, 17, 10), pd.Timestamp("2026-11-17T10:00"))
    for naive in naives:
        with pytest.raises(ValidationException, match=r"has no time zone: a time of day must say its zone") as error:
            call(session, naive)
        assert ZONE_RULE in str(error.value)


def test_zones_and_dates_are_taken_as_they_say(session: Session) -> None:
    hour = session.candles("EURUSD", "1h", "2026-11-17T11:00:00+02:00", "2026-11-17T13:00:00+03:00")
    assert hours(hour) == ["17 09:00"]  # [09:00, 10:00) UTC
    aware = datetime(2026, 11, 17, 12, tzinfo=timezone(timedelta(hours=2)))
    assert hours(session.candles("EURUSD", "1h", aware, aware + timedelta(hours=1))) == ["17 10:00"]
    assert hours(session.candles("EURUSD", "1h", date(2026, 11, 16), "2026-11-17")) == hours(
        session.candles("EURUSD", "1h", "2026-11-16T00:00:00Z", datetime(2026, 11, 17, tzinfo=UTC)))  # fmt: skip


def test_export_refuses_a_naive_time(box: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", "--symbols", "EURUSD", "--start", "2026-11-02T10:00", "--out", str(tmp_path / "x"),
            "--url", box.url, "--token", box.token, "--account-id", box.account_id]  # fmt: skip
    assert main(argv) == 2
    assert f"--start has no time zone: {ZONE_RULE}" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
