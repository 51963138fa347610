"""Readahead of backwards candle downloads: the next page is served from a page built ahead, never a stale one."""

from __future__ import annotations

import orjson

from mtdata.sandbox.market import Market
from mtdata.sandbox.rest.readahead import CandlePages
from mtdata.sandbox.timeutil import parse_iso_ms

NOW = 1_795_000_000.0  # a Tuesday afternoon (UTC), FX open


def test_read_ahead_page_is_the_page_a_fresh_request_gets() -> None:
    market = Market(4, wall_clock=lambda: NOW)
    pages = CandlePages(market)
    body, next_end = pages.page("EURUSD", "1m", None, 500)
    assert next_end == parse_iso_ms(orjson.loads(body)[0]["time"], "time") - 1
    pages.read_ahead("EURUSD", "1m", next_end, 500)
    ahead, _ = pages.page("EURUSD", "1m", next_end, 500)
    assert ahead == orjson.dumps(Market(4, wall_clock=lambda: NOW).candles("EURUSD", "1m", next_end, 500))
    assert not pages._pages  # taken, not kept twice


def test_a_forced_path_is_never_met_by_a_page_read_before_it() -> None:
    market = Market(4, wall_clock=lambda: NOW)
    pages = CandlePages(market)
    _, next_end = pages.page("EURUSD", "1m", None, 200)
    assert next_end is not None
    pages.read_ahead("EURUSD", "1m", next_end, 200)
    start = next_end - 60 * 60_000
    market.force_path("EURUSD", [(start + i * 1000, 1.5, 1.5002) for i in range(60)])
    body, _ = pages.page("EURUSD", "1m", next_end, 200)
    candles = orjson.loads(body)
    assert any(c["open"] == 1.5 for c in candles)
    assert body == orjson.dumps(market.candles("EURUSD", "1m", next_end, 200))


def test_a_short_page_has_no_next_page() -> None:
    market = Market(4, wall_clock=lambda: NOW)
    first_hour = 1_577_836_800_000 - 2 * 3_600_000 + 3_600_000  # history starts on 2020-01-01 (broker time)
    _, next_end = CandlePages(market).page("EURUSD", "1m", first_hour, 1000)
    assert next_end is None
