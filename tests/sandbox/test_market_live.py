"""Live behaviour of the market: the clock, live ticks equal to history, prices, currency rates, forced paths."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtdata.sandbox.errors import NotFoundError, ValidationError
from mtdata.sandbox.market import Market

NOW = datetime(2026, 3, 4, 15, 30, 12, 345000, tzinfo=UTC).timestamp()  # a Wednesday afternoon
NOW_MS = int(NOW * 1000)
DAY = 86_400_000


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, at: float = NOW) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_now_advances_speed_times_wall_clock() -> None:
    clock = Clock()
    market = Market(0, speed=60, wall_clock=clock)
    assert market.now_ms() == NOW_MS
    clock.at += 1.5
    assert market.now_ms() == NOW_MS + 90_000


def test_live_stream_is_the_history() -> None:
    clock = Clock()
    live = Market(3, speed=10, wall_clock=clock)
    streamed, last = [], live.now_ms()
    for _ in range(60):
        clock.at += 0.7
        now = live.now_ms()
        batch = live.ticks_between("EURUSD", last, now)
        assert all(last < ms(t["time"]) <= now for t in batch)
        if batch:
            assert live.tick("EURUSD") == batch[-1]
        streamed += batch
        last = now
        current = live.candle("EURUSD", "1m")
        assert current == live.candles("EURUSD", "1m", None, 5)[-1]
        assert current["close"] == live.tick("EURUSD")["bid"]
    past = Market(3, wall_clock=lambda: live.now_ms() / 1000)
    history: list[dict] = []
    while page := past.ticks("EURUSD", NOW_MS + 1, len(history), 1000):
        history += page
    assert len(streamed) > 100  # a few ticks per second for a major in the afternoon
    assert streamed == history


def test_candle_in_progress_holds_only_the_ticks_so_far() -> None:
    minute = NOW_MS - NOW_MS % 60_000
    partial = Market(0, wall_clock=lambda: NOW).candle("EURUSD", "1m")
    complete = Market(0, wall_clock=lambda: NOW + 120).candles("EURUSD", "1m", minute, 1)[0]
    ticks = [t for t in Market(0, wall_clock=lambda: NOW).ticks("EURUSD", minute, 0, 1000)]
    assert partial["time"] == complete["time"]
    assert partial["tickVolume"] == len(ticks) < complete["tickVolume"]
    assert partial["open"] == complete["open"] == ticks[0]["bid"]
    assert partial["close"] == ticks[-1]["bid"]
    assert partial["high"] == max(t["bid"] for t in ticks) <= complete["high"]


def test_ticks_are_irregular_and_busier_for_majors() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    start = NOW_MS - 600_000
    majors = [ms(t["time"]) for t in market.ticks("EURUSD", start, 0, 1000) if ms(t["time"]) < start + 120_000]
    crosses = [ms(t["time"]) for t in market.ticks("EURAUD", start, 0, 1000) if ms(t["time"]) < start + 120_000]
    assert 2 * 120 <= len(majors) <= 8 * 120
    assert len(crosses) < len(majors)
    gaps = {b - a for a, b in itertools.pairwise(majors)}
    assert len(gaps) > 50


def test_price_has_tick_values_in_the_account_currency() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    eurusd = market.price("EURUSD")
    tick = market.tick("EURUSD")
    assert (eurusd["bid"], eurusd["ask"], eurusd["time"], eurusd["brokerTime"]) == (
        tick["bid"], tick["ask"], tick["time"], tick["brokerTime"])  # fmt: skip
    assert eurusd["profitTickValue"] == eurusd["lossTickValue"] == 1.0
    assert eurusd["accountCurrencyExchangeRate"] == 1.0
    usdjpy = market.price("USDJPY")
    assert usdjpy["profitTickValue"] == pytest.approx(100 / ((usdjpy["bid"] + usdjpy["ask"]) / 2), rel=1e-6)
    assert market.price("XAUUSD")["profitTickValue"] == 1.0
    assert market.price("US30")["profitTickValue"] == 0.01
    eurgbp = market.price("EURGBP")  # converted at GBPUSD's quote at the time of EURGBP's
    assert eurgbp["profitTickValue"] == pytest.approx(market.rate("GBP", "USD", ms(eurgbp["time"])), rel=1e-6)
    in_eur = market.price("EURUSD", account_currency="EUR")
    assert in_eur["profitTickValue"] == pytest.approx(1 / market.rate("EUR", "USD"), rel=1e-6)
    assert in_eur["accountCurrencyExchangeRate"] == pytest.approx(market.rate("EUR", "USD"))
    assert set(eurusd) == {"symbol", "bid", "ask", "profitTickValue", "lossTickValue",
                           "accountCurrencyExchangeRate", "time", "brokerTime"}  # fmt: skip


def test_rates_come_from_the_markets_own_quotes() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    eurusd = market.tick("EURUSD")
    assert market.rate("EUR", "USD") == pytest.approx((eurusd["bid"] + eurusd["ask"]) / 2)
    assert market.rate("USD", "EUR") * market.rate("EUR", "USD") == pytest.approx(1)
    assert market.rate("CHF", "CAD") == pytest.approx(market.rate("CHF", "USD") * market.rate("USD", "CAD"))
    assert market.rate("XAU", "EUR") == pytest.approx(market.rate("XAU", "USD") / market.rate("EUR", "USD"))
    assert market.rate("JPY", "JPY") == 1.0
    earlier = ms("2024-05-01T10:00:00Z")
    assert market.rate("EUR", "USD", earlier) != market.rate("EUR", "USD")
    with pytest.raises(ValidationError):
        market.rate("ABC", "USD")


def test_forced_path_overrides_live_and_history_then_clears() -> None:
    clock = Clock()
    market = Market(0, wall_clock=clock)
    reference = Market(0, wall_clock=clock)
    before = market.tick("EURUSD")
    t0 = NOW_MS + 1000
    market.force_path("EURUSD", [(t0, 1.2, 1.2002), (t0 + 1000, 1.201, 1.2011), (t0 + 61_000, 1.199, 1.1992)])
    assert market.tick("EURUSD") == before
    clock.at += 2.5
    assert (market.tick("EURUSD")["bid"], market.tick("EURUSD")["ask"]) == (1.201, 1.2011)
    between = market.ticks_between("EURUSD", NOW_MS, market.now_ms())
    assert [t["bid"] for t in between[-2:]] == [1.2, 1.201]
    assert between[:-2] == reference.ticks_between("EURUSD", NOW_MS, t0 - 1)
    candle = market.candle("EURUSD", "1m")
    assert candle["close"] == 1.201 and candle["high"] >= 1.201
    clock.at += 300
    assert market.tick("EURUSD")["bid"] == 1.199 and market.price("EURUSD")["ask"] == 1.1992
    assert market.candles("EURUSD", "1m", None, 1)[0]["close"] == 1.199
    assert market.candles("EURUSD", "1m", t0 - 120_000, 50) == reference.candles("EURUSD", "1m", t0 - 120_000, 50)
    market.clear_forced("EURUSD")
    assert market.tick("EURUSD") == reference.tick("EURUSD")
    assert market.candles("EURUSD", "1h", None, 5) == reference.candles("EURUSD", "1h", None, 5)


def test_forced_path_in_the_past_rewrites_history() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    t0 = ms("2026-03-02T10:00:30Z")
    before = Market(0, wall_clock=lambda: NOW).ticks_between("USDJPY", t0 - 30_001, t0 - 1)
    market.force_path("USDJPY", [(t0, 150.0, 150.01), (t0 + 10_000, 151.0, 151.02), (t0 + 70_000, 149.5, 149.52)])
    minutes = market.candles("USDJPY", "1m", t0 + 60_000, 2)
    assert minutes[-1]["open"] == minutes[-1]["close"] == minutes[-1]["low"] == 149.5
    assert minutes[0]["close"] == 151.0 and minutes[0]["high"] >= 151.0
    assert before and minutes[0]["open"] == before[0]["bid"]  # the minute's own ticks before t0, then the forced
    assert minutes[0]["spread"] == min([10] + [round((t["ask"] - t["bid"]) * 1000) for t in before])
    assert market.tick("USDJPY")["bid"] == 149.5
    assert market.candles("USDJPY", "1d", None, 1)[0]["brokerTime"] == "2026-03-02 00:00:00.000"


def test_force_path_validates_its_points() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    with pytest.raises(NotFoundError):
        market.force_path("NOPE", [(NOW_MS, 1.0, 1.1)])
    bad = [[], [(NOW_MS, 1.0)], [(NOW_MS, 1.1, 1.0)], [(NOW_MS, 1.0, 1.1), (NOW_MS - 1, 1.0, 1.1)],
           [(NOW_MS, -1.0, 1.1)], "abc", [(NOW_MS, "x", 1.0)]]  # fmt: skip
    for points in bad:
        with pytest.raises(ValidationError) as caught:
            market.force_path("EURUSD", points)
        assert caught.value.body()["details"][0]["parameter"] == "points"
    with pytest.raises(NotFoundError):
        market.clear_forced("NOPE")


def test_no_quote_before_the_origin() -> None:
    market = Market(0, wall_clock=lambda: NOW)
    with pytest.raises(NotFoundError):
        market.tick("EURUSD", ms("2019-06-01T00:00:00Z"))
    assert market.ticks("EURUSD", ms("2019-12-31T00:00:00Z"), 0, 1)[0]["brokerTime"][:17] == "2020-01-01 00:00:"


@settings(max_examples=15, deadline=None)
@given(
    symbol=st.sampled_from(["EURUSD", "BTCUSD", "US500"]),
    t0=st.integers(ms("2025-01-01T00:00:00Z"), NOW_MS - DAY),
    gaps=st.lists(st.integers(0, 200_000), min_size=1, max_size=30),
    moves=st.data(),
)
def test_forced_ticks_are_exactly_the_history_after_t0(symbol: str, t0: int, gaps: list[int], moves) -> None:
    market, reference = Market(1, wall_clock=lambda: NOW), Market(1, wall_clock=lambda: NOW)
    base = market.tick(symbol, t0)["bid"]
    times = [t0 + sum(gaps[: i + 1]) - gaps[0] for i in range(len(gaps))]
    steps = moves.draw(st.lists(st.integers(-50, 50), min_size=len(times), max_size=len(times)))
    digits = market.specification(symbol)["digits"]
    points = [(t, round(base + s * 10**-digits, digits), round(base + (s + 3) * 10**-digits, digits))
              for t, s in zip(times, steps, strict=True)]  # fmt: skip
    market.force_path(symbol, points)
    after = market.ticks(symbol, t0, 0, 1000)
    assert [(ms(t["time"]), t["bid"], t["ask"]) for t in after] == points
    minute = t0 - t0 % 60_000
    assert market.candles(symbol, "1m", minute - 1, 30) == reference.candles(symbol, "1m", minute - 1, 30)
    assert market.ticks_between(symbol, t0 - 600_000, t0 - 1) == reference.ticks_between(symbol, t0 - 600_000, t0 - 1)
    last = market.candles(symbol, "1m", None, 1)[0]
    assert last["close"] == points[-1][1] and ms(last["time"]) == points[-1][0] - points[-1][0] % 60_000
    hour = market.candle(symbol, "1h", points[-1][0])
    in_hour = [p for p in points if p[0] >= ms(hour["time"])]
    assert hour["close"] == points[-1][1] and hour["high"] >= max(p[1] for p in in_hour)
