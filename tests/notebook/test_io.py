"""Export round trips: CSV, Parquet files, hive-partitioned datasets read by pandas, pyarrow, DuckDB and Dask."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

import mtdata
from mtdata.cli import main
from mtdata.errors import ValidationException
from mtdata.io import read_csv
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by time then symbol name (whatever the order of the symbol's categories)."""
    return frame.assign(symbol=frame["symbol"].astype(str)).reset_index().sort_values(["time", "symbol"],
                                                                                     ignore_index=True)  # fmt: skip


@pytest.fixture(scope="module")
def candles(session: Session) -> pd.DataFrame:
    return session.candles(["EURUSD", "GBPUSD"], "1m", "2026-11-12T20:00:00Z", "2026-11-17T03:59:59Z")


def test_csv_round_trip(candles: pd.DataFrame, tmp_path: Path) -> None:
    """``mtdata.read_csv`` (the name README and ``to_csv`` give) reads back index, dtypes and the timeframe."""
    path = mtdata.to_csv(candles, tmp_path / "out" / "candles.csv")
    back = mtdata.read_csv(path)
    pd.testing.assert_frame_equal(back, candles)
    assert back.attrs["timeframe"] == candles.attrs["timeframe"] == "1m"
    assert "read_csv" in mtdata.__all__ and mtdata.read_csv is read_csv
    plain = pd.read_csv(path)  # what it saves the user from: times as text, symbol as text
    assert not isinstance(plain["time"].dtype, pd.DatetimeTZDtype) and plain["symbol"].dtype != "category"


def test_csv_round_trip_of_ticks_and_deals(session: Session, tmp_path: Path) -> None:
    ticks = session.ticks("EURUSD", "2026-11-17T10:00:00Z", "2026-11-17T10:02:00Z")
    assert len(ticks) > 10 and ticks["last"].isna().all()
    pd.testing.assert_frame_equal(mtdata.read_csv(mtdata.to_csv(ticks, tmp_path / "ticks.csv")), ticks)
    deals = mtdata.df([{"id": "7", "symbol": "EURUSD", "type": "DEAL_TYPE_BUY", "time": "2026-11-17T10:00:00.125Z",
                        "volume": 0.1, "price": 1.05, "magic": 3}], "deals")  # fmt: skip
    pd.testing.assert_frame_equal(mtdata.read_csv(mtdata.to_csv(deals, tmp_path / "d.csv"), "deals"), deals)
    with pytest.raises(ValidationException, match="kind must be one of"):
        mtdata.read_csv(tmp_path / "d.csv", "trades")


