"""Pure parts: wire records to frames (mtdata.df), the rate limiter, the page plan, the progress bar."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime

import orjson
import pandas as pd
import pytest

import mtdata
from mtdata import arguments, candle_pages, download, frames
from mtdata.sandbox import SandboxHandle


def test_candles_say_real_volume_as_metatrader_5_does() -> None:
    """A wire candle's ``volume`` is MT5's ``real_volume``; a tick's ``volume`` stays ``volume`` (MT5's name too)."""
    candle = {"time": "2026-11-18T09:00:00.000Z", "brokerTime": "2026-11-18 11:00:00.000", "open": 1.1, "high": 1.2,
              "low": 1.0, "close": 1.1, "tickVolume": 9, "spread": 5, "volume": 2.5, "symbol": "EURUSD"}  # fmt: skip
    for frame in (mtdata.df([candle], "candles"), frames.candles([frames.candle_chunk(orjson.dumps([candle]))],
                                                                 "EURUSD")):  # fmt: skip
        assert list(frame.columns) == list(frames.SCHEMAS["candles"]) and "volume" not in frame
        assert frame["real_volume"].tolist() == [2.5] and frame["tick_volume"].tolist() == [9]
    assert str(mtdata.df([], "candles")["real_volume"].dtype) == "float64"  # an empty frame has it too
    tick = mtdata.df([{"time": "2026-11-18T09:00:00.000Z", "bid": 1.1, "ask": 1.2, "volume": 3.0}], "ticks")
    assert tick["volume"].tolist() == [3.0] and "real_volume" not in tick


def test_df_maps_wire_names_and_dtypes() -> None:
    records = [
        {"id": "1", "type": "DEAL_TYPE_BALANCE", "time": "2026-11-18T09:00:00.000Z", "profit": 10000,
         "brokerTime": "2026-11-18 11:00:00.000"},
        {"id": "2", "type": "DEAL_TYPE_BUY", "entryType": "DEAL_ENTRY_IN", "symbol": "EURUSD", "magic": 7,
         "time": datetime(2026, 11, 18, 9, 1, tzinfo=UTC), "volume": 0.1, "newFieldName": {"a": 1}},
    ]  # fmt: skip
    frame = mtdata.df(records)
    assert list(frame.columns) == ["symbol", "id", "type", "profit", "broker_time", "entry_type", "magic", "volume",
                                   "new_field_name"]  # fmt: skip
    assert str(frame.index.dtype) == "datetime64[ms, UTC]" and frame.index.name == "time"
    assert frame["magic"].dtype == "Int64" and frame["magic"].isna().tolist() == [True, False]  # missing int: NA
    assert frame["profit"].dtype == "float64" and str(frame["symbol"].dtype) == "category"
    assert str(frame["broker_time"].dtype) == "datetime64[ms]"  # naive: the broker's wall clock
    assert frame["broker_time"].iloc[0] == pd.Timestamp("2026-11-18 11:00") and pd.isna(frame["broker_time"].iloc[1])
    assert frame["new_field_name"].iloc[1] == {"a": 1}
    assert list(mtdata.df({"balance": 1.0, "tradeAllowed": True}).columns) == ["balance", "trade_allowed"]


@pytest.mark.parametrize("kind", sorted(frames.SCHEMAS))
def test_empty_frames_are_typed(kind: str) -> None:
    frame = mtdata.df([], kind)
    assert frame.empty and list(frame.columns) == list(frames.SCHEMAS[kind])
    assert str(frame.index.dtype) == "datetime64[ms, UTC]" and str(frame["symbol"].dtype) == "category"


def test_book_levels_count_from_the_best_on_each_side() -> None:
    book = frames.book({"symbol": "EURUSD", "time": "2026-11-18T09:00:00.000Z", "book": [
        {"type": "BOOK_TYPE_SELL", "price": 1.2, "volume": 1}, {"type": "BOOK_TYPE_SELL", "price": 1.1, "volume": 2},
        {"type": "BOOK_TYPE_BUY", "price": 1.0, "volume": 3}]})  # fmt: skip
    assert list(book["side"]) == ["sell", "sell", "buy"] and list(book["level"]) == [0, 1, 0]
    assert frames.book({"symbol": "EURUSD", "time": None, "book": []}).empty


def test_page_plan_covers_the_range_on_the_window_grid() -> None:
    start, end = arguments.to_ms(datetime(2026, 11, 2, tzinfo=UTC)), arguments.to_ms(datetime(2026, 11, 6, tzinfo=UTC))
    ends = candle_pages.page_ends("1m", start, end)
    assert ends[0] == end and len(ends) == 6  # 5,761 minutes: 6 windows of 1,000
    assert all(a - b == 1000 * 60_000 for a, b in itertools.pairwise(ends[1:]))
    spans = candle_pages.segments("1m", start, end, 4)
    assert spans[0][1] == end and spans[-1][0] == start
    assert all(lo == next_hi + 1 for (lo, _), (_, next_hi) in itertools.pairwise(spans))
    assert candle_pages.first_open("1m", start + 1) == start + 60_000


async def test_the_limiter_caps_the_request_rate() -> None:
    limiter = download.Limiter(concurrency=8, per_second=20)
    began = time.monotonic()

    async def one() -> None:
        async with limiter:
            pass

    await asyncio.gather(*(one() for _ in range(11)))
    assert time.monotonic() - began >= 0.45  # 11 starts at 20 per second span at least 0.5 s


def test_long_downloads_show_a_progress_bar(box: SandboxHandle, capsys: pytest.CaptureFixture[str]) -> None:
    with mtdata.connect(box.token, box.account_id, url=box.url) as session:
        frame = session.candles("EURUSD", "1m", "2026-10-01", "2026-10-30")
        assert len(frame) > 20_000
        assert "1m candles" in capsys.readouterr().err
        session.candles("EURUSD", "1m", limit=10)
        assert capsys.readouterr().err == ""  # short ones stay quiet


def test_gaps_are_listed_not_filled() -> None:
    index = pd.DatetimeIndex(["2026-11-13T21:00", "2026-11-13T21:01", "2026-11-15T22:00"], tz="UTC").as_unit("ms")
    assert download.gaps(index, "1m") == [["2026-11-13T21:01:00+00:00", "2026-11-15T22:00:00+00:00"]]


def test_gaps_at_the_edges_of_a_requested_range_name_the_bound() -> None:
    index = pd.DatetimeIndex(["2026-11-13T21:00", "2026-11-13T21:01"], tz="UTC").as_unit("ms")
    start, end = pd.Timestamp("2026-11-13T20:58Z").to_pydatetime(), pd.Timestamp("2026-11-13T21:03Z").to_pydatetime()
    assert download.gaps(index, "1m", start, end) == [
        ["2026-11-13T20:58:00+00:00", "2026-11-13T21:00:00+00:00"],
        ["2026-11-13T21:01:00+00:00", "2026-11-13T21:03:00+00:00"],
    ]
    assert download.gaps(index, "1m", index[0].to_pydatetime(), index[-1].to_pydatetime()) == []
    assert download.gaps(index[:0], "1h", start, end) == [] and download.gaps(index[:0], "1m", start, end) == [
        ["2026-11-13T20:58:00+00:00", "2026-11-13T21:03:00+00:00"]]  # fmt: skip
