"""The history column store and indexes against brute force on random data (out of order, duplicates, odd values)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mtdata.client.history.columns import EPOCH, from_us, to_us
from mtdata.client.history.index import HistoryCollection, SortedIndex, id_key, instance_number
from mtdata.client.history.table import ColumnTable

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def random_deal(rng: random.Random, ticket: int) -> dict[str, Any]:
    """A deal like the sandbox's, with optional fields and occasional odd values."""
    deal: dict[str, Any] = {
        "id": str(ticket),
        "platform": "mt5",
        "type": rng.choice(["DEAL_TYPE_BUY", "DEAL_TYPE_SELL", "DEAL_TYPE_BALANCE"]),
        "symbol": rng.choice(["EURUSD", "GBPUSD", "XAUUSD"]),
        "magic": rng.randrange(3),
        "time": T0 + timedelta(milliseconds=rng.randrange(10**7)),
        "brokerTime": f"2024-01-01 00:00:{rng.randrange(60):02d}.{rng.randrange(1000):03d}",
        "volume": rng.choice([0.01, 0.1, 1]),
        "profit": round(rng.uniform(-100, 100), 2),
        "commission": 0,
    }
    if rng.random() < 0.8:
        deal["positionId"] = str(rng.randrange(1, 40))
    if rng.random() < 0.2:
        deal["comment"] = rng.choice(["hello", "ünïcode ✓", ""])
    if rng.random() < 0.05:
        deal["trailingStopLoss"] = {"distance": {"distance": 10, "units": "RELATIVE_POINTS"}}
    return deal


def test_column_table_round_trips_values_and_widens_columns() -> None:
    table = ColumnTable()
    records = [
        {"id": "1", "n": 1, "x": 1.5, "s": "a", "t": T0, "flag": True, "o": None},
        {"id": "007", "n": 2**70, "x": 2, "s": "b" * 300, "t": "not a date", "flag": False, "o": [1, {"a": 2}]},
        {"x": 3.25, "id": "abc", "extra": "only here"},
        {"id": "3", "n": 2.5, "x": True, "s": 4, "t": T0 + timedelta(microseconds=7)},
    ]
    rows = [table.append(dict(r)) for r in records]
    assert table.take(rows) == records
    assert [list(r) for r in table.take(rows)] == [list(r) for r in records]  # key order kept
    assert [type(v) for v in table.take([1])[0].values()] == [type(v) for v in records[1].values()]
    assert table.value(2, "extra") == "only here" and table.value(0, "extra") is None


def test_category_column_turns_into_text_when_values_are_many() -> None:
    table = ColumnTable()
    records = [{"brokerTime": f"2024-01-01 00:00:{i:05d}", "kind": "A" if i % 2 else "B"} for i in range(5000)]
    rows = [table.append(r) for r in records]
    assert table.take(rows) == records


def test_microsecond_conversion_is_exact() -> None:
    for value in (T0, T0 + timedelta(microseconds=1), datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)):
        assert from_us(to_us(value)) == value


def test_id_keys_and_instance_numbers() -> None:
    assert id_key("123") == 123 and id_key("0") == 0
    assert id_key("0123") < 0 and id_key("abc") < 0 and id_key("abc") == id_key("abc")
    assert id_key("9" * 30) < 0
    assert instance_number("vint-hill:1:ps-mpa-1") == 1 and instance_number(0) == 0 and instance_number(None) is None


@pytest.mark.parametrize("seed", range(5))
def test_sorted_index_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    index, entries = SortedIndex(), []
    for row in range(3000):
        key = row // 3 if rng.random() < 0.7 else rng.randrange(1100)
        index.add(key, row)
        entries.append((key, row))
        if rng.random() < 0.05 and entries:
            gone = entries.pop(rng.randrange(len(entries)))
            index.remove(*gone)
        if rng.random() < 0.02:
            low = rng.randrange(1100)
            high = low + rng.randrange(200)
            assert sorted(index.range(low, high)) == sorted(r for k, r in entries if low <= k <= high)
        probe = rng.randrange(1100)
        assert sorted(index.find(probe)) == sorted(r for k, r in entries if k == probe)
    key_of = dict((r, k) for k, r in entries)
    ordered = [key_of[r] for r in index.rows()]
    assert ordered == sorted(ordered) and len(ordered) == len(entries)


