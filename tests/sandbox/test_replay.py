"""Replay of user files (CSV / Parquet, ticks / M1 candles) in place of the simulated process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

import mtdata.sandbox
from mtdata.errors import ValidationException
from mtdata.sandbox.config import ReplaySource
from mtdata.sandbox.market import Market

START = int(datetime(2024, 3, 4, 9, 0, tzinfo=UTC).timestamp() * 1000)  # a Monday
WEEK = 7 * 86_400_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def tick_file(tmp_path: Path, count: int = 3000) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    times = START + np.cumsum(rng.integers(50, 7000, count))
    bid = np.round(1.08 + np.cumsum(rng.normal(0, 0.00003, count)), 5)
    ask = np.round(bid + 0.00001 * rng.integers(0, 20, count), 5)
    path = tmp_path / "eurusd_ticks.csv"
    lines = ["time,bid,ask,volume"] + [f"{iso(t)},{b:.5f},{a:.5f},1.5" for t, b, a in zip(times, bid, ask, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, times, bid, ask


def market_at(at_ms: int, *sources: ReplaySource) -> Market:
    return Market(0, wall_clock=lambda: at_ms / 1000, replay=sources)


def all_ticks(market: Market, symbol: str, start: int) -> list[dict]:
    out: list[dict] = []
    while page := market.ticks(symbol, start, len(out), 1000):
        out += page
    return out


def test_tick_file_is_the_history_and_candles_aggregate_it(tmp_path: Path) -> None:
    path, times, bid, ask = tick_file(tmp_path)
    now = int(times[2000])
    market = market_at(now, ReplaySource("EURUSD", path))
    ticks = all_ticks(market, "EURUSD", 0)
    assert [ms(t["time"]) for t in ticks] == times[:2001].tolist()
    assert [t["bid"] for t in ticks] == bid[:2001].tolist() and [t["ask"] for t in ticks] == ask[:2001].tolist()
    assert all(t["volume"] == 1.5 for t in ticks)
    assert market.tick("EURUSD") == ticks[-1]
    first_minute = market.candles("EURUSD", "1m", START + 59_999, 5)
    assert len(first_minute) == 1 and first_minute[0]["time"] == iso(START)
    in_minute = [t for t in ticks if ms(t["time"]) < START + 60_000]
    candle = first_minute[0]
    assert candle["open"] == in_minute[0]["bid"] and candle["close"] == in_minute[-1]["bid"]
    assert candle["tickVolume"] == len(in_minute) and candle["volume"] == pytest.approx(1.5 * len(in_minute))
    assert candle["spread"] == min(round((t["ask"] - t["bid"]) * 1e5) for t in in_minute)
    assert market.candles("EURUSD", "1m", START - 1, 10) == []
    hourly = market.candles("EURUSD", "1h", None, 10)
    assert hourly[0]["time"] == iso(START) and hourly[0]["open"] == ticks[0]["bid"]
    assert market.candles("GBPUSD", "1m", None, 1)  # other symbols keep their simulated prices


def test_history_never_repeats_the_file_and_live_play_loops_it_by_whole_weeks(tmp_path: Path) -> None:
    path, times, bid, _ = tick_file(tmp_path)
    start = int(times[-1]) + 5 * WEEK  # the market clock starts five weeks after the file's end
    wall = [start / 1000]
    market = Market(0, wall_clock=lambda: wall[0], replay=[ReplaySource("EURUSD", path)])
    assert all_ticks(market, "EURUSD", 0) == all_ticks(market_at(int(times[-1]), ReplaySource("EURUSD", path)),
                                                        "EURUSD", 0)  # fmt: skip
    hourly = market.candles("EURUSD", "1h", None, 1000)
    assert ms(hourly[0]["time"]) <= START and ms(hourly[-1]["time"]) <= times[-1]  # the file's hours, no repeat
    assert market.ticks("EURUSD", int(times[-1]) + 1, 0, 100) == []
    assert market.tick("EURUSD", int(times[10]) + 2 * WEEK)["bid"] == bid[-1]  # the last price before the gap
    assert market.tick("EURUSD")["bid"] == bid[-1]
    wall[0] += (WEEK + 4 * 3_600_000) / 1000  # live play reaches the file's next repeat after the clock's start
    looped = market.ticks("EURUSD", start, 0, 100)
    assert [ms(t["time"]) - 6 * WEEK for t in looped] == times[:100].tolist()
    assert [t["bid"] for t in looped] == bid[:100].tolist()
    assert market.tick("EURUSD")["bid"] == bid[-1]
    assert len(market.candles("EURUSD", "1h", int(times[-1]), 1000)) == len(hourly)


def test_m1_candles_from_epoch_seconds_csv(tmp_path: Path) -> None:
    path = tmp_path / "xau.csv"
    rows = ["timestamp,open,high,low,close,tick_volume,spread"]
    for i in range(120):
        base = 2000 + i * 0.1
        rows.append(
            f"{START // 1000 + 60 * i},{base:.2f},{base + 0.5:.2f},{base - 0.3:.2f},{base + 0.1:.2f},{i},{20 + i}"
        )
    path.write_text("\n".join(rows))
    market = market_at(START + 2 * 3_600_000, ReplaySource("XAUUSD", path))
    candles = market.candles("XAUUSD", "1m", None, 1000)
    assert len(candles) == 120 and candles[0]["time"] == iso(START)
    assert [c["tickVolume"] for c in candles[:6]] == [4, 4, 4, 4, 4, 5]
    assert candles[7]["open"] == 2000.7 and candles[7]["high"] == 2001.2 and candles[7]["spread"] == 27
    ticks = all_ticks(market, "XAUUSD", START + 7 * 60_000)
    minute = [t for t in ticks if ms(t["time"]) < START + 8 * 60_000]
    assert len(minute) == 7 and minute[0]["bid"] == 2000.7 and minute[-1]["bid"] == 2000.8
    assert max(t["bid"] for t in minute) == 2001.2 and min(t["bid"] for t in minute) == 2000.4
    hour = market.candles("XAUUSD", "1h", START + 1, 1)[0]
    assert hour["high"] == max(c["high"] for c in candles[:60]) and hour["close"] == candles[59]["close"]


def test_parquet_candles_with_datetimes_for_a_new_symbol(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    count = 30
    times = (START + 60_000 * np.arange(count)).astype("datetime64[ms]")
    close = 1234.5 + np.arange(count) * 0.5
    table = pa.table({"time": times, "open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close,
                      "real_volume": np.full(count, 2.0)})  # fmt: skip
    path = tmp_path / "myidx.parquet"
    pq.write_table(table, path)
    market = market_at(START + 3_600_000, ReplaySource("MYIDX", path))
    assert "MYIDX" in market.symbols()
    spec = market.specification("MYIDX")
    assert spec["digits"] == 1 and spec["tickSize"] == 0.1
    candles = market.candles("MYIDX", "1m", None, 100)
    assert [c["close"] for c in candles] == close.tolist()
    assert candles[-1]["volume"] == 2.0  # the wire's candle volume is the real volume
    assert market.price("MYIDX")["bid"] == close[-1]


@pytest.mark.parametrize(
    ("content", "column"),
    [
        ("time,price\n2024-03-04T09:00:00Z,1.1\n", "open"),
        ("time,bid\n2024-03-04T09:00:00Z,1.1\n", "'ask'"),
        ("time,bid,ask\nyesterday,1.1,1.2\n", "time"),
        ("time,bid,ask\n2024-03-04T09:00:00Z,1.2,1.1\n", "ask"),
        ("time,bid,ask\n2024-03-04T09:00:00Z,nan,1.1\n", "bid"),
        ("time,bid,ask\n2024-03-04T09:00:00Z,abc,1.1\n", "bid"),
        ("time,bid,ask\n2024-03-04T09:00:01Z,1.1,1.2\n2024-03-04T09:00:00Z,1.1,1.2\n", "time"),
        ("time,open,high,low,close\n2024-03-04T09:00:00Z,1.1,1.0,1.0,1.1\n", "high"),
        ("time,open,high,low,close\n2024-03-04T09:00:30Z,1.1,1.2,1.0,1.1\n", "time"),
        ("time,open,high,low,close,tick_volume\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1,-3\n", "tick_volume"),
        ("time,open,high,low,close,volume\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1,7\n", "'volume' is ambiguous"),
        ("time,bid,ask\n", "rows"),
        ("", "empty"),
    ],
)
def test_bad_files_raise_value_errors_naming_file_and_column(tmp_path: Path, content: str, column: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError) as caught:
        Market(0, replay=[ReplaySource("EURUSD", path)])
    assert "bad.csv" in str(caught.value) and column in str(caught.value)


def test_bad_file_for_a_new_symbol(tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_text("time,bid,ask\n2024-03-04T09:00:00Z,x,1.1\n")
    with pytest.raises(ValueError, match=r"new\.csv: column 'bid'"):
        Market(0, replay=[ReplaySource("NEWSYM", str(path))])  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        Market(0, replay=[ReplaySource("EURUSD", tmp_path / "nothing.csv")])


@pytest.mark.parametrize(
    "stamp",
    ["2024-03-04T09:00:00.250Z", "2024-03-04 11:00:00.250+02:00", "2024-03-04 09:00:00.250", "1709542800250",
     "1709542800.25"],
)  # fmt: skip
def test_time_formats(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "one.csv"
    path.write_text(f"time,bid,ask\n{stamp},1.1,1.1001\n")
    market = market_at(START + 60_000, ReplaySource("EURUSD", path))
    assert market.tick("EURUSD")["time"] == "2024-03-04T09:00:00.250Z"


def m1_file(tmp_path: Path, stamps: list[str]) -> Path:
    """An M1 candle file with one row at each ISO time (prices rising by 0.001 per row)."""
    path = tmp_path / "m1.csv"
    rows = [f"{s},{1.1 + i / 1000:.3f},{1.1 + i / 1000 + 0.0005:.4f},{1.1 + i / 1000:.3f},{1.1 + i / 1000:.3f}"
            for i, s in enumerate(stamps)]  # fmt: skip
    path.write_text("time,open,high,low,close\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("broker", "stamps", "daily", "weekly"),
    [
        # EU summer time ended 2017-10-29 01:00 UTC: that broker day began at 21:00Z (UTC+3) though its only
        # bar (21:00Z) comes after the change (UTC+2)
        ("eu", ["2017-10-27T20:00", "2017-10-29T21:00", "2017-10-30T06:00"],
         ["2017-10-26T21:00", "2017-10-28T21:00", "2017-10-29T22:00"], ["2017-10-22T21:00", "2017-10-29T22:00"]),
        # the same bars on New York close, still on US summer time (UTC+3): Friday, then Monday
        ("ny", ["2017-10-27T20:00", "2017-10-29T21:00", "2017-10-30T06:00"],
         ["2017-10-26T21:00", "2017-10-29T21:00"], ["2017-10-22T21:00", "2017-10-29T21:00"]),
        # US daylight saving ended 2017-11-05 06:00 UTC: that broker day began at 2017-11-04T21:00Z (UTC+3)
        ("ny", ["2017-11-03T20:00", "2017-11-05T21:00", "2017-11-06T06:00"],
         ["2017-11-02T21:00", "2017-11-04T21:00", "2017-11-05T22:00"], ["2017-10-29T21:00", "2017-11-05T22:00"]),
    ],
)  # fmt: skip
def test_a_daily_candle_opens_at_broker_midnight_of_its_own_offset_on_a_clock_change_day(
    tmp_path: Path, broker: str, stamps: list[str], daily: list[str], weekly: list[str]
) -> None:
    """D1, W1 and MN1 candles open at their own broker midnight, at the offset in force then."""
    path = m1_file(tmp_path, [f"{stamp}:00Z" for stamp in stamps])
    market = Market(0, wall_clock=lambda: ms("2017-11-08T12:00:00Z") / 1000, replay=[ReplaySource("EURUSD", path)],
                    broker_clock=broker)  # fmt: skip
    for timeframe, expected in (("1d", daily), ("1w", weekly), ("1mn", None)):
        candles = market.candles("EURUSD", timeframe, None, 10)
        if expected is not None:
            assert [c["time"] for c in candles] == [f"{stamp}:00.000Z" for stamp in expected], timeframe
        assert all(c["brokerTime"].endswith(" 00:00:00.000") for c in candles), timeframe
        assert sum(c["tickVolume"] for c in candles) == 12  # every bar in exactly one candle (4 ticks each)
    assert market.candles("EURUSD", "1mn", None, 10)[0]["brokerTime"].startswith(f"{stamps[0][:7]}-01")


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("time,open,high,low,close\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1\n",
         "row 2 repeats the time of row 1"),
        ("time,open,high,low,close\n2024-03-04T09:01:00Z,1.1,1.2,1.0,1.1\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1\n",
         "row 2 is before row 1"),
        ("time,bid,ask\n2024-03-04T09:00:01Z,1.1,1.2\n2024-03-04T09:00:02Z,1.1,1.2\n2024-03-04T09:00:01Z,1.1,1.2\n",
         "row 3 is before row 2"),
        ("time,bid,ask\n2024-03-04T09:00:01Z,1.1,1.2\n2024-03-04T09:00:01Z,1.1,1.2\n",
         "row 2 repeats the time of row 1 with the same prices"),
    ],
)  # fmt: skip
def test_duplicate_or_unsorted_times_are_refused_and_the_data_dir_is_left_as_it_was(
    tmp_path: Path, content: str, found: str
) -> None:
    data = tmp_path / "box"
    with mtdata.sandbox.start(data_dir=data) as box:
        account = box.account_id
    before = {p: p.read_bytes() for p in sorted(data.rglob("*"))}
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    with pytest.raises(ValidationException) as caught:
        mtdata.sandbox.start(data_dir=data, replay={"EURUSD": bad})
    assert caught.value.details[0]["parameter"] == "replay" and caught.value.details[0]["value"] == str(bad)
    assert "replay" in str(caught.value) and "bad.csv" in str(caught.value) and found in str(caught.value)
    assert {p: p.read_bytes() for p in sorted(data.rglob("*"))} == before
    fresh = tmp_path / "never"
    with pytest.raises(ValidationException):
        mtdata.sandbox.start(data_dir=fresh, replay={"EURUSD": bad})
    assert not fresh.exists()
    with mtdata.sandbox.start(data_dir=data) as box:
        assert box.account_id == account


def test_ticks_sharing_a_millisecond_with_other_prices_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "same_ms.csv"
    path.write_text("time,bid,ask\n2024-03-04T09:00:01Z,1.1,1.2\n2024-03-04T09:00:01Z,1.11,1.2\n")
    market = market_at(START + 60_000, ReplaySource("EURUSD", path))
    assert [t["bid"] for t in all_ticks(market, "EURUSD", 0)] == [1.1, 1.11]
