"""Session.candles / ticks against the sandbox's own data over REST: columns, dtypes, index, values, page edges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest

import mtdata
from mtdata import candle_pages
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

from .conftest import rest_candles

CANDLE_COLUMNS = ["symbol", "open", "high", "low", "close", "tick_volume", "spread", "real_volume", "broker_time"]
CANDLE_DTYPES = ["category", "float64", "float64", "float64", "float64", "int64", "int64", "float64", "datetime64[ms]"]


def _expected(rows: list[dict]) -> pd.DataFrame:
    """The wire candles as the frame Session.candles must give (built independently, row by row)."""
    frame = pd.DataFrame(rows)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("time"), utc=True), name="time").as_unit("ms")
    frame = frame.rename(columns={"tickVolume": "tick_volume", "volume": "real_volume",
                                  "brokerTime": "broker_time"})[CANDLE_COLUMNS]  # fmt: skip
    frame["broker_time"] = pd.to_datetime(frame["broker_time"]).astype("datetime64[ms]")  # naive broker wall clock
    return frame.astype({"symbol": "category", "tick_volume": "int64", "spread": "int64"})


def test_frame_matches_the_wire(session: Session, box: SandboxHandle) -> None:
    frame = session.candles("EURUSD", "1h", limit=5)
    assert list(frame.columns) == CANDLE_COLUMNS
    assert [str(t) for t in frame.dtypes] == CANDLE_DTYPES
    assert str(frame.index.dtype) == "datetime64[ms, UTC]" and frame.index.name == "time"
    assert frame.attrs["timeframe"] == "1h"
    end = frame.index[-1].isoformat().replace("+00:00", "Z")
    wire = httpx.get(f"{box.url}/users/current/accounts/{box.account_id}/historical-market-data/symbols/EURUSD"
                     "/timeframes/1h/candles", params={"limit": 5, "startTime": end},
                     headers={"auth-token": box.token}).json()  # fmt: skip
    pd.testing.assert_frame_equal(frame.iloc[:-1], _expected(wire).iloc[:-1])  # the newest is still moving


@pytest.mark.parametrize(
    ("timeframe", "start", "end"),
    [
        ("1m", "2026-11-05T10:17:00.000Z", "2026-11-12T03:04:59.999Z"),  # 8 pages, a weekend inside
        ("4h", "2025-01-01T00:00:00.000Z", "2026-11-01T00:00:00.000Z"),  # daylight saving changes the step
        ("1d", "2020-01-01T00:00:00.000Z", "2026-11-17T00:00:00.000Z"),  # from the start of history
    ],
)
def test_multi_page_ranges_have_no_duplicate_and_no_hole(
    session: Session, box: SandboxHandle, timeframe: str, start: str, end: str
) -> None:
    frame = session.candles("EURUSD", timeframe, start, end)
    truth = rest_candles(box, "EURUSD", timeframe, start, end)
    assert len(truth) > 1000
    assert not frame.index.duplicated().any() and frame.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(frame, _expected(truth))


def test_open_ended_and_limited_requests(session: Session, box: SandboxHandle) -> None:
    newest = session.candles("GBPUSD", "1m", limit=2500)
    assert len(newest) == 2500
    first = newest.index[0].isoformat(timespec="milliseconds").replace("+00:00", "Z")
    last = newest.index[-1].isoformat(timespec="milliseconds").replace("+00:00", "Z")
    pd.testing.assert_frame_equal(newest.iloc[:-1], _expected(rest_candles(box, "GBPUSD", "1m", first, last)))
    since = session.candles("GBPUSD", "1m", start=newest.index[0])
    pd.testing.assert_frame_equal(since.iloc[:2499], newest.iloc[:2499])
    tail = session.candles("GBPUSD", "1m", start=newest.index[0], end=newest.index[-1], limit=10)
    pd.testing.assert_frame_equal(tail, newest.iloc[-11:-1])


def test_many_symbols_share_one_frame(session: Session) -> None:
    frame = session.candles(["EURUSD", "XAUUSD", "BTCUSD"], "1h", date(2026, 11, 13), date(2026, 11, 17))
    assert list(frame["symbol"].cat.categories) == ["EURUSD", "XAUUSD", "BTCUSD"]
    assert frame.index.is_monotonic_increasing
    counts = frame["symbol"].value_counts()
    assert counts["BTCUSD"] == 4 * 24  # crypto trades through the weekend; the range ends before Nov 17
    assert counts["EURUSD"] < counts["BTCUSD"]
    gaps = {symbol for symbol, *_ in frame.attrs["gaps"]}
    assert "EURUSD" in gaps and "BTCUSD" not in gaps  # the FX weekend is reported, not filled
    single = session.candles("EURUSD", "1h", date(2026, 11, 13), date(2026, 11, 17))
    assert list(single["symbol"].cat.categories) == ["EURUSD"]
    pd.testing.assert_frame_equal(
        frame[frame["symbol"] == "EURUSD"].assign(symbol=lambda f: f["symbol"].cat.set_categories(["EURUSD"])), single
    )


def test_xarray_dims_time_and_symbol(session: Session) -> None:
    data = session.candles(["EURUSD", "BTCUSD"], "1h", "2026-11-13", "2026-11-17", as_xarray=True)
    assert data["close"].dims == ("time", "symbol")
    assert list(data["symbol"].values) == ["BTCUSD", "EURUSD"] or list(data["symbol"].values) == ["EURUSD", "BTCUSD"]
    assert data["time"].dtype == np.dtype("datetime64[ms]") or str(data["time"].dtype).startswith("datetime64")
    assert data["time"].attrs["timezone"] == "UTC"
    assert np.isnan(
        data["close"].sel(symbol="EURUSD", time="2026-11-15T12:00")
    ).item()  # weekend: missing, not invented
    frame = session.candles(["EURUSD", "BTCUSD"], "1h", "2026-11-13", "2026-11-17")
    same = mtdata.to_xarray(frame)
    assert same.equals(data)


def test_empty_ranges_give_typed_empty_frames(session: Session) -> None:
    frame = session.candles("EURUSD", "1m", "2026-11-14T10:00:00Z", "2026-11-14T11:00:00Z")  # a Saturday
    assert frame.empty and list(frame.columns) == CANDLE_COLUMNS
    assert [str(t) for t in frame.dtypes] == CANDLE_DTYPES and str(frame.index.dtype) == "datetime64[ms, UTC]"
    ticks = session.ticks("EURUSD", "2026-11-14T10:00:00Z", "2026-11-14T11:00:00Z")
    assert ticks.empty and list(ticks.columns) == ["symbol", "bid", "ask", "last", "volume", "side", "broker_time"]


def test_bulk_pages_ask_again_through_the_sdk_client_unless_answered_200(session: Session, box: SandboxHandle) -> None:
    asked: list[tuple[str, int]] = []

    async def fallback(symbol: str, tf: str, end: datetime | None, limit: int) -> bytes:
        asked.append((symbol, limit))
        return b"[]"

    async def pages() -> list[bytes]:
        async with candle_pages.BulkPages(session.metatrader_account, fallback, 2) as bulk:
            bodies = [await bulk("EURUSD", "1m", datetime(2026, 11, 17, tzinfo=UTC), 5)]
            box.server.faults.add_rate_limit(1, 0.2, "rest")
            bodies.append(await bulk("EURUSD", "1m", None, 5))
            bodies.append(await bulk("NOPE", "1m", None, 5))  # 404
            return bodies

    bodies = session.run(pages())
    assert [row["time"] for row in orjson.loads(bodies[0])][-1] == "2026-11-17T00:00:00.000Z"
    assert bodies[1:] == [b"[]", b"[]"] and asked == [("EURUSD", 5), ("NOPE", 5)]


def test_bulk_pages_trust_proxy_settings_only_when_the_environment_has_some(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def trusted() -> bool:
        account = session.metatrader_account
        async with candle_pages.BulkPages(account, candle_pages.candle_fetcher(account), 2) as bulk:
            await bulk("EURUSD", "1h", None, 1)
            return bulk._session.trust_env

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert session.run(trusted()) is False
    monkeypatch.setenv("NO_PROXY", "*")  # a proxy is set, but not for the sandbox on loopback
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert session.run(trusted()) is True


def test_429s_are_honoured(session: Session, box: SandboxHandle) -> None:
    box.server.faults.add_rate_limit(3, 0.2, "rest")
    frame = session.candles("USDJPY", "1m", "2026-11-16T00:00:00Z", "2026-11-17T12:00:00Z")
    truth = rest_candles(box, "USDJPY", "1m", "2026-11-16T00:00:00.000Z", "2026-11-17T12:00:00.000Z")
    pd.testing.assert_frame_equal(frame, _expected(truth))
    assert not box.server.faults.rate_limits


def test_ticks_match_the_wire(session: Session, box: SandboxHandle) -> None:
    frame = session.ticks("EURUSD", "2026-11-17T06:30:00Z", "2026-11-17T08:15:00Z")
    rows, cursor, offset = [], "2026-11-17T06:30:00.000Z", 0
    with httpx.Client(base_url=box.url, headers={"auth-token": box.token}) as http:
        while True:
            path = f"/users/current/accounts/{box.account_id}/historical-market-data/symbols/EURUSD/ticks"
            page = http.get(path, params={"startTime": cursor, "offset": offset, "limit": 1000}).json()
            rows += [t for t in page if t["time"] < "2026-11-17T08:15:00.000Z"]
            if len(page) < 1000 or page[-1]["time"] >= "2026-11-17T08:15:00.000Z":
                break
            same = sum(1 for t in page if t["time"] == page[-1]["time"])
            offset, cursor = (offset + same if page[-1]["time"] == cursor else same), page[-1]["time"]
    assert len(frame) == len(rows) > 2000
    assert list(frame.columns) == ["symbol", "bid", "ask", "last", "volume", "side", "broker_time"]
    assert str(frame["side"].dtype) == "category" and str(frame.index.dtype) == "datetime64[ms, UTC]"
    np.testing.assert_array_equal(frame["bid"].to_numpy(), [t["bid"] for t in rows])
    expected = pd.to_datetime([t["time"] for t in rows], utc=True).as_unit("ms")
    np.testing.assert_array_equal(frame.index.asi8, expected.asi8)
    assert frame["last"].isna().all()
    np.testing.assert_array_equal(frame["broker_time"].to_numpy(),
                                  pd.to_datetime([t["brokerTime"] for t in rows]).as_unit("ms").to_numpy())  # fmt: skip


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda s: s.candles("NOPE", "1h"), "symbols"),
        (lambda s: s.candles("NOPE", "1m", "2026-11-02", "2026-11-06"), "symbols"),  # pages in bulk
        (lambda s: s.candles(["EURUSD", ""], "1h"), "symbols"),
        (lambda s: s.candles(42, "1h"), "symbols"),
        (lambda s: s.candles("EURUSD", "7m"), "timeframe"),
        (lambda s: s.candles("EURUSD", "1h", "2026-11-10", "2026-11-01"), "start"),
        (lambda s: s.candles("EURUSD", "1h", datetime(2026, 11, 1)), "start"),
        (lambda s: s.candles("EURUSD", "1h", "2026-11-01", "yesterday"), "end"),
        (lambda s: s.candles("EURUSD", "1h", 12345), "start"),
        (lambda s: s.candles("EURUSD", "1m", "1971-01-01"), "start"),
        (lambda s: s.candles("EURUSD", "1h", "1900-01-01"), "start"),
        (lambda s: s.candles("EURUSD", "1h", limit=0), "limit"),
        (lambda s: s.candles("EURUSD", "1h", as_xarray="yes"), "as_xarray"),
        (lambda s: s.ticks("EURUSD", None), "start"),
        (lambda s: s.ticks("NOPE", "2026-11-17T06:30:00Z"), "symbol"),
        (lambda s: s.ticks("EURUSD", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"), "end"),
        (lambda s: s.ticks("EURUSD", datetime(2026, 11, 17, tzinfo=UTC), datetime(2026, 11, 17, 1)), "end"),
    ],
)
def test_bad_input_names_the_argument(session: Session, call, argument: str) -> None:
    with pytest.raises(ValidationException) as caught:
        call(session)
    assert caught.value.details[0]["parameter"] == argument
    assert argument in str(caught.value)


def test_mt5_timeframe_names_are_accepted(session: Session) -> None:
    assert session.candles("EURUSD", "H1", limit=3).attrs["timeframe"] == "1h"
