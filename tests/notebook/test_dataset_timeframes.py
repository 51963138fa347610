"""A dataset's ``timeframe=`` partition comes from the rows themselves; a refused write leaves every file as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mtdata
from mtdata import spacing
from mtdata.cli import main
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

OHLC = {"open": "first", "high": "max", "low": "min", "close": "last", "tick_volume": "sum", "spread": "max",
        "real_volume": "sum"}  # fmt: skip


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) and the SHA-256 of its bytes."""
    files = (p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def opens(*stamps: str) -> np.ndarray:
    return pd.DatetimeIndex(stamps, tz="UTC").as_unit("ms").asi8


@pytest.fixture(scope="module")
def m1(session: Session) -> pd.DataFrame:
    frame = session.candles("EURUSD", "1m", "2026-11-17T10:00:00Z", "2026-11-17T10:59:59.999Z")
    assert len(frame) == 60 and frame.attrs["timeframe"] == "1m"
    return frame


def resample(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    """A user's resample of one symbol's candles (pandas keeps ``attrs``, so the result still says ``1m``)."""
    bars = frame.drop(columns="symbol").resample(rule).agg(OHLC)  # type: ignore[arg-type]
    return bars.assign(symbol=pd.Categorical(["EURUSD"] * len(bars)))


def test_a_resample_keeping_attrs_is_refused_and_nothing_changes(m1: pd.DataFrame, tmp_path: Path) -> None:
    root = tmp_path / "data"
    mtdata.to_parquet(m1, root)
    before = snapshot(root)
    m5 = resample(m1, "5min")
    assert m5.attrs["timeframe"] == "1m"  # pandas' doing: the repro of the issue
    refused = r"frame rows of EURUSD are spaced as 5m candles, .*attrs\['timeframe'\] \(1m"
    with pytest.raises(ValidationException, match=refused):
        mtdata.to_parquet(m5, root)
    assert snapshot(root) == before
    m5.attrs["timeframe"] = "5m"
    mtdata.to_parquet(m5, root)
    assert sorted(p.name for p in (root / "symbol=EURUSD").iterdir()) == ["timeframe=1m", "timeframe=5m"]
    pd.testing.assert_frame_equal(mtdata.read_parquet(root, timeframe="1m"), m1)
    assert mtdata.read_parquet(root, timeframe="5m").attrs["timeframe"] == "5m"


def test_a_concat_losing_attrs_lands_in_its_own_timeframe(session: Session, tmp_path: Path) -> None:
    first = session.candles("EURUSD", "1h", "2026-11-06", "2026-11-11")  # over a weekend: attrs["gaps"] differ
    second = session.candles("EURUSD", "1h", "2026-11-10T22:00:00Z", "2026-11-13")  # two candles again
    both = pd.concat([first, second])
    assert "timeframe" not in both.attrs  # pandas' doing: the repro of the issue
    root = mtdata.to_parquet(both, tmp_path / "data")
    assert [p.name for p in (root / "symbol=EURUSD").iterdir()] == ["timeframe=1h"]
    back = mtdata.read_parquet(root)
    assert back.attrs["timeframe"] == "1h"
    assert both.index.duplicated().sum() == 2  # the overlap of the two downloads, written once
    pd.testing.assert_frame_equal(back, both[~both.index.duplicated()], check_categorical=False)


def test_rows_off_an_existing_partitions_grid_are_refused(session: Session, m1: pd.DataFrame, tmp_path: Path) -> None:
    root = tmp_path / "data"
    hourly = session.candles("EURUSD", "1h", "2026-11-16", "2026-11-17")
    mtdata.to_parquet(hourly, root)
    mtdata.to_parquet(m1, root)
    before = snapshot(root)
    half = hourly.iloc[:1].set_axis(hourly.index[:1] + pd.Timedelta(minutes=30))  # alone, one 1h candle fits
    with pytest.raises(ValidationException, match="rows of EURUSD on 2026-11-16 are off the 1h grid of the "
                       "dataset's partition timeframe=1h"):  # fmt: skip
        mtdata.to_parquet(half, root)
    late = m1.iloc[:1].set_axis(m1.index[:1] + pd.Timedelta(seconds=30))  # half a minute off the 1m grid
    with pytest.raises(ValidationException, match=r"rows of EURUSD are off the 1m grid, .*\(1m;"):
        mtdata.to_parquet(late, root)
    single = resample(m1, "1h")
    single.attrs = {}  # a single candle and no hint: its timeframe cannot be told
    with pytest.raises(ValidationException, match="timeframe must be given: EURUSD has a single candle"):
        mtdata.to_parquet(single, root)
    other = m1.assign(close=m1["close"] + 0.0001)
    with pytest.raises(ValidationException, match="different rows of EURUSD opened at 2026-11-17T10:00:00"):
        mtdata.to_parquet(pd.concat([m1, other]), root)
    assert snapshot(root) == before


def test_an_explicit_timeframe_must_fit_the_rows(m1: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValidationException, match=r"timeframe does not fit the rows of EURUSD \(spaced as 1m"):
        mtdata.to_parquet(m1, tmp_path / "data", timeframe="5m")
    with pytest.raises(ValidationException, match="timeframe must be 'ticks' or a timeframe"):
        mtdata.to_parquet(m1, tmp_path / "data", timeframe="7m")
    with pytest.raises(ValidationException, match="must be a candle timeframe"):
        mtdata.to_parquet(m1, tmp_path / "data", timeframe="ticks")
    assert not (tmp_path / "data").exists()
    sparse = m1.iloc[::2]  # every other minute: shows 2m, is 1m when the caller says so
    mtdata.to_parquet(sparse, tmp_path / "data", timeframe="M1")
    pd.testing.assert_frame_equal(mtdata.read_parquet(tmp_path / "data"), sparse)


def test_ticks_are_told_by_their_columns(session: Session, tmp_path: Path) -> None:
    ticks = session.ticks("EURUSD", "2026-11-17T10:00:00Z", "2026-11-17T10:05:00Z")
    assert len(ticks) > 10
    ticks.attrs["timeframe"] = "1m"
    with pytest.raises(ValidationException, match=r"frame.attrs\['timeframe'\] must be 'ticks'"):
        mtdata.to_parquet(ticks, tmp_path / "data")
    ticks.attrs = {}
    root = mtdata.to_parquet(ticks, tmp_path / "data")
    assert [p.name for p in (root / "symbol=EURUSD").iterdir()] == ["timeframe=ticks"]
    with pytest.raises(ValidationException, match=r"candles .* or ticks"):
        mtdata.to_parquet(ticks.drop(columns=["bid", "ask"]), root)


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        # 1h over a weekend: the gap is a multiple of the hour
        (["2026-11-13T19:00", "2026-11-13T20:00", "2026-11-15T22:00", "2026-11-15T23:00"], "1h"),
        # 4h on the broker's clock (UTC+2 then UTC+3 after the EU change of 2026-03-29): the grid moves an hour
        (["2026-03-28T14:00", "2026-03-28T18:00", "2026-03-28T22:00", "2026-03-29T01:00", "2026-03-29T05:00"], "4h"),
        # D1 at broker midnight (22:00 then 21:00 UTC), a weekend and a DST change in between
        (["2026-03-25T22:00", "2026-03-26T22:00", "2026-03-29T21:00", "2026-03-30T21:00"], "1d"),
        # W1 on Sundays' broker midnight, and MN1 of months of 28 to 31 days
        (["2026-03-22T22:00", "2026-03-29T21:00", "2026-04-05T21:00"], "1w"),
        (["2026-01-31T22:00", "2026-02-28T22:00", "2026-03-31T21:00", "2026-05-31T21:00"], "1mn"),
        # 5m bars, and a 1m series with 5m bars mixed in off its grid: no timeframe
        (["2026-11-17T10:00", "2026-11-17T10:05", "2026-11-17T10:20"], "5m"),
        (["2026-11-17T10:00", "2026-11-17T10:01", "2026-11-17T10:02:30"], None),
        # 1h alternating with a one-hour grid shift is not 2h with a DST change
        (["2026-11-17T10:00", "2026-11-17T11:00", "2026-11-17T12:00", "2026-11-17T13:00", "2026-11-17T14:00"], "1h"),
    ],
)
def test_spacing_shows_the_timeframe(stamps: list[str], expected: str | None) -> None:
    assert spacing.shown(opens(*stamps)) == expected


