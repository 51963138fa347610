"""Invariants of the simulated market: aggregation, ticks inside candles, sessions, spreads, books, determinism."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtdata.errors import ValidationException
from mtdata.sandbox.errors import NotFoundError, ValidationError
from mtdata.sandbox.market import Market
from mtdata.timeframes import MT5_TIMEFRAMES

NOW = datetime(2026, 3, 4, 15, 30, 12, 345000, tzinfo=UTC).timestamp()  # a Wednesday afternoon
DAY = 86_400_000
SYMBOLS = ["EURUSD", "USDJPY", "EURGBP", "XAUUSD", "US30", "GER40", "BTCUSD"]
PAIRS = [("1m", "5m"), ("1m", "1h"), ("2m", "6m"), ("3m", "12m"), ("5m", "15m"), ("20m", "1h"), ("1h", "4h"),
         ("2h", "6h"), ("3h", "12h"), ("1h", "1d"), ("4h", "1d"), ("1d", "1w"), ("1d", "1mn")]  # fmt: skip


def frozen(seed: int = 0, at: float = NOW, **kwargs) -> Market:
    """A market whose clock stands still at ``at``."""
    return Market(seed, wall_clock=lambda: at, **kwargs)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def check_aggregate(parent: dict, children: list[dict]) -> None:
    assert children, parent
    assert parent["open"] == children[0]["open"]
    assert parent["close"] == children[-1]["close"]
    assert parent["high"] == max(c["high"] for c in children)
    assert parent["low"] == min(c["low"] for c in children)
    assert parent["tickVolume"] == sum(c["tickVolume"] for c in children)
    assert parent["spread"] == min(c["spread"] for c in children)
    assert parent["volume"] == pytest.approx(sum(c["volume"] for c in children))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    symbol=st.sampled_from(SYMBOLS),
    pair=st.sampled_from(PAIRS),
    end=st.integers(ms("2020-03-01T00:00:00Z"), int(NOW * 1000)),
)
def test_higher_timeframes_aggregate_lower_ones(seed: int, symbol: str, pair: tuple[str, str], end: int) -> None:
    assert_aggregates(frozen(seed), symbol, *pair, end)


@pytest.mark.parametrize("end", ["2025-10-26T06:00:00Z", "2025-03-30T06:00:00Z"])
@pytest.mark.parametrize("pair", [("1m", "5m"), ("5m", "1h"), ("1m", "1h"), ("1h", "4h"), ("1h", "1d"), ("1d", "1w")])
def test_aggregation_holds_across_summer_time_changes(pair: tuple[str, str], end: str) -> None:
    """At the autumn change the repeated broker hour is one two-hour H1 candle (buckets follow the wall clock)."""
    assert_aggregates(frozen(), "BTCUSD", *pair, ms(end))


def assert_aggregates(market: Market, symbol: str, lower: str, higher: str, end: int) -> None:
    parents = market.candles(symbol, higher, end, 3)
    assert 1 <= len(parents) <= 3
    minutes = MT5_TIMEFRAMES[higher]
    span = {"1w": 7 * DAY, "1mn": 31 * DAY}.get(higher, minutes * 60_000 + (3_600_000 if minutes >= 60 else 0))
    for parent in parents:
        start = ms(parent["time"])
        children = [c for c in market.candles(symbol, lower, start + span - 1, 1000)
                    if ms(c["time"]) >= start and bucket(c, higher) == bucket(parent, higher)]  # fmt: skip
        check_aggregate(parent, children)


def bucket(candle: dict, timeframe: str) -> object:
    """The broker-clock bucket of a candle for a timeframe, computed from its ``brokerTime`` string."""
    local = datetime.fromisoformat(candle["brokerTime"])
    if timeframe == "1mn":
        return local.year, local.month
    if timeframe == "1w":
        return (local.date() - timedelta(days=local.weekday())).isoformat()
    minutes = MT5_TIMEFRAMES[timeframe]
    return local.date().isoformat(), (local.hour * 60 + local.minute) // minutes


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), symbol=st.sampled_from(SYMBOLS), end=st.integers(ms("2020-01-06T00:00:00Z"),
                                                                                       int(NOW * 1000)))  # fmt: skip
def test_ticks_stay_inside_their_minute(seed: int, symbol: str, end: int) -> None:
    market = frozen(seed)
    scale = 10 ** market.specification(symbol)["digits"]
    for minute in market.candles(symbol, "1m", end, 2):
        start = ms(minute["time"])
        ticks = [t for t in market.ticks(symbol, start, 0, 1000) if ms(t["time"]) < start + 60_000]
        assert len(ticks) == minute["tickVolume"] >= 4
        assert ticks[0]["bid"] == minute["open"] and ticks[-1]["bid"] == minute["close"]
        assert max(t["bid"] for t in ticks) == minute["high"] and min(t["bid"] for t in ticks) == minute["low"]
        assert all(t["ask"] >= t["bid"] for t in ticks)
        assert min(round((t["ask"] - t["bid"]) * scale) for t in ticks) == minute["spread"]
        assert [t["time"] for t in ticks] == sorted(t["time"] for t in ticks)


def test_same_seed_same_prices_different_seed_different_prices() -> None:
    a, b, c = frozen(7), frozen(7), frozen(8)
    for symbol in ("EURUSD", "BTCUSD"):
        assert a.candles(symbol, "1m", None, 500) == b.candles(symbol, "1m", None, 500)
        assert a.candles(symbol, "1d", None, 100) == b.candles(symbol, "1d", None, 100)
        start = int(NOW * 1000) - 3_600_000
        assert a.ticks(symbol, start, 0, 1000) == b.ticks(symbol, start, 0, 1000)
        assert a.candles(symbol, "1m", None, 50) != c.candles(symbol, "1m", None, 50)
        assert a.price(symbol) == b.price(symbol)


def test_known_values_are_stable_across_machines() -> None:
    """Golden values: numpy's PCG64 streams and seeds from crc32 are platform independent. A change here
    means the process changed and every user's seeded history with it."""
    first = frozen(0).candles("EURUSD", "1d", ms("2020-01-03T00:00:00Z"), 1)[0]
    assert first == {"symbol": "EURUSD", "timeframe": "1d", "time": "2020-01-02T22:00:00.000Z",
                     "brokerTime": "2020-01-03 00:00:00.000", "open": 1.11824, "high": 1.11976, "low": 1.10827,
                     "close": 1.10936, "tickVolume": 220876, "spread": 6, "volume": 0.0}  # fmt: skip
    tick = frozen(0).ticks("BTCUSD", ms("2024-05-05T00:00:00Z"), 1, 1)[0]
    assert (tick["time"], tick["bid"], tick["ask"]) == ("2024-05-05T00:00:05.518Z", 7123.89, 7151.2)


