"""A compact column store for history records (deals, history orders): a million deals in under 200 MB.

Records are flat wire dicts. Each field is one typed column (:mod:`.columns`); each row keeps the tuple
of its keys (its *shape*), so a record comes back with exactly its keys, key order and value types.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from operator import call
from typing import Any

from ..dates import convert_dates, is_time_key
from .columns import COLUMN_KINDS, Column, ObjectColumn, column_for, pick, wider

#: Shape code of a deleted row.
DEAD = 0xFFFF


class ColumnTable:
    """Rows of flat records in typed columns; rows are numbered in insertion order and never move."""

    def __init__(self) -> None:
        self._columns: list[Column] = []
        self._column_of: dict[str, int] = {}
        self._shape_of: dict[tuple[str, ...], int] = {}
        self._shapes: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
        self._absent: list[list[int]] = []
        self._row_shape = array("H")
        self._writers: dict[int, tuple[list[Callable[[Any], bool]], list[Callable[[], None]]]] = {}
        self.dead = 0

    def __len__(self) -> int:
        return len(self._row_shape)

    def append(self, item: dict[str, Any]) -> int:
        """Store ``item`` as a new row; returns its row number."""
        keys = tuple(item)
        shape = self._shape_of.get(keys)
        if shape is None:
            shape = self._new_shape(keys, item)
        writers = self._writers.get(shape) or self._bind(shape)
        accepted = list(map(call, writers[0], item.values()))
        if not all(accepted):  # rare: a value the column's encoding cannot hold
            for index, done, value in zip(self._shapes[shape][1], accepted, item.values(), strict=True):
                if not done:
                    self._widen(index, value)
        for fill in writers[1]:
            fill()
        row = len(self._row_shape)
        self._row_shape.append(shape)
        return row

    def _bind(self, shape: int) -> tuple[list[Callable[[Any], bool]], list[Callable[[], None]]]:
        """The bound ``append`` methods of a shape's columns and ``filler`` methods of the others (cached)."""
        columns = self._columns
        writers = [columns[i].append for i in self._shapes[shape][1]], [columns[i].filler for i in self._absent[shape]]
        self._writers[shape] = writers
        return writers

    def export(self) -> tuple[dict[str, Any], list[Any]]:
        """``(meta, buffers)`` describing the whole table (buffers are the live arrays, not copies)."""
        keys = sorted(self._column_of, key=self._column_of.__getitem__)
        columns, buffers = [], [self._row_shape]
        for key, column in zip(keys, self._columns, strict=True):
            extra, own = column.export()
            columns.append([key, type(column).__name__, extra])
            buffers.extend(own)
        meta = {"columns": columns, "shapes": [list(keys) for keys, _ in self._shapes], "dead": self.dead}
        return meta, buffers

    @classmethod
    def restore(cls, meta: dict[str, Any], blobs: Iterator[bytes]) -> ColumnTable:
        """The table ``export`` described."""
        table = cls()
        table._row_shape.frombytes(next(blobs))
        for key, kind, extra in meta["columns"]:
            table._column_of[key] = len(table._columns)
            column = COLUMN_KINDS[kind].restore(extra, blobs)
            if isinstance(column, ObjectColumn) and is_time_key(key):  # dates as a JSON-lines load restores them
                column.data = [convert_dates({key: value})[key] for value in column.data]
            table._columns.append(column)
        for keys in meta["shapes"]:
            indexes = tuple(table._column_of[key] for key in keys)
            table._shape_of[tuple(keys)] = len(table._shapes)
            table._shapes.append((tuple(keys), indexes))
            table._absent.append([i for i in range(len(table._columns)) if i not in indexes])
        table.dead = meta["dead"]
        return table

    def kill(self, row: int) -> None:
        """Mark ``row`` deleted (its space is kept until the table is cleared)."""
        self._row_shape[row] = DEAD
        self.dead += 1

    def alive(self, row: int) -> bool:
        """False once ``row`` was deleted."""
        return self._row_shape[row] != DEAD

    def value(self, row: int, field: str) -> Any:
        """One field of one row (None when the row lacks it)."""
        index = self._column_of.get(field)
        shape = self._row_shape[row]
        if index is None or shape == DEAD or index not in self._shapes[shape][1]:
            return None
        return self._columns[index].take((row,))[0]

    def take(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The records of ``rows`` (new dicts), in that order; read column by column for speed."""
        if not rows:
            return []
        if (
            type(rows) is not range
            and rows[-1] - rows[0] == len(rows) - 1
            and rows == list(range(rows[0], rows[-1] + 1))
        ):
            rows = range(rows[0], rows[-1] + 1)  # one contiguous run: every column is read by slicing
        shapes = set(pick(self._row_shape, rows))
        if len(shapes) == 1:
            return self._take_shape(shapes.pop(), rows)
        row_shape = self._row_shape
        groups: dict[int, list[int]] = {}
        for position, row in enumerate(rows):
            groups.setdefault(row_shape[row], []).append(position)
        out: list[dict[str, Any]] = [{}] * len(rows)
        for shape, positions in groups.items():
            for position, record in zip(positions, self._take_shape(shape, [rows[p] for p in positions]), strict=True):
                out[position] = record
        return out

    def _take_shape(self, shape: int, rows: Sequence[int]) -> list[dict[str, Any]]:
        keys, indexes = self._shapes[shape]
        columns = self._columns
        values = [columns[index].take(rows) for index in indexes]
        return [dict(zip(keys, record, strict=True)) for record in zip(*values, strict=True)]

    def _new_shape(self, keys: tuple[str, ...], item: dict[str, Any]) -> int:
        if len(self._shapes) >= DEAD:
            raise OverflowError("too many distinct record shapes")
        for key in keys:
            if key not in self._column_of:
                column = column_for(item[key])
                for _ in range(len(self._row_shape)):
                    column.filler()
                self._column_of[key] = len(self._columns)
                for absent in self._absent:
                    absent.append(len(self._columns))
                self._columns.append(column)
                self._writers.clear()
        indexes = tuple(self._column_of[key] for key in keys)
        present = set(indexes)
        self._shapes.append((keys, indexes))
        self._absent.append([i for i in range(len(self._columns)) if i not in present])
        self._shape_of[keys] = len(self._shapes) - 1
        return len(self._shapes) - 1

    def _widen(self, index: int, value: Any) -> None:
        """Re-encode column ``index`` so it also holds ``value`` (appended as the current row's value)."""
        old = self._columns[index]
        rows = range(len(self._row_shape))
        column = wider(old, value)
        for existing in old.take(rows):
            if not column.append(existing):
                column = ObjectColumn()
                column.data = old.take(rows)
                break
        if not column.append(value):
            fallback = ObjectColumn()
            fallback.data = column.take(rows)
            fallback.append(value)
            column = fallback
        self._columns[index] = column
        self._writers.clear()
