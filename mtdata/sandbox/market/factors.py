"""The sandbox's factor model: which shared paths make up each simulated price, and how busy each hour is.

Every simulated log price is ``log(start)`` plus a fixed linear combination of *unit paths* (see
:mod:`model`): common factors and one idiosyncratic path per currency or instrument.

* **Currencies** (USD, EUR, GBP, JPY, CHF, AUD, CAD, NZD and the metals XAU, XAG) each have a latent log value
  ``x_c = sum_k L[c, k] U_k + E_c``: loadings on shared paths plus its own. A pair or metal is the ratio of its
  two currencies, ``log P = log(start) + x_base - x_quote``, so a cross equals the ratio (or product) of its
  legs at every instant: EURGBP = EURUSD / GBPUSD up to rounding to the symbols' digits.
* **Shared paths**: ``USD`` (the dollar), ``RISK`` (risk-on/off: up for AUD, NZD, CAD, indices and crypto,
  down for JPY and CHF), ``US_EQUITY`` (the three US indices), ``CRYPTO`` (BTC and ETH), and three currencies'
  own paths that others load on: EUR's (GBP and CHF move with the euro), AUD's (NZD) and XAU's (silver).
  Few paths per major keeps a day's computation cheap: EURUSD is two paths, GBPUSD three.
* **Indices and crypto** are their own log price: loadings on the factors plus their own path.
* **Volatilities**: each factor's annual volatility is fixed below; each own path's is solved from the
  :class:`~symbols.SymbolInfo` ``vol`` of the USD major (or XAUUSD, XAGUSD, index, coin) so that shared and
  own variance add up to it. A cross's volatility follows from its legs (its ``vol`` states the result).

Each unit path belongs to a *volatility group* (``fx``, ``risk`` or ``crypto``: a shared stochastic volatility,
:mod:`model`) and has an *activity profile*: the relative volatility of each broker minute of each
weekday (FX busiest in the London/New York overlap, quiet but not still at weekends; crypto mildly seasonal
and trading every day).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .symbols import UNIVERSE, SymbolInfo

#: Relative volatility and tick activity by broker hour (UTC+2/+3: London opens ~10:00, New York ~15:30).
FX_HOURS = np.array([0.45, 0.4, 0.45, 0.55, 0.6, 0.6, 0.6, 0.65, 0.75, 0.9, 1.2, 1.25, 1.15, 1.05, 1.1, 1.45,
                     1.55, 1.45, 1.3, 1.0, 0.8, 0.65, 0.55, 0.5])  # fmt: skip
#: Crypto: quietest in the Asian night, busiest when US equities trade; weekends about three quarters as busy.
CRYPTO_HOURS = np.array([0.8, 0.75, 0.7, 0.7, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.05, 1.1, 1.15, 1.3,
                         1.35, 1.3, 1.2, 1.1, 1.0, 0.95, 0.9, 0.85])  # fmt: skip
_WEEKEND = {"fx": 0.1, "crypto": 0.75}  # activity at weekends (Saturday, Sunday) relative to the hourly profile


def _profile(hours: np.ndarray, weekend: float) -> np.ndarray:
    """A (7, 1440) table, Sunday first, of the relative volatility of each broker minute."""
    table = np.tile(np.repeat(hours, 60), (7, 1))
    table[[0, 6]] = weekend * hours.mean()
    return table


#: Activity profiles by name (FX's also serves indices and the risk factor).
PROFILES = {"fx": _profile(FX_HOURS, _WEEKEND["fx"]), "crypto": _profile(CRYPTO_HOURS, _WEEKEND["crypto"])}
WEEKS_PER_YEAR = 365.25 / 7


def yearly_variance(profile: str) -> float:
    """Sum of the squared activity of the minutes of a year: divides an annual variance into per-minute ones."""
    return float((PROFILES[profile] ** 2).sum() * WEEKS_PER_YEAR)


class Unit(NamedTuple):
    """One unit path: its annual volatility and volatility group (which sets its activity profile)."""

    name: str
    vol: float
    group: str


#: Factors: annual volatility and volatility group. ``USD`` is the dollar's own path (the dollar factor).
FACTORS = {"USD": (0.05, "fx"), "RISK": (0.04, "risk"), "US_EQUITY": (0.10, "risk"), "CRYPTO": (0.45, "crypto")}
#: Each currency's loadings on factors and on other currencies' own paths (EUR's own path is the European
#: factor, AUD's the antipodean one, XAU's the metals one); every currency but USD also has its own path, of
#: the volatility that makes its USD major's ``vol``. Listed so that a currency comes after those it loads on.
CURRENCIES = {
    "USD": {},
    "EUR": {},
    "GBP": {"EUR": 0.5},
    "CHF": {"EUR": 0.6, "RISK": -0.3},
    "JPY": {"RISK": -0.6},
    "AUD": {"RISK": 0.9},
    "NZD": {"AUD": 0.8, "RISK": 0.8},
    "CAD": {"USD": 0.5, "RISK": 0.4},
    "XAU": {"RISK": -0.3},
    "XAG": {"XAU": 1.2, "RISK": 0.3},
}
#: Instruments priced on their own (indices, crypto): factor loadings, plus their own path.
INSTRUMENTS = {
    "US30": {"RISK": 3.0, "US_EQUITY": 0.9},
    "US500": {"RISK": 3.0, "US_EQUITY": 1.0},
    "NAS100": {"RISK": 3.0, "US_EQUITY": 1.3},
    "GER40": {"RISK": 3.2},
    "UK100": {"RISK": 2.6},
    "BTCUSD": {"RISK": 4.0, "CRYPTO": 1.0},
    "ETHUSD": {"RISK": 4.5, "CRYPTO": 1.3},
}
_GROUP = {"index": "risk", "crypto": "crypto"}
PROFILE = {"fx": "fx", "risk": "fx", "crypto": "crypto"}  # activity profile of each volatility group


def _combine(*parts: tuple[dict[str, float], float]) -> dict[str, float]:
    """Sum of weighted loadings; zero weights dropped."""
    out: dict[str, float] = {}
    for loadings, sign in parts:
        for name, weight in loadings.items():
            out[name] = out.get(name, 0.0) + sign * weight
    return {name: weight for name, weight in out.items() if abs(weight) > 1e-12}


def _own_vol(name: str, vol: float, variance: float) -> float:
    """The volatility of a symbol's own path that brings the ``variance`` of the rest up to ``vol``; refuses a
    model whose shared part alone is more volatile than the symbol."""
    rest = vol * vol - variance
    if rest <= 0:
        raise ValueError(f"factor model: the shared part of {name} is more volatile than its vol {vol}")
    return math.sqrt(rest)


def _currency(ccy: str) -> dict[str, float]:
    """A currency's log value as unit weights: its loadings plus its own path."""
    return _combine((CURRENCIES[ccy], 1), ({ccy: 1.0}, 1))


