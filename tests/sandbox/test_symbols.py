"""The symbol universe: wire specifications (protocol §9.6) with realistic, consistent values."""

from __future__ import annotations

import re

import orjson

from mtdata.sandbox.market import Market
from mtdata.sandbox.market.symbols import DAYS, UNIVERSE, session_table, specification

KEYS = ["symbol", "tickSize", "minVolume", "maxVolume", "volumeStep", "fillingModes", "executionMode", "contractSize",
        "quoteSessions", "tradeSessions", "tradeMode", "initialMargin", "maintenanceMargin", "hedgedMargin",
        "marginCurrency", "baseCurrency", "profitCurrency", "priceCalculationMode", "swapMode", "swapLong",
        "swapShort", "swapRollover3Days", "allowedExpirationModes", "allowedOrderTypes", "digits", "point", "path",
        "description", "pipSize", "stopsLevel", "freezeLevel"]  # fmt: skip
CLOCK = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d$")


def test_universe_has_the_required_symbols() -> None:
    names = Market(0).symbols()
    assert len(names) >= 20
    for name in ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP", "EURJPY", "XAUUSD",
                 "XAGUSD", "US30", "US500", "GER40", "UK100", "BTCUSD", "ETHUSD"):  # fmt: skip
        assert name in names


def test_specifications_are_complete_and_in_a_stable_order() -> None:
    market = Market(0)
    for name in market.symbols():
        spec = market.specification(name)
        assert list(spec) == KEYS
        assert spec["symbol"] == name
        assert type(spec["digits"]) is int and spec["point"] == spec["tickSize"] == 10 ** -spec["digits"]
        assert 0 < spec["minVolume"] <= spec["maxVolume"] and 0 < spec["volumeStep"] <= spec["minVolume"]
        assert spec["contractSize"] > 0 and spec["pipSize"] >= spec["point"]
        assert all(re.fullmatch(r"[A-Z]{3}", spec[key]) for key in ("marginCurrency", "baseCurrency", "profitCurrency"))
        for key in ("quoteSessions", "tradeSessions"):
            assert list(spec[key]) == list(DAYS)
            for intervals in spec[key].values():
                for interval in intervals:
                    assert list(interval) == ["from", "to"]
                    assert CLOCK.match(interval["from"]) and CLOCK.match(interval["to"])
                    assert interval["from"] < interval["to"]
        assert orjson.loads(orjson.dumps(spec)) == spec
        assert market.specification(name) == spec and market.specification(name) is not spec


def test_sessions_by_asset_class() -> None:
    fx, crypto, gold, dax = (
        specification(UNIVERSE[n])["quoteSessions"] for n in ("EURUSD", "BTCUSD", "XAUUSD", "GER40")
    )
    assert fx["SATURDAY"] == fx["SUNDAY"] == [] and fx["MONDAY"] == [{"from": "00:00:00.000", "to": "23:59:59.999"}]
    assert all(crypto[day] == [{"from": "00:00:00.000", "to": "23:59:59.999"}] for day in DAYS)
    assert gold["MONDAY"][0]["from"] == "01:00:00.000" and gold["SUNDAY"] == []
    assert dax["WEDNESDAY"] == [{"from": "03:15:00.000", "to": "23:00:00.000"}]
    table = session_table(UNIVERSE["GER40"])
    assert table.shape == (7, 1440)
    assert not table[3, 3 * 60 + 14] and table[3, 3 * 60 + 15] and table[3, 22 * 60 + 59] and not table[3, 23 * 60]


def test_realistic_contract_facts() -> None:
    specs = {name: specification(info) for name, info in UNIVERSE.items()}
    assert specs["EURUSD"]["digits"] == 5 and specs["USDJPY"]["digits"] == 3 and specs["XAUUSD"]["digits"] == 2
    assert specs["EURUSD"]["contractSize"] == 100000 and specs["XAUUSD"]["contractSize"] == 100
    assert specs["EURUSD"]["pipSize"] == 0.0001 and specs["USDJPY"]["pipSize"] == 0.01
    assert specs["EURUSD"]["priceCalculationMode"] == "SYMBOL_CALC_MODE_FOREX"
    assert specs["US30"]["priceCalculationMode"] == "SYMBOL_CALC_MODE_CFDLEVERAGE"
    assert specs["GER40"]["profitCurrency"] == "EUR" and specs["UK100"]["profitCurrency"] == "GBP"
    assert specs["EURJPY"]["baseCurrency"] == "EUR" and specs["EURJPY"]["profitCurrency"] == "JPY"
