"""ReferenceTree (protocol §7.8): incremental collection hashes, lookups by hash, offered hashes, pruning."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest

from mtdata.client.state.reference_tree import MAX_DEPTH, ReferenceTree, similarity
from mtdata.hashing import collection_hash, item_hash

II = "vint-hill:0:ps-mpa-1"


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def hasher(item: Mapping[str, Any], account_type: str | None, region: str) -> str:
    return item_hash(item, "position")


def tree(clock: Clock | None = None, fuzzy: bool = False) -> ReferenceTree:
    return ReferenceTree(hasher, "id", fuzzy, False, clock or Clock())


def position(key: str, volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return {"id": key, "type": "POSITION_TYPE_BUY", "symbol": "EURUSD", "magic": 0, "volume": volume, **extra}


def test_record_and_read_back() -> None:
    t = tree()
    items = [position("1"), position("2", 0.2)]
    h = t.record_items("acc", "cloud-g2", "holder", II, items)
    assert h == collection_hash(items, "position")
    assert t.get_items_by_hash(h) == {"1": items[0], "2": items[1]}
    assert t.get_hashes_by_hash(h) == {i["id"]: item_hash(i, "position") for i in items}
    assert t.record_items("acc", "cloud-g2", "holder", II, []) is None
    assert t.get_items_by_hash("f" * 32) is None and t.get_items_by_hash(None) is None


def test_updates_derive_the_hash_incrementally_and_keep_every_version() -> None:
    t = tree()
    state = {"1": position("1"), "2": position("2")}
    versions = {t.record_items("acc", None, "h", II, state.values()): dict(state)}
    h = next(iter(versions))
    rng = random.Random(5)
    for step in range(3 * MAX_DEPTH):
        changed = [position(str(rng.randint(1, 12)), round(rng.uniform(0.01, 2), 2)) for _ in range(rng.randint(0, 3))]
        removed = [str(rng.randint(1, 12)) for _ in range(rng.randint(0, 2))]
        for item in changed:
            state[item["id"]] = item
        for key in removed:
            state.pop(key, None)
        h = t.update_items("acc", None, "h", II, changed, removed, h)
        assert h == collection_hash(state.values(), "position"), step
        if h is not None:
            versions[h] = dict(state)
        else:
            h = t.record_items("acc", None, "h", II, [position("1")])
            state = {"1": position("1")}
            versions[h] = dict(state)
    for version, expected in versions.items():
        assert t.get_items_by_hash(version) == expected
    assert max(entry.depth for entry in t._entries.values()) < MAX_DEPTH


def test_an_update_that_changes_nothing_keeps_the_hash_and_a_revert_reuses_the_old_entry() -> None:
    t = tree()
    base = t.record_items("acc", None, "h", II, [position("1"), position("2")])
    assert t.update_items("acc", None, "h", II, [position("1")], [], base) == base
    changed = t.update_items("acc", None, "h", II, [position("1", 0.5)], [], base)
    assert t.update_items("acc", None, "h", II, [position("1")], [], changed) == base
    assert len(t) == 2
    assert t.update_items("acc", None, "h", II, [], ["1", "2"], base) is None
    with pytest.raises(KeyError):
        t.update_items("acc", None, "h", II, [], ["1"], "0" * 32)


def test_last_used_hashes_newest_first_at_most_20() -> None:
    t = tree()
    hashes = [t.record_items("acc", None, "h", II, [position("1", v / 100)]) for v in range(1, 26)]
    t.record_items("other", None, "h2", II, [position("9")])
    assert t.get_last_used_hashes("acc") == list(reversed(hashes))[:20]
    t.record_items("acc", None, "h", II, [position("1", 0.03)])  # used again: newest
    assert t.get_last_used_hashes("acc")[0] == hashes[2]
    assert t.get_last_used_hashes("nobody") == []


def test_fuzzy_categories_exact_name_first_then_three_per_similar_name() -> None:
    t = tree(fuzzy=True)

    def record(category: str, count: int) -> list[str]:
        return [t.record_items(category, None, f"{category}{i}", II, [position(category, i)]) for i in range(count)]

    exact = record("ICMarketsSC-Demo", 5)
    similar = record("ICMarketsSC-Demo02", 5)
    record("Pepperstone-Live", 5)
    offered = t.get_last_used_hashes("ICMarketsSC-Demo")
    assert offered == list(reversed(exact)) + list(reversed(similar))[:3]
    # the exact name is not the first similar category: it contributes 3 hashes like the others
    assert t.get_last_used_hashes("ICMarketsSC-Demo0") == list(reversed(exact))[:3] + list(reversed(similar))[:3]


def test_similarity_is_the_indel_ratio() -> None:
    assert similarity("abc", "abc") == 100
    assert similarity("abc", "abd") == pytest.approx(66.6667, abs=1e-3)
    assert similarity("this is a test", "this is a test!") == pytest.approx(96.5517, abs=1e-3)
    assert similarity("ICMarketsSC-Demo", "ICMarketsSC-Demo02") == pytest.approx(2 * 16 / 34 * 100)
    assert similarity("", "") == 100 and similarity("a", "") == 0


def test_prune_drops_old_unreferenced_entries_and_folds_a_dropped_parent_into_its_child() -> None:
    clock = Clock()
    t = tree(clock)
    root = t.record_items("acc", None, "a", II, [position("1"), position("2"), position("3")])
    middle = t.update_items("acc", None, "a", II, [position("1", 0.7)], ["2"], root)
    leaf = t.update_items("acc", None, "a", II, [position("4")], ["3"], middle)
    expected = t.get_items_by_hash(leaf)
    assert t.prune() == 0  # nothing is old yet
    clock.now += 601
    assert t.prune() == 2  # root and middle: unreferenced and old; leaf is referenced by "a"
    assert list(t._entries) == [leaf]
    assert t.get_items_by_hash(leaf) == expected == {"1": position("1", 0.7), "4": position("4")}
    assert t.get_last_used_hashes("acc") == [leaf]
    t.remove_reference("a")
    clock.now += 601
    assert t.prune() == 1 and len(t) == 0 and t.get_last_used_hashes("acc") == []


def test_prune_keeps_a_branching_entry_and_offered_hashes() -> None:
    clock = Clock()
    t = tree(clock)
    root = t.record_items("acc", None, "a", II, [position("1")])
    left = t.update_items("acc", None, "a", II, [position("2")], [], root)
    right = t.update_items("acc", None, "b", II, [position("3")], [], root)
    clock.now += 601
    assert t.prune() == 0  # root has two children, each referenced
    t.remove_reference("b")
    clock.now += 300
    t.get_last_used_hashes("acc")  # offering refreshes the offered entries
    clock.now += 301
    assert t.prune() == 0
    clock.now += 601
    assert t.prune() == 2  # right, then root folded into left
    assert t.get_items_by_hash(left) == {"1": position("1"), "2": position("2")}
    assert t.get_items_by_hash(right) is None


def test_kept_trees_are_never_pruned() -> None:
    clock = Clock()
    t = ReferenceTree(hasher, "id", False, True, clock)
    t.record_items("acc", None, "a", II, [position("1")])
    t.remove_reference("a")
    clock.now += 10_000
    assert t.prune() == 0 and len(t) == 1


def test_references_move_with_the_holder() -> None:
    t = tree()
    first = t.record_items("acc", None, "a", II, [position("1")])
    second = t.update_items("acc", None, "a", II, [position("2")], [], first)
    assert t._entries[first].references == set() and t._entries[second].references == {"a"}
    t.add_reference(first, "b")
    assert t._entries[first].references == {"b"}
    with pytest.raises(KeyError):
        t.add_reference("0" * 32, "c")


def test_chains_of_a_large_collection_are_cut_at_a_quarter_of_its_size() -> None:
    t = tree()
    state = {str(i): position(str(i)) for i in range(400)}
    h = t.record_items("acc", None, "h", II, state.values())
    for step in range(250):
        item = position(str(step % 400), 1 + step)
        state[item["id"]] = item
        h = t.update_items("acc", None, "h", II, [item], [], h)
    assert h == collection_hash(state.values(), "position")
    assert t.get_items_by_hash(h) == state
    roots = [entry for entry in t._entries.values() if entry.parent is None]
    assert len(roots) == 3  # the recorded collection, then one full copy per 100 updates
    assert max(entry.depth for entry in t._entries.values()) == 99


def test_recording_prunes_when_the_last_prune_is_five_minutes_old() -> None:
    clock = Clock()
    t = tree(clock)
    old = t.record_items("acc", None, "a", II, [position("1")])
    t.record_items("acc", None, "a", II, [position("2")])  # "a" moves on: the first collection is unreferenced
    clock.now += 299
    t.record_items("acc", None, "b", II, [position("3")])
    assert t.get_items_by_hash(old) is not None
    clock.now += 302  # 601 s unreferenced, last prune 601 s ago
    t.update_items("acc", None, "b", II, [position("4")], [], t._held["b"])
    assert t.get_items_by_hash(old) is None and len(t) == 3