def test_history_covers_two_years_at_every_timeframe() -> None:
    market = frozen()
    two_years_ago = int(NOW * 1000) - 2 * 365 * DAY
    for timeframe in ("1m", "2m", "3m", "4m", "6m", "10m", "30m", "2h", "8h", "12h", "1d", "1w", "1mn"):
        candles = market.candles("EURUSD", timeframe, two_years_ago, 10)
        assert len(candles) == 10, timeframe
        assert all(candles[i]["time"] < candles[i + 1]["time"] for i in range(9))
        assert ms(candles[-1]["time"]) <= two_years_ago
    assert market.candles("EURUSD", "1d", ms("2019-06-01T00:00:00Z"), 10) == []
    assert market.candles("EURUSD", "1mn", None, 1000)[0]["brokerTime"] == "2020-01-01 00:00:00.000"


def test_candles_align_to_the_broker_clock() -> None:
    market = frozen()
    for candle in market.candles("BTCUSD", "1d", None, 300):
        assert candle["brokerTime"].endswith(" 00:00:00.000")
    for candle in market.candles("BTCUSD", "1w", None, 60):
        assert datetime.fromisoformat(candle["brokerTime"]).weekday() == 0
        assert candle["brokerTime"].endswith(" 00:00:00.000")
    for candle in market.candles("EURUSD", "1mn", None, 30):
        assert candle["brokerTime"][8:] == "01 00:00:00.000"
    for candle in market.candles("BTCUSD", "4h", None, 500):
        assert int(candle["brokerTime"][11:13]) % 4 == 0 and candle["brokerTime"].endswith(":00:00.000")
    for candle in market.candles("EURUSD", "12m", None, 300):
        assert int(candle["brokerTime"][14:16]) % 12 == 0


