"""Prices as MetaTrader shows them: to the symbol's digits, changes signed, spreads in points."""

from __future__ import annotations

from mtdata.live.price_format import change_text, price_digits, price_text, spread_points

EURUSD = {"symbol": "EURUSD", "digits": 5, "point": 0.00001}
USDJPY = {"symbol": "USDJPY", "digits": 3, "point": 0.001}


def test_prices_keep_the_symbols_digits():
    assert price_text(1.0555, price_digits(EURUSD)) == "1.05550"
    assert price_text(110.4, price_digits(USDJPY)) == "110.400"
    assert price_text(1.055549999, 5) == "1.05555"
    assert price_digits(None) is None and price_text(1.0555, None) == "1.0555"  # no specification: never rounded


def test_changes_carry_their_sign_and_zero_is_never_negative():
    assert change_text(0.00012, 5) == "+0.00012" and change_text(-0.00012, 5) == "-0.00012"
    assert change_text(0.0, 5) == change_text(-1e-10, 5) == "+0.00000"
    assert change_text(-0.5, None) == "-0.5"


def test_spreads_are_in_points():
    assert spread_points(1.05550, 1.05558, EURUSD) == 8  # not 8e-05
    assert spread_points(110.403, 110.408, USDJPY) == 5
    assert spread_points(1.0, 1.1, None) is None and spread_points(1.0, 1.1, {"point": 0}) is None

