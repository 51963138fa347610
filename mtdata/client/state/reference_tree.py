"""Collections of items kept by collection hash (protocol §7.8), so a resynchronization can reuse what the client holds.

A :class:`ReferenceTree` maps a collection hash (XOR of its item hashes) to an entry: a root entry holds every
item; a child entry holds only what one update changed (items and hashes by key, removed keys) and points to
its parent. A child's collection hash is derived from its parent's by XOR-ing out the replaced / removed item
hashes and XOR-ing in the new ones, so an update costs O(changed items), never a rehash of the collection.
A chain is cut (the child stored in full) once it is longer than :data:`MAX_DEPTH` and a quarter of the
collection, so a key lookup walks at most that many entries and full copies cost O(1) items per update.

Holders (one per terminal-state stream) reference the entry they currently show; :meth:`ReferenceTree.prune`
drops entries nobody referenced for 10 minutes, folding a dropped entry's changes into its only child. It runs
when its owner calls it and, at most every 5 minutes, at the end of a recording (no task of its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Item = dict[str, Any]
#: ``hasher(item, account_type, region)`` -> the item's 32-hex hash.
Hasher = Callable[[Mapping[str, Any], str | None, str], str]

#: Entries nobody referenced for this long are pruned.
RECORD_EXPIRATION_SECONDS = 600.0
#: Recordings prune the tree when it was last pruned this long ago.
PRUNE_INTERVAL_SECONDS = 300.0
#: Parent chains grow to this length, or a quarter of the collection's size if longer, before a child is stored in full.
MAX_DEPTH = 32
#: Most hashes offered per collection kind in ``synchronize``.
MAX_OFFERED = 20
#: Hashes each similar (not exact) category contributes to the offered list.
SIMILAR_CATEGORY_HASHES = 3
#: Minimal similarity (0-100) of two category names (server names) for fuzzy matching.
SIMILARITY_THRESHOLD = 70.0


def similarity(a: str, b: str) -> float:
    """Indel similarity of two strings in percent (``2 * LCS / (len(a) + len(b)) * 100``), as RapidFuzz ``ratio``."""
    total = len(a) + len(b)
    if total == 0:
        return 100.0
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for char in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if char == other else max(previous[j + 1], current[j]))
        previous = current
    return 200.0 * previous[-1] / total


class _Entry:
    """One collection state: the full data (root) or one update's changes (child of ``parent``)."""

    __slots__ = ("children", "depth", "hashes", "items", "last_used", "parent", "references", "removed", "size")

    def __init__(
        self,
        hashes: dict[str, str],
        items: dict[str, Item],
        parent: str | None,
        removed: set[str],
        size: int,
        depth: int,
        now: float,
    ) -> None:
        self.hashes = hashes
        self.items = items
        self.parent = parent
        self.removed = removed
        self.size = size
        self.depth = depth
        self.children: set[str] = set()
        self.references: set[str] = set()
        self.last_used = now