def test_broker_clock_is_new_york_close_by_default_and_eet_like_as_an_option() -> None:
    market, eu = frozen(), frozen(broker_clock="eu")
    for clocked in (market, eu):
        assert clocked.broker_time(ms("2024-01-15T10:00:00.123Z")) == "2024-01-15 12:00:00.123"
        assert clocked.broker_time(ms("2024-07-15T10:00:00.000Z")) == "2024-07-15 13:00:00.000"
    # New York close: US daylight saving, 2024-03-10 07:00 UTC to 2024-11-03 06:00 UTC (broker 00:00 = NY 17:00)
    assert market.broker_time(ms("2024-03-10T06:59:59.999Z")) == "2024-03-10 08:59:59.999"
    assert market.broker_time(ms("2024-03-10T07:00:00.000Z")) == "2024-03-10 10:00:00.000"
    assert market.broker_time(ms("2024-03-31T01:00:00.000Z")) == "2024-03-31 04:00:00.000"
    assert market.broker_time(ms("2024-11-01T21:00:00.000Z")) == "2024-11-02 00:00:00.000"
    assert market.broker_time(ms("2024-11-03T06:00:00.000Z")) == "2024-11-03 08:00:00.000"
    # EU summer time: 2024-03-31 01:00 UTC to 2024-10-27 01:00 UTC
    assert eu.broker_time(ms("2024-03-10T07:00:00.000Z")) == "2024-03-10 09:00:00.000"
    assert eu.broker_time(ms("2024-03-31T00:59:59.999Z")) == "2024-03-31 02:59:59.999"
    assert eu.broker_time(ms("2024-03-31T01:00:00.000Z")) == "2024-03-31 04:00:00.000"
    assert eu.broker_time(ms("2024-11-01T21:00:00.000Z")) == "2024-11-01 23:00:00.000"
    for clocked in (market, eu):
        candle = clocked.candles("EURUSD", "1m", None, 1)[0]
        assert clocked.broker_time(ms(candle["time"])) == candle["brokerTime"]
    with pytest.raises(ValidationException, match="broker_clock") as caught:
        frozen(broker_clock="tokyo")
    assert caught.value.details[0]["parameter"] == "broker_clock"


def test_fx_is_closed_at_weekends_and_crypto_is_not() -> None:
    market = frozen()
    saturday = ms("2026-02-28T12:00:00Z")
    assert not market.in_quote_session("EURUSD", saturday) and market.in_quote_session("BTCUSD", saturday)
    assert not market.in_trade_session("US30", saturday) and market.in_trade_session("EURUSD", saturday + 2 * DAY)
    for symbol in ("EURUSD", "XAUUSD", "US30", "GER40"):
        days = {datetime.fromisoformat(c["brokerTime"]).weekday() for c in market.candles(symbol, "1h", None, 500)}
        assert days == {0, 1, 2, 3, 4}, symbol
        ticks = market.ticks(symbol, saturday, 0, 5)
        assert datetime.fromisoformat(ticks[0]["brokerTime"]).weekday() == 0
        assert market.tick(symbol, saturday)["brokerTime"][:10] == "2026-02-27"
    days = {datetime.fromisoformat(c["brokerTime"]).weekday() for c in market.candles("BTCUSD", "1h", None, 500)}
    assert days == set(range(7))
    for candle in market.candles("GER40", "1m", ms("2026-03-03T06:00:00Z"), 200):
        assert market.in_quote_session("GER40", ms(candle["time"]))


def test_spreads_vary_and_widen_at_rollover() -> None:
    market = frozen()
    candles = market.candles("EURUSD", "1m", None, 1000) + market.candles("EURUSD", "1m", ms("2026-03-04T03:00Z"), 1000)
    spreads = [c["spread"] for c in candles]
    assert len(set(spreads)) > 5
    rollover = [c["spread"] for c in candles if c["brokerTime"][11:16] < "00:10"]
    busy = [c["spread"] for c in candles if "10:00" <= c["brokerTime"][11:16] < "12:00"]
    assert rollover and busy
    assert sum(rollover) / len(rollover) > 1.5 * sum(busy) / len(busy)


