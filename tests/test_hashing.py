"""The item hash algorithm of protocol §7.8 (mtdata.hashing), shared by the sandbox and the client."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from mtdata.client.dates import convert_dates
from mtdata.hashing import collection_hash, generation_of, item_hash, serialize_item, xor_hashes

#: The specification of the protocol's worked example (docs/protocol.md) (§7.8).
SPEC_EXAMPLE = {
    "symbol": "EURUSD", "tickSize": 0.00001, "minVolume": 0.01, "maxVolume": 100, "volumeStep": 0.01, "digits": 5,
    "point": 0.00001, "contractSize": 100000, "description": "Euro vs USD", "baseCurrency": "EUR",
    "profitCurrency": "USD", "marginCurrency": "EUR",
    "quoteSessions": {"MONDAY": [{"from": "00:00:00.000", "to": "23:59:59.999"}]},
    "tradeSessions": {"MONDAY": [{"from": "00:00:00.000", "to": "23:59:59.999"}]},
}  # fmt: skip
SPEC_EXAMPLE_JSON = (
    '{"symbol":"EURUSD","tickSize":0.00001,"minVolume":0.01,"maxVolume":100,"volumeStep":0.01,"digits":5,'
    '"point":0.00001,"contractSize":100000,"description":"Euro vs USD","baseCurrency":"EUR","profitCurrency":"USD",'
    '"marginCurrency":"EUR","quoteSessions":{"MONDAY":[{"from":"00:00:00.000","to":"23:59:59.999"}]},'
    '"tradeSessions":{"MONDAY":[{"from":"00:00:00.000","to":"23:59:59.999"}]}}'
)
POSITION = {
    "id": "46214692", "type": "POSITION_TYPE_BUY", "symbol": "GBPUSD", "magic": 1000.0,
    "time": "2020-04-15T02:45:06.521Z", "brokerTime": "2020-04-15 05:45:06.521", "openPrice": 1.26101,
    "volume": 0.07, "swap": 0, "profit": -12.5, "comment": "élan", "stopLoss": None, "realized": False,
}  # fmt: skip


def test_spec_example_serializes_and_hashes_as_the_spec_says() -> None:
    converted = convert_dates(copy.deepcopy(SPEC_EXAMPLE))
    assert serialize_item(converted, "specification") == SPEC_EXAMPLE_JSON
    assert item_hash(converted, "specification", "g2") == "211bc32a9e9ec7d24b834dfea366d148"
    assert collection_hash([converted], "specification") == "211bc32a9e9ec7d24b834dfea366d148"


@pytest.mark.parametrize(
    ("value", "g2", "g1"),
    [
        (100, "100", "100.00000000"),
        (100.0, "100", "100.00000000"),
        (1, "1", "1.00000000"),
        (1.1, "1.1", "1.10000000"),
        (0.00001, "0.00001", "0.00001000"),
        (1.1001, "1.1001", "1.10010000"),
        (1 / 3, "0.33333333", "0.33333333"),
        (-12.5, "-12.5", "-12.50000000"),
        (123456789.0, "123456789", "123456790.00000000"),
        (1.234567891, "1.2345679", "1.23456790"),
    ],
)
def test_number_formats_of_both_generations(value: float, g2: str, g1: str) -> None:
    item = {"symbol": "X", "tickSize": value}
    assert serialize_item(item, "specification", "g2") == f'{{"symbol":"X","tickSize":{g2}}}'
    assert serialize_item(item, "specification", "g1") == f'{{"symbol":"X","tickSize":{g1}}}'


def test_integer_keys_literals_strings_and_key_order() -> None:
    text = serialize_item(POSITION, "position", "g1")
    assert text.startswith('{"id":"46214692","type":"POSITION_TYPE_BUY","symbol":"GBPUSD","magic":1000,')
    assert '"time":"2020-04-15T02:45:06.521Z","brokerTime":"2020-04-15 05:45:06.521"' in text
    assert '"comment":"élan","stopLoss":null,"realized":false}' in text
    assert '"swap":0.00000000' in text
    reordered = {"symbol": POSITION["symbol"], **{k: v for k, v in POSITION.items() if k != "symbol"}}
    assert item_hash(reordered, "position") != item_hash(POSITION, "position")


def test_wire_dates_and_parsed_dates_hash_alike() -> None:
    converted = convert_dates(copy.deepcopy(POSITION))
    assert isinstance(converted["time"], datetime)
    assert item_hash(converted, "position") == item_hash(POSITION, "position")
    naive = {**converted, "time": converted["time"].replace(tzinfo=None)}
    assert item_hash(naive, "position") == item_hash(POSITION, "position")
    offset = {**POSITION, "time": "2020-04-15T04:45:06.521+02:00"}
    assert item_hash(offset, "position") == item_hash(POSITION, "position")
    assert serialize_item({"id": "1", "time": datetime(2020, 1, 1, tzinfo=UTC)}, "order") == (
        '{"id":"1","time":"2020-01-01T00:00:00.000Z"}'
    )


def test_ignored_fields_are_left_out_at_the_top_level_only() -> None:
    ignored = {"profit", "swap"}
    trimmed = {k: v for k, v in POSITION.items() if k not in ignored}
    assert item_hash(POSITION, "position", "g2", ignored) == item_hash(trimmed, "position", "g2")
    assert item_hash(POSITION, "position", "g2", ignored) != item_hash(POSITION, "position", "g2")
    nested = {"symbol": "X", "quoteSessions": {"profit": 1}}
    assert serialize_item(nested, "specification", "g2", {"profit"}) == '{"symbol":"X","quoteSessions":{"profit":1}}'


def test_collection_hash_is_the_xor_of_item_hashes() -> None:
    items = [SPEC_EXAMPLE, {**SPEC_EXAMPLE, "symbol": "GBPUSD"}, {**SPEC_EXAMPLE, "symbol": "USDJPY"}]
    hashes = [item_hash(item, "specification") for item in items]
    expected = int(hashes[0], 16) ^ int(hashes[1], 16) ^ int(hashes[2], 16)
    assert collection_hash(items, "specification") == f"{expected:032x}"
    assert collection_hash(reversed(items), "specification") == f"{expected:032x}"
    assert xor_hashes([hashes[0], hashes[0]]) == "0" * 32
    assert collection_hash([], "order") is None


def test_generation_of_account_types() -> None:
    assert generation_of("cloud-g1") == "g1"
    assert generation_of("cloud-g2") == "g2"
    assert generation_of(None) == "g2"