@pytest.mark.parametrize("seed", range(4))
def test_collection_matches_brute_force(seed: int) -> None:
    """Random deals in random order with replays and changed duplicates; every query equals a filter."""
    rng = random.Random(seed)
    collection = HistoryCollection(("time",))
    truth: dict[str, dict[str, Any]] = {}
    first, second = list(range(1000, 1400)), list(range(1400, 1800))
    rng.shuffle(first)
    tickets = first + second  # first half out of order, second half in order
    for ticket in tickets:
        deal = random_deal(rng, ticket)
        assert collection.add(dict(deal), instance=rng.randrange(2))
        truth[deal["id"]] = deal
        if rng.random() < 0.2:  # replayed update: identical, nothing new
            old = rng.choice(list(truth.values()))
            assert not collection.add(dict(old))
        if rng.random() < 0.05:  # changed record with a known id: replaces
            changed = {
                **rng.choice(list(truth.values())),
                "profit": 1.25,
                "time": T0 + timedelta(seconds=rng.randrange(10**4)),
            }
            assert collection.add(dict(changed))
            truth[changed["id"]] = changed

    def by_time(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda d: d["time"])

    assert len(collection) == len(truth)
    assert by_time(collection.all()) == by_time(list(truth.values()))
    assert [d["time"] for d in collection.all()] == sorted(d["time"] for d in truth.values())
    for _ in range(50):
        start = T0 + timedelta(milliseconds=rng.randrange(10**7))
        end = start + timedelta(milliseconds=rng.randrange(2 * 10**6))
        expected = [d for d in truth.values() if start <= d["time"] <= end]
        got = collection.by_time(start, end)
        assert [d["time"] for d in got] == sorted(d["time"] for d in expected)
        assert sorted(got, key=lambda d: d["id"]) == sorted(expected, key=lambda d: d["id"])
    for position in map(str, range(1, 41)):
        expected = by_time([d for d in truth.values() if d.get("positionId") == position])
        assert collection.by_position(position) == expected
    for ticket in ("1000", "1799", "1500", "5", "abc"):
        assert collection.by_id(ticket) == ([truth[ticket]] if ticket in truth else [])
    assert collection.last_time() == max(d["time"] for d in truth.values())


def test_boundaries_are_inclusive_and_results_are_copies() -> None:
    collection = HistoryCollection(("time",))
    for i in range(3):
        collection.add({"id": str(i + 1), "time": T0 + timedelta(seconds=i)})
    assert [d["id"] for d in collection.by_time(T0, T0 + timedelta(seconds=1))] == ["1", "2"]
    collection.by_id("1")[0]["time"] = None
    assert collection.by_id("1")[0]["time"] == T0


def test_orders_indexed_by_done_time_and_last_times_per_instance() -> None:
    orders = HistoryCollection(("doneTime", "time"))
    orders.add({"id": "1", "time": T0, "doneTime": T0 + timedelta(hours=2)}, loaded=True)
    orders.add({"id": "2", "time": T0 + timedelta(hours=1)}, instance=0)
    orders.add({"id": "3", "time": T0, "doneTime": T0 + timedelta(hours=3)}, instance=1)
    assert [o["id"] for o in orders.all()] == ["2", "1", "3"]
    assert orders.last_time() == T0 + timedelta(hours=3)
    assert orders.last_time(0) == T0 + timedelta(hours=2)  # loaded history counts for every instance
    assert orders.last_time(1) == T0 + timedelta(hours=3)
    assert orders.last_time(5) == T0 + timedelta(hours=2)
    assert [o["id"] for o in orders.take_unsaved()] == ["2", "3"] and orders.take_unsaved() == []
    assert HistoryCollection(("time",)).last_time() is None


def test_fast_datetime_conversion_is_exact_on_random_values() -> None:
    rng = random.Random(3)
    limit = 2**33 * 10**6
    for value in [rng.randrange(-limit, limit) for _ in range(100_000)] + [limit - 1, -limit + 1, limit, 2**52]:
        assert from_us(value) == EPOCH + timedelta(microseconds=value)


def test_two_refused_values_in_one_row_widen_both_columns() -> None:
    table = ColumnTable()
    rows = [table.append({"a": 1, "b": "1", "c": 2.5}), table.append({"a": 1.5, "b": "x", "c": "odd"})]
    rows.append(table.append({"a": 2, "b": "2", "c": 3.0}))
    assert table.take(rows) == [
        {"a": 1, "b": "1", "c": 2.5},
        {"a": 1.5, "b": "x", "c": "odd"},
        {"a": 2, "b": "2", "c": 3.0},
    ]
    assert type(table.take(rows)[0]["a"]) is int


def test_unsaved_records_are_taken_in_batches_and_replaced_ones_skipped() -> None:
    collection = HistoryCollection(("time",))
    for i in range(5):
        collection.add({"id": str(i + 1), "time": T0 + timedelta(seconds=i)})
    collection.add({"id": "2", "time": T0, "profit": 1.0})  # replaces id 2: its first version is not saved
    assert [d["id"] for d in collection.take_unsaved(3)] == ["1", "3"]
    assert collection.has_unsaved
    assert [d["id"] for d in collection.take_unsaved(3)] == ["4", "5", "2"]
    assert not collection.has_unsaved and collection.take_unsaved(3) == []


def test_naive_times_are_taken_as_utc() -> None:
    collection = HistoryCollection(("time",))
    collection.add({"id": "1", "time": datetime(2024, 1, 1, 12)})
    assert collection.by_time(T0, T0 + timedelta(days=1)) == [{"id": "1", "time": datetime(2024, 1, 1, 12)}]
    assert collection.last_time() == datetime(2024, 1, 1, 12, tzinfo=UTC)
