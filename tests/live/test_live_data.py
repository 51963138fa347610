"""Live data objects on a real sandbox session: ``s.live.quote`` and ``s.live.candles`` follow the market on the
panels' feed, call back on the caller's loop, share subscriptions with panels, close with the session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pandas as pd
import pytest
from live_frontend import Frontend
from test_feed import FAST_MARKET, kinds, wait_for
from test_market_panels import until

import mtdata
from mtdata.live import Stream
from mtdata.symbol_names import UnknownSymbol


@pytest.fixture(scope="module")
def session() -> Iterator[mtdata.Session]:
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as opened:
        yield opened


def test_a_quote_updates_in_place_from_a_script(session: mtdata.Session):
    q = session.live.quote("eurusd")  # the account's EURUSD
    try:
        # the feed moves the quote on, on the session's thread: bid and ask read one by one could be of two quotes,
        # values() reads one quote's
        now = q.values()
        assert q.symbol == "EURUSD" and now["ask"] > now["bid"] and now["spread"] == round(now["ask"] - now["bid"], 10)
        assert set(now) == {"bid", "ask", "spread", "time", "broker_time"} and now["broker_time"] is not None
        first, seen = q.time, []
        q.on_update(lambda quote: seen.append((quote.bid, quote.ask, threading.current_thread().name)))
        wait_for(lambda: q.time is not None and first is not None and q.time > first and seen)
        bid, ask, thread = seen[-1]
        assert ask > bid and thread == "mtdata-session"  # made outside any loop: called on the session's loop
        price = session.price("EURUSD").iloc[0]
        assert abs(price["bid"] - q.bid) < 0.01  # the same market
    finally:
        q.close()
    assert q.closed and Stream("quotes", "EURUSD") not in session.panel.feed.streams
    assert q.spread == round(q.ask - q.bid, 10)  # type: ignore[operator]  # closed: still, so one quote's three values
    assert q.values() == {"bid": q.bid, "ask": q.ask, "spread": q.spread, "time": q.time, "broker_time": q.broker_time}


def test_candles_df_is_the_history_and_the_forming_candle(session: mtdata.Session):
    bars = session.live.candles("EURUSD", "1m", count=30)
    try:
        start = bars.df
        assert len(start) == 30 and start.attrs["timeframe"] == "1m"
        wait_for(lambda: bars.df.index[-1] >= start.index[-1] + pd.Timedelta(minutes=3))  # speed 60: a minute a second
        wait_for(lambda: not bars._settling)  # the closed candles read again (see LiveCandles)
        frame = bars.df
        assert len(frame) == 30 and frame.index.is_monotonic_increasing and frame.index.is_unique
        assert frame.dtypes.to_dict() == start.dtypes.to_dict() and list(frame["symbol"].unique()) == ["EURUSD"]
        served = session.candles("EURUSD", "1m", start=frame.index[0], end=frame.index[-1])
        columns = ["open", "high", "low", "close", "tick_volume", "broker_time"]
        # every closed candle as the server keeps it: the history's (its forming one included) and the ones closed
        # live, whose last ticks may have come with the next candle (all but the newest, which may still settle)
        pd.testing.assert_frame_equal(frame.iloc[:-2][columns], served.iloc[:-1][columns], check_freq=False)
        assert bars.forming.name == frame.index[-1]
    finally:
        bars.close()


async def test_callbacks_run_on_the_loop_that_made_the_object(session: mtdata.Session, frontend: Frontend):
    bars = session.live.candles("GBPUSD", "1m", count=5)
    ticker = session.panel.ticker("GBPUSD")
    calls: list[tuple[str, int]] = []
    bars.on_update(lambda b: calls.append((threading.current_thread().name, len(b.df))))
    try:
        await until(lambda: len(calls) >= 3)
        assert {name for name, _ in calls} == {threading.current_thread().name} and {n for _, n in calls} == {5}
        assert kinds(session, "GBPUSD") == [("candles", "1m"), ("quotes", None)]  # one each, panel and object
        assert session.panel.feed.streams[Stream("candles", "GBPUSD", "1m")] == 1
    finally:
        bars.close()
        ticker.close()


def test_a_bad_symbol_is_refused_with_the_closest_names(session: mtdata.Session):
    with pytest.raises(UnknownSymbol, match="did you mean EURUSD"):
        session.live.quote("EURUSDX")
    assert session.panel.feed.streams.get(Stream("quotes", "EURUSDX")) is None


def test_everything_live_closes_with_the_session():
    with mtdata.connect(sandbox=FAST_MARKET, progress=False) as other:
        q, bars = other.live.quote("USDJPY"), other.live.candles("USDJPY", "5m", count=3)
        assert other.live.open == [q, bars] or set(other.live.open) == {q, bars}
    assert q.closed and bars.closed and other.live.open == []
    assert asyncio.run(asyncio.sleep(0, result=True))  # no loop left blocked
