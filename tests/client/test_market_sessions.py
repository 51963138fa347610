"""Trading sessions on the broker's clock, with the sandbox's own specifications (FX week, index breaks, crypto)."""

from __future__ import annotations

from datetime import datetime, timedelta

from mtdata.client import market_sessions as ms
from mtdata.sandbox.market.symbols import UNIVERSE, specification

SPECS = {name: specification(info) for name, info in UNIVERSE.items()}
FX, CRYPTO = SPECS["EURUSD"], SPECS["BTCUSD"]
INDEX = next(spec for name, spec in SPECS.items() if spec["quoteSessions"]["MONDAY"][1:])  # a US index: two a day
FRIDAY_CLOSE = datetime(2026, 11, 20, 23, 55)
MONDAY_OPEN = datetime(2026, 11, 23)


def test_fx_week_is_one_interval_from_monday_to_friday_close():
    spans = list(ms.intervals(FX, datetime(2026, 11, 16), 7))
    assert spans == [(datetime(2026, 11, 16), FRIDAY_CLOSE)]


def test_hours_on_a_saturday_and_a_wednesday():
    saturday = ms.hours(FX, datetime(2026, 11, 21, 14))
    assert saturday == ms.Hours(False, MONDAY_OPEN, datetime(2026, 11, 27, 23, 55), FRIDAY_CLOSE)
    wednesday = ms.hours(FX, datetime(2026, 11, 18, 14))
    assert wednesday.open and wednesday.next_open is None and wednesday.next_close == FRIDAY_CLOSE
    assert ms.hours(CRYPTO, datetime(2026, 11, 21, 14)) == ms.Hours(True, None, None, None)  # never closes


def test_is_open_follows_the_protocols_inclusive_strings():
    assert ms.is_open(FX, FRIDAY_CLOSE) and not ms.is_open(FX, FRIDAY_CLOSE + timedelta(milliseconds=1))
    assert not ms.is_open(FX, datetime(2026, 11, 22, 23, 59)) and ms.is_open(FX, MONDAY_OPEN)
    assert not ms.is_open(None, MONDAY_OPEN)


def test_a_quote_is_stale_once_its_market_closed_after_it():
    friday_quote = datetime(2026, 11, 20, 23, 54, 58, 919000)
    assert ms.closed_since(FX, friday_quote, datetime(2026, 11, 21, 14))  # the weekend
    assert ms.closed_since(FX, friday_quote, MONDAY_OPEN + timedelta(minutes=5))  # reopened, no newer quote
    assert not ms.closed_since(FX, friday_quote, friday_quote + timedelta(seconds=1))  # live
    assert not ms.closed_since(FX, friday_quote, FRIDAY_CLOSE)  # the close is still open (inclusive)
    assert not ms.closed_since(CRYPTO, friday_quote, datetime(2026, 11, 21, 14))
    assert not ms.closed_since(None, friday_quote, datetime(2026, 11, 21, 14))  # nothing known: nothing said
    evening = datetime(2026, 11, 18, 23, 10)  # a US index breaks 23:15-23:30 broker time
    assert ms.closed_since(INDEX, evening, datetime(2026, 11, 18, 23, 20))
    assert ms.closed_since(INDEX, evening, datetime(2026, 11, 18, 23, 40))  # reopened after the break
    assert not ms.closed_since(INDEX, evening, datetime(2026, 11, 18, 23, 14))
