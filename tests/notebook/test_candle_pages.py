"""Candle page bodies to columns: pyarrow's fast path gives exactly what orjson + ``frames.column`` give."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from mtdata import arguments, candle_pages, frames


def _candle(time: str, **extra: object) -> dict[str, object]:
    return {"symbol": "EURUSD", "timeframe": "1m", "time": time, "brokerTime": "2026-11-19 09:21:00.000",
            "open": 1.05636, "high": 1.0565, "low": 0.1 + 0.2, "close": 1e-300, "tickVolume": 157, "spread": 10,
            "volume": 0.0, **extra}  # fmt: skip


def _same(chunk: dict[str, np.ndarray], rows: list[dict[str, object]]) -> None:
    _same_as(chunk, frames.record_chunk(rows))


def _same_as(chunk: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert list(chunk) == list(expected)
    for name, values in expected.items():
        assert chunk[name].dtype == values.dtype and np.array_equal(
            chunk[name], values, equal_nan=values.dtype.kind == "f"
        ), name
    assert chunk["time"].dtype == np.dtype("datetime64[ms]")


@pytest.mark.parametrize(
    "rows",
    [
        [_candle(f"2026-11-19T07:{m:02d}:00.000Z") for m in range(60)],
        [_candle("2026-11-19T07:21:00.000Z", comment='a "},{" {[x]}', nested={"a": [1, {"b": "}"}]})],
        [_candle("2026-11-19T07:21:00.123+03:00"), _candle("2026-11-19T07:22:00Z")],  # other ISO forms
        [_candle("2026-11-19T07:21:00.1234Z")],  # finer than pyarrow reads into ms: orjson's path
        [_candle("2026-11-19T07:21:00.000Z", tickVolume=3.0)],  # a float where an int is due: orjson's path
        [_candle("2026-11-19T07:21:00.000Z", volume=None)],  # a missing value: orjson's path (NaN)
        [],
        [_candle("2026-11-19T07:21:00.000Z"), _candle("2026-11-19T07:22:00.000Z", comment='a\\"b:c,d}e{f')],
        [_candle("2026-11-19T07:21:00.000Z"), dict(reversed(_candle("2026-11-19T07:22:00.000Z").items()))],
        [{"open": 2.5, **_candle("2026-11-19T07:21:00.000Z")}] * 3,  # another key order, the same in every record
        [_candle("2026-11-19T07:21:00.000Z"), {**_candle("2026-11-19T07:22:00.000Z"), "open": "1.5"}],
    ],
)
def test_page_bodies_convert_as_records_do(rows: list[dict[str, object]]) -> None:
    for body in (orjson.dumps(rows), orjson.dumps(rows, option=orjson.OPT_INDENT_2)):
        _same(frames.candle_chunk(body), rows)


def test_plain_pages_are_read_as_csv_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["x", 'a\\"b', "c:d,e{f[g]", "\\", "é\u2028\n", ""]  # strings never split a row, whatever they hold
    rows = [_candle(f"2026-11-19T07:{m:02d}:00.000Z", comment=texts[m % len(texts)]) for m in range(60)]
    expected = frames.record_chunk(rows)
    monkeypatch.setattr(frames, "record_chunk", None)  # orjson's path is not taken
    _same_as(frames.candle_chunk(orjson.dumps(rows)), expected)


def test_peek_reads_the_cursor_of_a_page_without_converting_it() -> None:
    page = orjson.dumps([_candle(f"2026-11-19T07:{m:02d}:00.000Z") for m in range(3)])
    assert candle_pages.peek(page) == (arguments.to_ms(datetime(2026, 11, 19, 7, tzinfo=UTC)), False)
    assert candle_pages.peek(page[:1] + b",".join([page[1:-1]] * 400) + b"]")[1]  # 1,200 records: a full page
    nested = orjson.dumps([_candle("2026-11-19T07:00:00.000Z", nested={"a": 1})])
    assert candle_pages.peek(b"[]") is candle_pages.peek(nested) is candle_pages.peek(b'[{"time": 5}]') is None
    seven = arguments.to_ms(datetime(2026, 11, 19, 7, tzinfo=UTC))
    assert candle_pages.head(frames.candle_chunk(nested)) == (seven, False)
    assert candle_pages.head(frames.candle_chunk(b"[]")) == (0, False)


def test_a_page_without_a_field_fails_as_before() -> None:
    row = _candle("2026-11-19T07:21:00.000Z")
    del row["spread"]
    with pytest.raises(KeyError):
        frames.candle_chunk(orjson.dumps([row]))


def test_trim_keeps_the_closed_range_in_epoch_ms() -> None:
    chunk = frames.candle_chunk(orjson.dumps([_candle(f"2026-11-19T07:{m:02d}:00.000Z") for m in range(10)]))
    opens = candle_pages.stamps(chunk)
    kept = candle_pages.trim(chunk, int(opens[2]), int(opens[5]))
    assert candle_pages.stamps(kept).tolist() == opens[2:6].tolist() and len(kept["open"]) == 4
    assert len(candle_pages.trim(chunk, int(opens[2]) + 1, int(opens[3]) - 1)["time"]) == 0
    moment = arguments.at_ms(int(opens[7]) - 1)
    assert arguments.to_ms(moment) == int(opens[7]) - 1 and moment.microsecond % 1000 == 0