def _units() -> dict[str, Unit]:
    units = {name: Unit(name, vol, group) for name, (vol, group) in FACTORS.items()}

    def variance(loadings: dict[str, float]) -> float:
        return sum(w * w * units[name].vol ** 2 for name, w in loadings.items())

    for ccy, loadings in CURRENCIES.items():
        if ccy != "USD":
            major = UNIVERSE[ccy + "USD"] if ccy + "USD" in UNIVERSE else UNIVERSE["USD" + ccy]
            shared = variance(_combine((loadings, 1), (_currency("USD"), -1)))
            units[ccy] = Unit(ccy, _own_vol(major.name, major.vol, shared), "fx")
    for name, loadings in INSTRUMENTS.items():
        info = UNIVERSE[name]
        units[name] = Unit(name, _own_vol(name, info.vol, variance(loadings)), _GROUP[info.kind])
    return units


UNITS = _units()


def weights(info: SymbolInfo) -> dict[str, float]:
    """The unit paths of a simulated symbol and their weights in its log price."""
    if info.name in INSTRUMENTS:
        return {**INSTRUMENTS[info.name], info.name: 1.0}
    return _combine((_currency(info.base), 1), (_currency(info.profit), -1))


def group_variances(info: SymbolInfo) -> dict[str, float]:
    """The annual variance of a simulated symbol's log price coming from each volatility group."""
    out: dict[str, float] = {}
    for name, weight in weights(info).items():
        unit = UNITS[name]
        out[unit.group] = out.get(unit.group, 0.0) + (weight * unit.vol) ** 2
    return out


def annual_vol(info: SymbolInfo) -> float:
    """The annual volatility the model gives a symbol (its factors and own paths together)."""
    return math.sqrt(sum(group_variances(info).values()))