class ReferenceTree:
    """Item collections by collection hash for one item kind (specifications, positions or orders)."""

    def __init__(
        self,
        hasher: Hasher,
        id_key: str,
        use_fuzzy_search: bool = False,
        keep_hash_trees: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hasher = hasher
        self._id_key = id_key
        self._fuzzy = use_fuzzy_search
        self._keep = keep_hash_trees
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        #: category -> {hash: None}, oldest use first (a dict as an ordered set)
        self._categories: dict[str, dict[str, None]] = {}
        #: holder -> the hash it references
        self._held: dict[str, str] = {}
        self._pruned_at = clock()

    def __len__(self) -> int:
        return len(self._entries)

    # ---- reading ----------------------------------------------------------------------------------------------

    def _chain(self, hash: str) -> list[_Entry] | None:
        entry = self._entries.get(hash)
        if entry is None:
            return None
        chain = [entry]
        while entry.parent is not None:
            entry = self._entries[entry.parent]
            chain.append(entry)
        chain.reverse()
        return chain

    def get_items_by_hash(self, hash: str | None) -> dict[str, Item] | None:
        """The collection recorded under ``hash`` as ``{key: item}`` (a new dict), None if unknown."""
        chain = self._chain(hash) if hash else None
        if chain is None:
            return None
        return _overlay(chain, "items")

    def get_hashes_by_hash(self, hash: str | None) -> dict[str, str] | None:
        """The item hashes of the collection recorded under ``hash`` as ``{key: item hash}``, None if unknown."""
        chain = self._chain(hash) if hash else None
        if chain is None:
            return None
        return _overlay(chain, "hashes")

    def _item_hash(self, hash: str, key: str) -> str | None:
        """The hash of item ``key`` in the collection ``hash`` (None if it is not there)."""
        entry: _Entry | None = self._entries[hash]
        while entry is not None:
            found = entry.hashes.get(key)
            if found is not None:
                return found
            if key in entry.removed:
                return None
            entry = self._entries[entry.parent] if entry.parent is not None else None
        return None

    # ---- writing ----------------------------------------------------------------------------------------------

    def record_items(
        self,
        category_name: str,
        account_type: str | None,
        connection_id: str,
        instance_index: str,
        items: Iterable[Item],
    ) -> str | None:
        """Record a full collection held by ``connection_id`` (a stream of ``instance_index``); its hash or None."""
        holder = connection_id
        region = instance_index.split(":", 1)[0]
        hashes: dict[str, str] = {}
        data: dict[str, Item] = {}
        acc = 0
        for item in items:
            key = item[self._id_key]
            new = self._hasher(item, account_type, region)
            old = hashes.get(key)
            if old is not None:
                acc ^= int(old, 16)
            acc ^= int(new, 16)
            hashes[key] = new
            data[key] = item
        if not hashes:
            self.remove_reference(holder)
            return None
        collection = f"{acc:032x}"
        if collection not in self._entries:
            self._entries[collection] = _Entry(hashes, data, None, set(), len(hashes), 0, self._clock())
        self._touch_category(category_name, collection)
        self.add_reference(collection, holder)
        self._prune_when_due()
        return collection

    def update_items(
        self,
        category_name: str,
        account_type: str | None,
        holder: str,
        instance_index: str,
        items: Iterable[Item],
        removed_item_ids: Iterable[str],
        parent_hash: str | None,
    ) -> str | None:
        """Apply one update to the collection ``parent_hash``; returns the new collection hash (None if empty).

        Raises ``KeyError`` when ``parent_hash`` is not in the tree.
        """
        if not parent_hash:
            return self.record_items(category_name, account_type, holder, instance_index, items)
        parent = self._entries[parent_hash]
        region = instance_index.split(":", 1)[0]
        hashes: dict[str, str] = {}
        data: dict[str, Item] = {}
        removed: set[str] = set()
        acc = int(parent_hash, 16)
        size = parent.size
        for item in items:
            key = item[self._id_key]
            new = self._hasher(item, account_type, region)
            old = hashes[key] if key in hashes else self._item_hash(parent_hash, key)
            if old is None:
                size += 1
            else:
                acc ^= int(old, 16)
            acc ^= int(new, 16)
            hashes[key] = new
            data[key] = item
        for key in removed_item_ids:
            if key in hashes:
                old = hashes.pop(key)
                del data[key]
            elif key in removed:
                continue
            else:
                old = self._item_hash(parent_hash, key)
            if old is not None:
                acc ^= int(old, 16)
                size -= 1
                removed.add(key)
        if size <= 0:
            self.remove_reference(holder)
            return None
        collection = f"{acc:032x}"
        if collection not in self._entries:
            if parent.depth + 1 >= max(MAX_DEPTH, size // 4):
                full = self.get_items_by_hash(parent_hash) or {}
                full_hashes = self.get_hashes_by_hash(parent_hash) or {}
                for key in removed:
                    full.pop(key, None)
                    full_hashes.pop(key, None)
                full.update(data)
                full_hashes.update(hashes)
                entry = _Entry(full_hashes, full, None, set(), size, 0, self._clock())
            else:
                entry = _Entry(hashes, data, parent_hash, removed, size, parent.depth + 1, self._clock())
                parent.children.add(collection)
            self._entries[collection] = entry
        self._touch_category(category_name, collection)
        self.add_reference(collection, holder)
        self._prune_when_due()
        return collection

    # ---- references and categories -----------------------------------------------------------------------------

    def add_reference(self, hash: str, holder: str) -> None:
        """Make ``holder`` reference ``hash`` (instead of what it referenced before)."""
        entry = self._entries.get(hash)
        if entry is None:
            raise KeyError(f"no collection recorded under {hash}")
        previous = self._held.get(holder)
        if previous is not None and previous != hash:
            self._release(previous, holder)
        self._held[holder] = hash
        entry.references.add(holder)
        entry.last_used = self._clock()

    def remove_reference(self, holder: str) -> None:
        """``holder`` no longer references anything."""
        previous = self._held.pop(holder, None)
        if previous is not None:
            self._release(previous, holder)

    def _release(self, hash: str, holder: str) -> None:
        entry = self._entries.get(hash)
        if entry is not None:
            entry.references.discard(holder)
            entry.last_used = self._clock()

    def _touch_category(self, category: str, hash: str) -> None:
        hashes = self._categories.setdefault(category, {})
        hashes.pop(hash, None)
        hashes[hash] = None

    def get_last_used_hashes(self, category_name: str) -> list[str]:
        """The hashes to offer in ``synchronize``: newest first, at most 20 (similar categories too when fuzzy).

        The offered entries are marked as used now, so pruning cannot drop them before the server answers.
        """
        if not self._fuzzy:
            found = _newest(self._categories.get(category_name), MAX_OFFERED)
        else:
            similar = [c for c in self._categories if similarity(category_name, c) >= SIMILARITY_THRESHOLD]
            found = []
            if similar and similar[0] == category_name:
                found = _newest(self._categories[category_name], None)
                similar = similar[1:]
            for category in similar:
                found += _newest(self._categories[category], SIMILAR_CATEGORY_HASHES)
        found = found[:MAX_OFFERED]
        now = self._clock()
        for hash in found:
            entry = self._entries.get(hash)
            if entry is not None:
                entry.last_used = now
        return found

    # ---- pruning ----------------------------------------------------------------------------------------------

    def _prune_when_due(self) -> None:
        if self._clock() - self._pruned_at >= PRUNE_INTERVAL_SECONDS:
            self.prune()

    def prune(self) -> int:
        """Drop entries unreferenced for 10 minutes (an only child inherits the dropped entry's changes).

        Returns how many entries were dropped; does nothing when the tree keeps its entries (debugging).
        """
        self._pruned_at = now = self._clock()
        if self._keep:
            return 0
        deadline = now - RECORD_EXPIRATION_SECONDS
        dropped = 0
        for hash in reversed(list(self._entries)):  # children (created later) before their parents
            entry = self._entries[hash]
            if entry.references or entry.last_used > deadline or len(entry.children) > 1:
                continue
            if entry.children:
                (child_hash,) = entry.children
                self._fold_into_child(hash, entry, child_hash)
            if entry.parent is not None:
                self._entries[entry.parent].children.discard(hash)
            del self._entries[hash]
            dropped += 1
            for category in list(self._categories):
                hashes = self._categories[category]
                hashes.pop(hash, None)
                if not hashes:
                    del self._categories[category]
        return dropped

    def _fold_into_child(self, hash: str, entry: _Entry, child_hash: str) -> None:
        child = self._entries[child_hash]
        if entry.parent is None:
            child.items = self.get_items_by_hash(child_hash) or {}
            child.hashes = self.get_hashes_by_hash(child_hash) or {}
            child.removed = set()
            child.depth = 0
        else:
            child.removed = (entry.removed - child.hashes.keys()) | child.removed
            child.items = {**entry.items, **child.items}
            child.hashes = {**entry.hashes, **child.hashes}
            for key in child.removed:
                child.items.pop(key, None)
                child.hashes.pop(key, None)
            self._entries[entry.parent].children.add(child_hash)
            child.depth = entry.depth
        child.parent = entry.parent


def _overlay(chain: list[_Entry], field: str) -> dict[str, Any]:
    state: dict[str, Any] = dict(getattr(chain[0], field))
    for entry in chain[1:]:
        state.update(getattr(entry, field))
        for key in entry.removed:
            state.pop(key, None)
    return state


def _newest(hashes: dict[str, None] | None, count: int | None) -> list[str]:
    if not hashes:
        return []
    newest = list(reversed(hashes))
    return newest if count is None else newest[:count]
