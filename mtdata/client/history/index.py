"""Indexes of one kind of history record: by id (ticket), by position id and by time, O(log n) lookups.

:class:`SortedIndex` keeps integer keys and row numbers in two parallel arrays (12 bytes per entry, no per-entry
object): records arriving in key order are appended in O(1); the others wait in a small buffer that the next
range query merges in one pass. :class:`HistoryCollection` puts a :class:`~.table.ColumnTable` behind
three such indexes and merges duplicates by id (an ``update`` replayed after a synchronization adds nothing).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from hashlib import blake2b
from operator import itemgetter
from typing import Any

from .columns import from_us, is_digit_id, to_us
from .table import ColumnTable

Record = dict[str, Any]
#: Out-of-order entries buffered before a merge is forced.
_MERGE_AT = 4096


def id_key(value: Any) -> int:
    """The index key of an id: digit strings as their integer value, anything else as a negative 62-bit hash."""
    if is_digit_id(value):
        return int(value)
    digest = blake2b(str(value).encode(), digest_size=8).digest()
    return -1 - (int.from_bytes(digest, "big") >> 2)


def instance_number(instance: int | str | None) -> int | None:
    """The instance number of an ``instance_index`` (``"region:1:host"`` -> 1), an int as it is, None for None."""
    if instance is None or isinstance(instance, int):
        return instance
    parts = str(instance).split(":")
    try:
        return int(parts[1] if len(parts) > 1 else parts[0])
    except ValueError:
        return 0


class SortedIndex:
    """Integer keys -> row numbers, sorted by key (equal keys in arrival order)."""

    def __init__(self) -> None:
        self._keys = array("q")
        self._rows = array("i")
        self._pending: list[tuple[int, int]] = []
        self._pending_rows: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._pending)

    def add(self, key: int, row: int) -> None:
        """Index ``row`` under ``key`` (O(1) when keys arrive in order)."""
        keys = self._keys
        if not self._pending and (not keys or key >= keys[-1]):
            keys.append(key)
            self._rows.append(row)
            return
        self._pending.append((key, row))
        self._pending_rows.setdefault(key, []).append(row)
        if len(self._pending) >= _MERGE_AT:
            self._merge()

    def beyond(self, key: int) -> bool:
        """True when ``key`` is greater than every key held (O(1): then ``find`` would be empty)."""
        return not self._pending and (not self._keys or key > self._keys[-1])

    def find(self, key: int) -> list[int]:
        """The rows under ``key`` (no merge needed: the buffer has its own map)."""
        keys = self._keys
        start = bisect_left(keys, key)
        rows = self._rows[start : bisect_right(keys, key, start)].tolist()
        extra = self._pending_rows.get(key)
        return rows + extra if extra else rows

    def remove(self, key: int, row: int) -> None:
        """Drop the entry ``(key, row)`` if present."""
        waiting = self._pending_rows.get(key)
        if waiting and row in waiting:
            waiting.remove(row)
            if not waiting:
                del self._pending_rows[key]
            self._pending.remove((key, row))
            return
        keys, rows = self._keys, self._rows
        for position in range(bisect_left(keys, key), bisect_right(keys, key)):
            if rows[position] == row:
                del keys[position]
                del rows[position]
                return

    def range(self, low: int, high: int) -> list[int]:
        """Rows with ``low <= key <= high``, in key order."""
        self._merge()
        keys = self._keys
        start = bisect_left(keys, low)
        return self._rows[start : bisect_right(keys, high, start)].tolist()

    def rows(self) -> list[int]:
        """Every row, in key order."""
        self._merge()
        return self._rows.tolist()

    def export(self) -> list[array]:
        """The key and row arrays (merged first; the live arrays, not copies), for snapshots."""
        self._merge()
        return [self._keys, self._rows]

    @classmethod
    def restore(cls, blobs: Iterator[bytes]) -> SortedIndex:
        """The index ``export`` described."""
        index = cls()
        index._keys.frombytes(next(blobs))
        index._rows.frombytes(next(blobs))
        return index

    def _merge(self) -> None:
        """Fold the buffered entries into the arrays in one pass (array slices: O(n) in C, O(p) in Python)."""
        if not self._pending:
            return
        pending = sorted(self._pending, key=itemgetter(0))
        self._pending, self._pending_rows = [], {}
        keys, rows = self._keys, self._rows
        new_keys, new_rows = array("q"), array("i")
        previous = 0
        for key, row in pending:
            position = bisect_right(keys, key, previous)
            new_keys += keys[previous:position]
            new_rows += rows[previous:position]
            new_keys.append(key)
            new_rows.append(row)
            previous = position
        new_keys += keys[previous:]
        new_rows += rows[previous:]
        self._keys, self._rows = new_keys, new_rows


class HistoryCollection:
    """Deals or history orders: a column table indexed by id, position id and time; duplicates by id merged."""

    def __init__(self, time_fields: tuple[str, ...]) -> None:
        self._time_fields = time_fields
        self._table = ColumnTable()
        self._by_id = SortedIndex()
        self._by_position = SortedIndex()
        self._by_time = SortedIndex()
        self._max_us: int | None = None
        self._loaded_max_us: int | None = None
        self._instance_max_us: dict[int, int] = {}
        self._unsaved = array("i")

    def __len__(self) -> int:
        return len(self._by_id)

    def export(self) -> tuple[dict[str, Any], list[Any]]:
        """``(meta, buffers)`` of the whole collection for a snapshot (records not saved yet are not marked)."""
        meta, buffers = self._table.export()
        for index in (self._by_id, self._by_position, self._by_time):
            buffers.extend(index.export())
        return {"timeFields": list(self._time_fields), "maxUs": self._max_us, "table": meta}, buffers

    @classmethod
    def restore(cls, meta: dict[str, Any], blobs: Iterator[bytes]) -> HistoryCollection:
        """The collection ``export`` described, every record counted as loaded."""
        collection = cls(tuple(meta["timeFields"]))
        collection._table = ColumnTable.restore(meta["table"], blobs)
        collection._by_id = SortedIndex.restore(blobs)
        collection._by_position = SortedIndex.restore(blobs)
        collection._by_time = SortedIndex.restore(blobs)
        collection._max_us = collection._loaded_max_us = meta["maxUs"]
        return collection

    def time_of(self, item: Record) -> datetime | None:
        """The time a record is indexed under (the first of the time fields it has)."""
        for field in self._time_fields:
            value = item.get(field)
            if isinstance(value, datetime):
                return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return None

    def add(self, item: Record, instance: int | None = None, loaded: bool = False) -> bool:
        """Store ``item`` (replacing a record with its id); False when an identical record was already there.

        ``loaded`` marks records read from the database: not saved again, and the base of every instance's
        last time. ``instance`` is the instance number that delivered the record (for per-instance times).
        """
        identifier = item.get("id")
        key = id_key(identifier)
        stamp = self.time_of(item)
        stamp_us = to_us(stamp) if stamp is not None else None
        for row in () if self._by_id.beyond(key) else self._by_id.find(key):
            if self._table.value(row, "id") != identifier:
                continue
            if self._table.take((row,))[0] == item:
                self._note_time(stamp_us, instance, loaded)
                return False
            self._drop(row, key)
        table = self._table
        row = table.append(item)
        self._by_id.add(key, row)
        self._by_time.add(stamp_us if stamp_us is not None else 0, row)
        position = item.get("positionId")
        if position is not None:
            self._by_position.add(id_key(position), row)
        self._note_time(stamp_us, instance, loaded)
        if not loaded:
            self._unsaved.append(row)
        return True

    def _note_time(self, stamp_us: int | None, instance: int | None, loaded: bool) -> None:
        if stamp_us is None:
            return
        if self._max_us is None or stamp_us > self._max_us:
            self._max_us = stamp_us
        if loaded:
            if self._loaded_max_us is None or stamp_us > self._loaded_max_us:
                self._loaded_max_us = stamp_us
        elif instance is not None and stamp_us > self._instance_max_us.get(instance, stamp_us - 1):
            self._instance_max_us[instance] = stamp_us

    def _drop(self, row: int, key: int) -> None:
        table = self._table
        record = table.take((row,))[0]
        self._by_id.remove(key, row)
        self._by_time.remove(self._stamp_us(record), row)
        position = record.get("positionId")
        if position is not None:
            self._by_position.remove(id_key(position), row)
        table.kill(row)

    def last_time(self, instance: int | None = None) -> datetime | None:
        """The newest record time overall, or for one instance (what it delivered, plus what was loaded)."""
        if instance is None:
            newest = self._max_us
        else:
            candidates = [t for t in (self._loaded_max_us, self._instance_max_us.get(instance)) if t is not None]
            newest = max(candidates) if candidates else None
        return from_us(newest) if newest is not None else None

    def by_id(self, identifier: str) -> list[Record]:
        """Records with this id (at most one), as new dicts."""
        return self._matching(self._by_id.find(id_key(identifier)), "id", identifier)

    def by_position(self, position_id: str) -> list[Record]:
        """Records of this position, oldest first."""
        return self._matching(self._by_position.find(id_key(position_id)), "positionId", position_id)

    def _matching(self, rows: list[int], field: str, value: Any) -> list[Record]:
        records = [r for r in self._table.take(rows) if r.get(field) == value]
        if len(records) > 1:
            records.sort(key=self._stamp_us)
        return records

    def _stamp_us(self, item: Record) -> int:
        stamp = self.time_of(item)
        return to_us(stamp) if stamp is not None else 0

    def by_time(self, start: datetime, end: datetime) -> list[Record]:
        """Records with ``start <= time <= end`` (both inclusive), oldest first."""
        return self._table.take(self._by_time.range(to_us(start), to_us(end)))

    def all(self) -> list[Record]:
        """Every record, oldest first."""
        return self._table.take(self._by_time.rows())

    def take_unsaved(self, limit: int | None = None) -> list[Record]:
        """Up to ``limit`` of the records added (and still current) since they were last taken, for the database."""
        rows = self._unsaved[:limit]
        del self._unsaved[:limit]
        table = self._table
        return table.take([row for row in rows if table.alive(row)])

    @property
    def has_unsaved(self) -> bool:
        """True while records wait to be saved."""
        return bool(self._unsaved)