def test_order_book_has_levels_on_both_sides() -> None:
    market = frozen()
    for symbol in ("EURUSD", "US500", "BTCUSD"):
        tick, book = market.tick(symbol), market.book(symbol)
        assert book["time"] == tick["time"] and book["brokerTime"] == tick["brokerTime"]
        sells = [level for level in book["book"] if level["type"] == "BOOK_TYPE_SELL"]
        buys = [level for level in book["book"] if level["type"] == "BOOK_TYPE_BUY"]
        assert len(sells) >= 5 and len(buys) >= 5
        assert sells[0]["price"] == tick["ask"] and buys[0]["price"] == tick["bid"]
        assert all(a["price"] < b["price"] for a, b in itertools.pairwise(sells))
        assert all(a["price"] > b["price"] for a, b in itertools.pairwise(buys))
        assert all(level["volume"] > 0 for level in book["book"])
        assert market.book(symbol) == book


def test_errors_name_the_offending_field() -> None:
    market = frozen()
    with pytest.raises(NotFoundError):
        market.candles("NOPE", "1m", None, 10)
    with pytest.raises(NotFoundError):
        market.specification("eurusd")
    with pytest.raises(NotFoundError):
        market.price("NOPE")
    cases = [(lambda: market.candles("EURUSD", "7m", None, 10), "timeframe"),
             (lambda: market.candle("EURUSD", "1y"), "timeframe"),
             (lambda: market.candles("EURUSD", "1m", None, -1), "limit"),
             (lambda: market.candles("EURUSD", "1m", None, "10"), "limit"),
             (lambda: market.ticks("EURUSD", 0, -5, 10), "offset"),
             (lambda: market.ticks("EURUSD", 0, 0, 10**9), "limit"),
             (lambda: market.rate("EUR", "XYZ"), "to")]  # fmt: skip
    for call, field in cases:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.body()["details"][0]["parameter"] == field


def test_empty_and_zero_limits() -> None:
    market = frozen()
    assert market.candles("EURUSD", "1m", None, 0) == []
    assert market.ticks("EURUSD", int(NOW * 1000) - 60_000, 0, 0) == []
    assert market.ticks("EURUSD", int(NOW * 1000) + 60_000, 0, 10) == []
    assert market.ticks_between("EURUSD", int(NOW * 1000), int(NOW * 1000) + DAY) == []


def test_paging_semantics() -> None:
    market = frozen()
    start = int(NOW * 1000) - 3_600_000
    full = market.ticks("EURUSD", start, 0, 700)
    assert market.ticks("EURUSD", start, 200, 500) == full[200:]
    assert market.ticks("EURUSD", ms(full[300]["time"]), 0, 10)[0]["time"] == full[300]["time"]
    last = ms(full[-1]["time"])
    assert market.ticks_between("EURUSD", start - 1, last) == full[: len(full)]
    candles = market.candles("EURUSD", "5m", None, 20)
    at_open = market.candles("EURUSD", "5m", ms(candles[10]["time"]), 3)
    assert at_open == candles[8:11]
    assert market.candles("EURUSD", "5m", ms(candles[10]["time"]) - 1, 3) == candles[7:10]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), symbol=st.sampled_from(SYMBOLS), timeframe=st.sampled_from(["1m", "2m", "3m"]),
       at=st.integers(ms("2020-01-06T00:00:00Z"), int(NOW * 1000)))  # fmt: skip
def test_candle_at_a_time_holds_the_ticks_up_to_it(seed: int, symbol: str, timeframe: str, at: int) -> None:
    market = frozen(seed)
    candle = market.candle(symbol, timeframe, at)
    scale = 10 ** market.specification(symbol)["digits"]
    assert ms(candle["time"]) <= at
    ticks = [t for t in market.ticks(symbol, ms(candle["time"]), 0, 1000) if ms(t["time"]) <= at]
    assert candle["tickVolume"] == len(ticks)
    assert (candle["open"], candle["close"]) == (ticks[0]["bid"], ticks[-1]["bid"])
    assert (candle["high"], candle["low"]) == (max(t["bid"] for t in ticks), min(t["bid"] for t in ticks))
    assert candle["spread"] == min(round((t["ask"] - t["bid"]) * scale) for t in ticks)
    assert market.tick(symbol, at) == ticks[-1]