def test_a_hint_agrees_only_when_the_rows_are_that_far_apart_somewhere() -> None:
    m5 = opens("2026-11-17T10:00", "2026-11-17T10:05", "2026-11-17T10:10")
    assert spacing.fits("1m", m5) and not spacing.agrees("1m", m5) and spacing.agrees("5m", m5)
    weekend = opens("2026-11-13T20:00", "2026-11-13T21:00", "2026-11-16T00:00")
    assert spacing.agrees("1h", weekend) and spacing.shown(weekend) == "1h"
    daily = opens("2026-03-25T22:00", "2026-03-26T22:00")
    assert spacing.agrees("1d", daily) and not spacing.agrees("1w", daily) and not spacing.fits("1mn", daily)
    assert spacing.fits("15m", opens("2026-11-17T10:15")) and not spacing.fits("15m", opens("2026-11-17T10:16"))


def test_a_target_holding_something_else_is_refused(m1: pd.DataFrame, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cat.jpg").write_bytes(b"\xff\xd8 not a dataset")
    with pytest.raises(ValidationException, match=r"path holds something else than an mtdata dataset .*'cat.jpg'"):
        mtdata.to_parquet(m1, photos)
    with pytest.raises(ValidationException, match="path must be a dataset directory"):
        mtdata.to_parquet(m1, photos / "cat.jpg", partitioned=True)
    assert snapshot(photos) == {"cat.jpg": hashlib.sha256(b"\xff\xd8 not a dataset").hexdigest()}
    root = mtdata.to_parquet(m1, tmp_path / "data")
    before = snapshot(root)
    renamed = m1.rename(columns={"real_volume": "volume"})
    with pytest.raises(ValidationException, match="path holds symbol=EURUSD/timeframe=1m with other columns"):
        mtdata.to_parquet(renamed, root)
    assert snapshot(root) == before


def test_unknown_or_ambiguous_timeframes_in_a_dataset_are_refused(
    session: Session, m1: pd.DataFrame, tmp_path: Path
) -> None:
    root = mtdata.to_parquet(m1, tmp_path / "data")
    mtdata.to_parquet(session.candles("EURUSD", "1h", "2026-11-16", "2026-11-17"), root)
    with pytest.raises(ValidationException, match=r"timeframe must be given: the dataset holds several \(1h, 1m\)"):
        mtdata.read_parquet(root)
    assert mtdata.read_parquet(root, timeframe="H1").attrs["timeframe"] == "1h"
    (root / "symbol=EURUSD" / "timeframe=H1" / "date=2026-11-16").mkdir(parents=True)  # not a name mtdata writes
    before = snapshot(root)
    for call in (lambda: mtdata.read_parquet(root, timeframe="1h"), lambda: mtdata.to_parquet(m1, root)):
        with pytest.raises(ValidationException, match=r"path holds a partition of an unknown timeframe .*"
                           "symbol=EURUSD/timeframe=H1"):  # fmt: skip
            call()
    assert snapshot(root) == before


def test_export_into_a_directory_of_other_files_writes_nothing(
    box: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    argv = ["export", "--symbols", "EURUSD", "--timeframe", "1h", "--start", "2026-11-02", "--end", "2026-11-04",
            "--out", str(tmp_path), "--url", box.url, "--token", box.token, "--account-id", box.account_id]  # fmt: skip
    assert main(argv) == 2
    assert "path holds something else than an mtdata dataset" in capsys.readouterr().err
    assert snapshot(tmp_path) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}


def test_appended_ticks_keep_ticks_that_share_a_millisecond(session: Session, tmp_path: Path) -> None:
    """Two ticks of one millisecond are two rows: appending an overlapping range replaces its span, row for row."""
    shared = session.ticks("EURUSD", "2026-11-17T10:01:30Z", "2026-11-17T10:01:31Z").index[0]

    def ticks(start: str, end: str) -> pd.DataFrame:
        frame = session.ticks("EURUSD", start, end)
        twin = frame[frame.index == shared]  # a second tick in that millisecond
        return pd.concat([frame, twin.assign(bid=twin["bid"] - 0.0001)]).sort_index(kind="stable")

    whole = ticks("2026-11-17T10:00:00Z", "2026-11-17T10:03:00Z")
    assert whole.index.duplicated().any()
    root = mtdata.to_parquet(ticks("2026-11-17T10:00:00Z", "2026-11-17T10:02:00Z"), tmp_path / "data")
    mtdata.to_parquet(ticks("2026-11-17T10:01:00Z", "2026-11-17T10:03:00Z"), root)
    pd.testing.assert_frame_equal(mtdata.read_parquet(root), whole, check_categorical=False)
