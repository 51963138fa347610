"""The price model's stylized facts (issue 18) on its own output, fixed seed, and consistent crosses.

The series are computed from the model's functions (``SimProcess.day_bars``, the factor model's anchors), not
through REST: two years of H1 for a symbol take a fraction of a second.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtdata.sandbox.market import Market, clock
from mtdata.sandbox.market.factors import UNITS, annual_vol, weights
from mtdata.sandbox.market.model import FactorModel, model_for
from mtdata.sandbox.market.pricegen import SimProcess, concat_bars
from mtdata.sandbox.market.series import label
from mtdata.sandbox.market.symbols import UNIVERSE

SEED = 0  # the default seed: what every tutorial shows
NY = clock.CLOCKS["ny"]
NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC).timestamp()
FIRST = NY.day_of(int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000))
TWO_YEARS = 731
CROSSES = [name for name, info in UNIVERSE.items() if info.kind == "fx" and "USD" not in name]


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def hourly(symbol: str) -> tuple[np.ndarray, np.ndarray]:
    """Open times and closes (float prices) of two years of H1 candles of the model, seed ``SEED``."""
    process = SimProcess(UNIVERSE[symbol], SEED, NY)
    bars = label(concat_bars([process.day_bars(day) for day in range(FIRST, FIRST + TWO_YEARS)]), "1h", NY)
    return bars.t, bars.c / UNIVERSE[symbol].scale


@pytest.fixture(scope="module")
def eurusd() -> tuple[np.ndarray, np.ndarray]:
    return hourly("EURUSD")


def excess_kurtosis(returns: np.ndarray) -> float:
    z = (returns - returns.mean()) / returns.std()
    return float((z**4).mean() - 3)


def test_eurusd_hourly_returns_are_fat_tailed(eurusd: tuple[np.ndarray, np.ndarray]) -> None:
    returns = np.diff(np.log(eurusd[1]))
    assert len(returns) > 12_000
    assert 5 <= excess_kurtosis(returns) <= 20
    z = (returns - returns.mean()) / returns.std()
    assert 0.004 <= (np.abs(z) > 4).mean() <= 0.015


def test_volatility_clusters_over_days(eurusd: tuple[np.ndarray, np.ndarray]) -> None:
    """Absolute daily returns are autocorrelated at lags 1 to 5 (calm and turbulent stretches), and hourly ones
    beyond what the daily pattern alone gives."""
    t, close = eurusd
    daily = label_daily(t, close)
    size = np.abs(np.diff(np.log(daily)))
    size -= size.mean()
    acf = [float((size[:-lag] * size[lag:]).mean() / size.var()) for lag in range(1, 6)]
    assert np.mean(acf) >= 0.1, acf
    hour = np.abs(np.diff(np.log(close)))
    assert np.corrcoef(hour[:-1], hour[1:])[0, 1] > 0.1


def label_daily(t: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Daily closes (the last H1 close of each broker day)."""
    days = (t + NY.offsets(t) - clock.ORIGIN_LOCAL_MS) // clock.DAY
    last = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    return close[last]


def test_eurusd_and_gbpusd_move_together(eurusd: tuple[np.ndarray, np.ndarray]) -> None:
    t, gbp = hourly("GBPUSD")
    assert np.array_equal(t, eurusd[0])
    correlation = np.corrcoef(np.diff(np.log(eurusd[1])), np.diff(np.log(gbp)))[0, 1]
    assert 0.5 <= correlation <= 0.85


def test_btcusd_is_fat_tailed_and_busier_in_us_hours() -> None:
    t, close = hourly("BTCUSD")
    returns = np.diff(np.log(close))
    assert excess_kurtosis(returns) >= 3
    broker_hour = NY.local_minutes(t[1:]) // 60
    size = np.abs(returns)
    assert size[(broker_hour >= 15) & (broker_hour < 19)].mean() > 1.3 * size[broker_hour < 6].mean()


def test_risk_factor_links_assets_as_markets_do() -> None:
    """AUDUSD and USDJPY rise with the indices (the yen falls when risk is on); EURUSD hardly cares."""
    t500, us500 = hourly("US500")
    correlation = {}
    for name in ("AUDUSD", "USDJPY", "EURUSD"):
        t, close = hourly(name)
        common, mine, theirs = np.intersect1d(t, t500, return_indices=True)
        assert len(common) > 10_000
        correlation[name] = np.corrcoef(np.diff(np.log(close[mine])), np.diff(np.log(us500[theirs])))[0, 1]
    assert correlation["AUDUSD"] > 0.2 and correlation["USDJPY"] > 0.1 and abs(correlation["EURUSD"]) < 0.1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), cross=st.sampled_from(CROSSES),
       at=st.integers(ms("2020-01-06T00:00:00Z"), int(NOW * 1000)))  # fmt: skip