def test_parquet_file_round_trip(candles: pd.DataFrame, tmp_path: Path) -> None:
    path = mtdata.to_parquet(candles, tmp_path / "candles.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), candles)


def test_dataset_read_back_typed_by_every_reader(candles: pd.DataFrame, tmp_path: Path) -> None:
    root = mtdata.to_parquet(candles, tmp_path / "data")
    days = sorted(p.name for p in (root / "symbol=EURUSD" / "timeframe=1m").iterdir())
    # broker dates: the week opens on Sunday 22:00 UTC, Monday 00:00 on the broker's clock (no Sunday partition)
    assert days == ["date=2026-11-12", "date=2026-11-13", "date=2026-11-16", "date=2026-11-17"]
    back = mtdata.read_parquet(root)
    pd.testing.assert_frame_equal(back.sort_values(["time", "symbol"]), candles.sort_values(["time", "symbol"]))
    plain = pd.read_parquet(root)  # pandas alone: time index, OHLCV dtypes, partitions as categories
    assert str(plain.index.dtype) == "datetime64[ms, UTC]"
    assert plain[["open", "tick_volume", "spread"]].dtypes.astype(str).tolist() == ["float64", "int64", "int64"]
    assert str(plain["symbol"].dtype) == "category" and len(plain) == len(candles)
    table = ds.dataset(root, partitioning="hive").to_table()
    assert str(table.schema.field("time").type) == "timestamp[ms, tz=UTC]"
    assert str(table.schema.field("tick_volume").type) == "int64"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:The inplace keyword")  # dask's own, on pandas 3
def test_duckdb_and_dask_read_the_dataset(candles: pd.DataFrame, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    dd = pytest.importorskip("dask.dataframe")
    root = mtdata.to_parquet(candles, tmp_path / "data")
    source = f"read_parquet('{root.as_posix()}/**/*.parquet', hive_partitioning = true)"
    relation = duckdb.sql(f"SELECT * FROM {source}")
    types = dict(zip(relation.columns, map(str, relation.types), strict=True))
    assert types["time"] == "TIMESTAMP WITH TIME ZONE" and types["open"] == "DOUBLE"
    assert types["tick_volume"] == "BIGINT" and types["symbol"] == "VARCHAR"
    [(count, high)] = duckdb.sql(f"SELECT count(*), max(high) FILTER (symbol = 'EURUSD') FROM {source}").fetchall()
    assert count == len(candles) and high == candles[candles["symbol"] == "EURUSD"]["high"].max()
    frame = dd.read_parquet(root).compute()
    assert str(frame.index.dtype) == "datetime64[ms, UTC]" and len(frame) == len(candles)
    assert frame[["open", "tick_volume"]].dtypes.astype(str).tolist() == ["float64", "int64"]


def test_append_adds_partitions_and_merges_the_edge_day(session: Session, tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = session.candles("EURUSD", "1h", "2026-11-02", "2026-11-04T12:00:00Z")
    mtdata.to_parquet(first, root)
    folder = root / "symbol=EURUSD" / "timeframe=1h"
    untouched = {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("date=2026-11-0[23]/*.parquet")}
    second = session.candles("EURUSD", "1h", "2026-11-04T06:00:00Z", "2026-11-06")
    mtdata.to_parquet(second, root)
    assert {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("date=2026-11-0[23]/*.parquet")} == untouched
    back = mtdata.read_parquet(root)
    whole = session.candles("EURUSD", "1h", "2026-11-02", "2026-11-06")
    pd.testing.assert_frame_equal(back, whole)
    assert not list(root.rglob(".tmp-*"))


def test_export_command(box: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data"
    argv = ["export", "--symbols", "EURUSD,GBPUSD", "--timeframe", "1h", "--start", "2026-09-01", "--end",
            "2026-11-01", "--out", str(out), "--url", box.url, "--token", box.token,
            "--account-id", box.account_id]  # fmt: skip
    assert main(argv) == 0
    assert "candles of EURUSD, GBPUSD" in capsys.readouterr().out
    frame = mtdata.read_parquet(out)
    assert set(frame["symbol"].cat.categories) == {"EURUSD", "GBPUSD"}
    assert frame.index.min() == pd.Timestamp("2026-09-01", tz="UTC")
    assert frame.index.max() <= pd.Timestamp("2026-11-01", tz="UTC")
    assert not frame.reset_index().duplicated(["time", "symbol"]).any()
    assert main([*argv[:-6], "--start", "2026-11-10", "--end", "2026-11-01", *argv[-6:]]) == 2
    assert "start" in capsys.readouterr().err


def test_export_without_end_covers_up_to_now(
    box: SandboxHandle, session: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four months of 1h up to the sandbox's now: every complete candle, the one in progress left out."""
    out = tmp_path / "data"
    argv = ["export", "--symbols", "EURUSD,BTCUSD", "--timeframe", "1h", "--start", "2026-07-18", "--out", str(out),
            "--url", box.url, "--token", box.token, "--account-id", box.account_id]  # fmt: skip
    assert main(argv) == 0
    newest = session.candles(["EURUSD", "BTCUSD"], "1h", limit=1)
    assert (newest.index == newest.index[0]).all()  # a weekday: both symbols have a candle in progress
    written = mtdata.read_parquet(out)
    assert f"wrote {len(written):,} 1h candles" in capsys.readouterr().out
    truth = session.candles(["EURUSD", "BTCUSD"], "1h", "2026-07-18", newest.index[0] - pd.Timedelta(1, "ms"))
    assert written.index.max() == newest.index[0] - pd.Timedelta(hours=1)
    assert len(written) > 2 * 24 * 120 * 0.7  # four months, BTCUSD every hour, EURUSD on weekdays
    pd.testing.assert_frame_equal(_rows(written), _rows(truth))


def test_bad_frames_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationException, match="frame"):
        mtdata.to_parquet([1, 2], tmp_path / "x.parquet")
    with pytest.raises(ValidationException, match="frame"):
        mtdata.to_parquet(pd.DataFrame({"a": [1]}), tmp_path / "data")


def test_export_to_a_sandbox_url_needs_its_token(
    box: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MTDATA_TOKEN", "MTDATA_SANDBOX_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    argv = ["export", "--symbols", "EURUSD", "--start", "2026-11-01", "--out", str(tmp_path), "--url", box.url]
    assert main(argv) == 2
    assert "--token" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_daily_candles_are_partitioned_under_their_broker_date(session: Session, tmp_path: Path) -> None:
    """A D1 candle opens at broker midnight, 21:00 or 22:00 UTC the evening before: its ``date=`` is its broker
    date (``broker_time``), so a week's five candles are Monday to Friday; the CSV keeps the wall clock zone-less."""
    daily = session.candles("EURUSD", "1d", "2026-11-02T00:00:00Z", "2026-11-14T00:00:00Z")
    assert (daily.index.hour == 22).all() and (daily["broker_time"].dt.hour == 0).all()
    root = mtdata.to_parquet(daily, tmp_path / "data")
    days = sorted(p.name[5:] for p in (root / "symbol=EURUSD" / "timeframe=1d").iterdir())
    assert days == [str(d) for d in daily["broker_time"].dt.date] and len(days) == 9
    assert {pd.Timestamp(day).day_name() for day in days} == {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
    path = mtdata.to_csv(daily, tmp_path / "daily.csv")
    assert pd.read_csv(path)["broker_time"].iloc[0] == str(daily["broker_time"].iloc[0])[:19] + ".000"
    pd.testing.assert_frame_equal(mtdata.read_csv(path), daily)
