"""A closed market says so: sessions on a sandbox pinned to a Saturday and to a Wednesday (issue 16 item 5).

The repr and ``symbols()`` name the closed markets, Friday's quote comes back ``stale`` (and so in the ticker),
and latency statistics leave out prices re-sent from a closed session (the weekend's length is no latency).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from live_frontend import Frontend
from test_market_panels import until

import mtdata
from mtdata.errors import ValidationException

SATURDAY, WEDNESDAY = "2026-11-21T12:00:00Z", "2026-11-18T12:00:00Z"
FRIDAY_CLOSE_UTC = pd.Timestamp("2026-11-20T21:55:00Z")  # 23:55 broker time (UTC+2 in November)


@pytest.fixture(scope="module", params=[SATURDAY, WEDNESDAY], ids=["saturday", "wednesday"])
def session(request: pytest.FixtureRequest) -> Iterator[mtdata.Session]:
    with mtdata.connect(progress=False, sandbox={"start": request.param}) as opened:
        yield opened


def weekend(session: mtdata.Session) -> bool:
    """True for the session on the Saturday sandbox."""
    return session.sandbox.config.start_ms == pd.Timestamp(SATURDAY).value // 10**6  # type: ignore[union-attr]


def test_symbols_say_which_markets_are_open_and_when_they_next_open_and_close(session: mtdata.Session):
    frame = session.symbols()
    assert list(frame.columns[:3]) == ["market_open", "next_open", "next_close"]
    assert frame.index.name == "symbol" and "digits" in frame.columns and len(frame) > 20
    assert str(frame["next_open"].dtype) == "datetime64[ms, UTC]"
    fx, crypto = frame.loc["EURUSD"], frame.loc["BTCUSD"]
    assert crypto["market_open"] and pd.isna(crypto["next_open"]) and pd.isna(crypto["next_close"])
    if weekend(session):
        assert not fx["market_open"]
        assert fx["next_open"] == pd.Timestamp("2026-11-22T22:00:00Z")  # Monday 00:00 broker time
        assert fx["next_close"] == FRIDAY_CLOSE_UTC + pd.Timedelta(days=7)
        assert not frame.loc[frame.index.str.match(r"^(EUR|GBP|USD)[A-Z]{3}$"), "market_open"].any()
    else:
        assert frame["market_open"].all()
        assert pd.isna(fx["next_open"]) and fx["next_close"] == FRIDAY_CLOSE_UTC


def test_price_marks_fridays_quote_stale_on_a_weekend(session: mtdata.Session):
    prices = session.price(["EURUSD", "BTCUSD"]).set_index("symbol")
    assert prices["stale"].dtype == bool
    assert bool(prices.loc["EURUSD", "stale"]) is weekend(session)
    assert not prices.loc["BTCUSD", "stale"]
    if weekend(session):
        assert prices.index[0] == "EURUSD" and session.price("EURUSD").index[0] <= FRIDAY_CLOSE_UTC


def test_the_repr_names_the_closed_markets(session: mtdata.Session):
    session.connection()
    text = repr(session)
    if weekend(session):
        assert "markets: 2 of 24 open; closed: EURUSD, GBPUSD" in text
    else:
        assert "markets: all 24 open" in text
    assert "markets" in session._repr_html_()


def test_latency_leaves_out_prices_from_a_closed_session(session: mtdata.Session):
    session.price(["EURUSD", "BTCUSD"])
    latency = session.latency()
    broker = latency.query("kind == 'price' and latency == 'brokerLatency' and window == '1h'")
    worst = broker.set_index("statistic")["value"]["max"]
    assert worst < 60_000  # Friday's quote re-sent on Saturday would count the weekend (> 14 hours)
    assert broker.set_index("statistic")["value"]["count"] >= 1  # BTCUSD's prices still count


def test_symbols_is_blocking_and_async(session: mtdata.Session):
    frame = asyncio.run(session.symbols_async())
    assert frame.index.equals(session.symbols().index)


async def test_the_ticker_says_stale_for_a_closed_market(session: mtdata.Session, frontend: Frontend):
    ticker = session.panel.ticker(["EURUSD", "BTCUSD"])
    try:
        await until(lambda: set(ticker.values()) == {"EURUSD", "BTCUSD"} and "EURUSD" in ticker._watch.stale)
        await until(lambda: ticker.values()["EURUSD"]["stale"] is weekend(session))
        assert ticker.values()["BTCUSD"]["stale"] is False
        assert ("stale (market closed)" in ticker.html) is weekend(session)
    finally:
        ticker.close()


def test_a_live_quote_says_stale_for_a_closed_market(session: mtdata.Session):
    q = session.live.quote("EURUSD")
    try:
        deadline = time.monotonic() + 30
        while q.stale is None:
            assert time.monotonic() < deadline, "no staleness answer in time"
            time.sleep(0.02)
        assert q.stale is weekend(session) and q.bid is not None
    finally:
        q.close()


def test_a_bad_symbol_is_still_refused(session: mtdata.Session):
    with pytest.raises(ValidationException, match="symbols"):
        session.price("NOPE")