def test_every_cross_is_the_ratio_of_its_legs_at_every_m1_close(seed: int, cross: str, at: int) -> None:
    """Mid of the cross (close + spread / 2: the closing tick's quote) against the mids of its USD legs, at the
    M1 close at or before ``at``: within one point of the cross plus its legs' rounding to their digits."""
    market = Market(seed, wall_clock=lambda: NOW)
    info = UNIVERSE[cross]
    legs = []
    for ccy, sign in ((info.base, 1), (info.profit, -1)):
        major = ccy + "USD" if ccy + "USD" in UNIVERSE else "USD" + ccy
        legs.append((major, sign if major.startswith(ccy) else -sign))
    candles = {name: market.candles(name, "1m", at, 1)[0] for name in [cross] + [name for name, _ in legs]}
    assert len({c["time"] for c in candles.values()}) == 1  # FX symbols share their sessions

    def mid(name: str) -> float:
        candle, point = candles[name], UNIVERSE[name].point
        return candle["close"] + candle["spread"] * point / 2

    implied = math.prod(mid(name) ** sign for name, sign in legs)
    rounding = sum(0.5 * UNIVERSE[name].point / mid(name) for name, _ in legs) * implied
    assert abs(mid(cross) - implied) <= info.point * (1 + 1e-9) + rounding


def test_ticks_close_each_minute_at_the_candles_quote() -> None:
    """The closing tick of a minute has exactly the candle's spread, so its mid is the model's mid."""
    market = Market(SEED, wall_clock=lambda: NOW)
    candles = market.candles("EURGBP", "1m", ms("2025-06-11T12:00:00Z"), 30)
    ticks = market.ticks("EURGBP", ms(candles[0]["time"]), 0, 5000)
    for candle in candles:
        mine = [t for t in ticks if t["time"][:16] == candle["time"][:16]]
        assert round((mine[-1]["ask"] - mine[-1]["bid"]) * 1e5) == candle["spread"]


def test_prices_stay_plausible_from_2020_to_2027() -> None:
    """At every broker midnight from the origin to the end of 2027 every symbol's price is within four of its
    annual volatilities (in log terms) of its start, and its M1 bars on days spread over those years stay
    within that band too; before the origin there is no price."""
    model = model_for(SEED, NY)
    days = range(NY.day_of(ms("2028-01-01T00:00:00Z")))
    paths = {unit: np.array([model.anchors(unit, day)[0] for day in days]) for unit in UNITS}
    sample = np.random.default_rng(1).integers(0, len(days), 12)
    for name, info in UNIVERSE.items():
        log_price = sum(weight * paths[unit] for unit, weight in weights(info).items())
        assert np.abs(log_price).max() <= 4 * info.vol, (name, np.exp(log_price.min()), np.exp(log_price.max()))
        bars = concat_bars([SimProcess(info, SEED, NY).day_bars(int(day)) for day in sample])
        low, high = info.start * info.scale * np.exp(np.array([-1, 1]) * (4 * info.vol + 0.02))
        assert low < bars.l.min() and bars.h.max() < high, name
    market = Market(SEED, wall_clock=lambda: NOW)
    for name in UNIVERSE:
        assert market.candles(name, "1d", ms("2019-12-31T00:00:00Z"), 10) == []


def test_cross_volatilities_stated_in_the_universe_are_the_models() -> None:
    for name, info in UNIVERSE.items():
        assert annual_vol(info) == pytest.approx(info.vol, abs=0.0015), name
    assert all(unit.vol > 0 for unit in UNITS.values())


def test_history_is_the_same_whatever_range_asked_first() -> None:
    """A day's paths do not depend on what was computed before: a fresh model asked for a late day first
    gives the same paths as one that walked there day by day."""
    walked, direct = FactorModel(77, NY), FactorModel(77, NY)
    for day in range(2000, 2012):
        walked.unit_day("EUR", day)
    assert np.array_equal(direct.unit_day("EUR", 2011).x, walked.unit_day("EUR", 2011).x)
    assert np.array_equal(direct.vol("fx", np.arange(5000, 5100)), walked.vol("fx", np.arange(5000, 5100)))
