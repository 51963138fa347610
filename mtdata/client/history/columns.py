"""Typed columns of history record fields: the compact encodings behind :class:`.table.ColumnTable`.

Each field is one column (``array`` of ints, floats or epoch microseconds, digit-string ids as ints, repeated
strings as category codes, other strings in one UTF-8 heap, anything else in a list). A column that meets a
value its encoding cannot hold is widened (int -> float, category -> text, else -> object).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ...hashing import iso_ms
from ..dates import convert_dates

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_EXACT_FLOAT_INT = 2**53
_fromtimestamp = datetime.fromtimestamp
#: Within this many microseconds of the epoch (years 1698..2242) a float of seconds is within 0.25 µs of the
#: exact value, so ``fromtimestamp`` (rounding to the nearest µs) is exact, and twice as fast as a timedelta.
_FLOAT_EXACT_US = 2**33 * 10**6
#: A category column holding more distinct values than this becomes a text column.
_MAX_CATEGORIES = 4096


def to_us(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact)."""
    return (value - EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    """Integer epoch microseconds as an aware UTC datetime (exact)."""
    if -_FLOAT_EXACT_US < value < _FLOAT_EXACT_US:
        return _fromtimestamp(value / 1e6, UTC)
    return EPOCH + timedelta(microseconds=value)


def json_default(value: Any) -> str:
    """``orjson`` fallback: datetimes as wire ISO strings (``2024-03-01T12:00:05.123Z``)."""
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # the common case, 10x faster than strftime
            return value.isoformat(timespec="milliseconds")[:-6] + "Z"
        return iso_ms(value)
    raise TypeError(f"cannot store {type(value).__name__} in the history database")


def dump_json(value: Any) -> bytes:
    """Compact JSON, datetimes as wire ISO strings; ints beyond 64 bits (which orjson refuses) via ``json``."""
    try:
        return orjson.dumps(value, default=json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        return json.dumps(value, default=json_default, separators=(",", ":"), ensure_ascii=False).encode()


def pick(data: Any, rows: Sequence[int]) -> list[Any]:
    """``[data[r] for r in rows]`` as fast as it goes (a slice when ``rows`` is a ``range``)."""
    if type(rows) is range and rows.step == 1:
        chunk = data[rows.start : rows.stop]
        return chunk.tolist() if type(chunk) is array else list(chunk)
    return list(map(data.__getitem__, rows))


def is_digit_id(value: Any) -> bool:
    """True for canonical ASCII digit strings (no leading zero) that fit a signed 64-bit int."""
    return (
        type(value) is str
        and 0 < len(value) <= 18
        and value.isascii()
        and value.isdigit()
        and (value[0] != "0" or value == "0")
    )


class Column:
    """One field's values by row number; ``append`` returns False when a value does not fit the encoding."""

    def append(self, value: Any) -> bool:
        """Store ``value`` for the next row, or return False (the table then widens the column)."""
        raise NotImplementedError

    def filler(self) -> None:
        """Store a placeholder for a row that lacks this field (never read back)."""
        raise NotImplementedError

    def take(self, rows: Sequence[int]) -> list[Any]:
        """The values of ``rows``, in that order."""
        raise NotImplementedError

    #: Attributes holding the column's values as raw buffers (``array`` or ``bytearray``), for snapshots.
    BUFFERS: tuple[str, ...] = ("data",)

    def export(self) -> tuple[Any, list[Any]]:
        """``(extra, buffers)``: JSON-able extras and the raw buffers (not copied) that ``restore`` rebuilds from."""
        return None, [getattr(self, name) for name in self.BUFFERS]

    @classmethod
    def restore(cls, extra: Any, blobs: Iterator[bytes]) -> Column:
        """The column ``export`` described, its buffers read from ``blobs`` in order."""
        column = cls()
        for name in cls.BUFFERS:
            current = getattr(column, name)
            if isinstance(current, array):
                fresh = array(current.typecode)
                fresh.frombytes(next(blobs))
                setattr(column, name, fresh)
            else:
                setattr(column, name, bytearray(next(blobs)))
        return column


class IntColumn(Column):
    """Python ints (not bools) in a signed 64-bit array."""

    def __init__(self) -> None:
        self.data = array("q")

    def append(self, value: Any) -> bool:
        if type(value) is int and _INT_MIN <= value <= _INT_MAX:
            self.data.append(value)
            return True
        return False

    def filler(self) -> None:
        self.data.append(0)

    def take(self, rows: Sequence[int]) -> list[Any]:
        return pick(self.data, rows)


class FloatColumn(Column):
    """Floats in a double array; ints mixed in (``"commission": 0``) are flagged and come back as ints."""

    def __init__(self) -> None:
        self.data = array("d")
        self.ints: bytearray | None = None

    def append(self, value: Any) -> bool:
        kind = type(value)
        if kind is float:
            self.data.append(value)
            if self.ints is not None:
                self.ints.append(0)
            return True
        if kind is int and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
            if self.ints is None:
                self.ints = bytearray(len(self.data))
            self.data.append(value)
            self.ints.append(1)
            return True
        return False

    def filler(self) -> None:
        self.append(0.0)

    def take(self, rows: Sequence[int]) -> list[Any]:
        values = pick(self.data, rows)
        if self.ints is None:
            return values
        return [int(v) if flag else v for v, flag in zip(values, pick(self.ints, rows), strict=True)]

    def export(self) -> tuple[Any, list[Any]]:
        return self.ints is not None, [self.data, self.ints if self.ints is not None else b""]

    @classmethod
    def restore(cls, extra: Any, blobs: Iterator[bytes]) -> Column:
        column = cls()
        column.data.frombytes(next(blobs))
        ints = next(blobs)
        column.ints = bytearray(ints) if extra else None
        return column


class DigitsColumn(Column):
    """Digit-string ids (``"1234567"``) as 64-bit ints."""

    def __init__(self) -> None:
        self.data = array("q")

    def append(self, value: Any) -> bool:
        # is_digit_id, inlined: this runs for every id, positionId and orderId
        if (
            type(value) is str
            and 0 < len(value) <= 18
            and value.isdigit()
            and value.isascii()
            and (value[0] != "0" or len(value) == 1)
        ):
            self.data.append(int(value))
            return True
        return False

    def filler(self) -> None:
        self.data.append(0)

    def take(self, rows: Sequence[int]) -> list[Any]:
        return list(map(str, pick(self.data, rows)))


class CategoryColumn(Column):
    """Few distinct strings, bools or None (types, reasons, symbols) as 16-bit codes."""

    def __init__(self) -> None:
        self.codes = array("H")
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}

    def append(self, value: Any) -> bool:
        kind = type(value)
        if kind is not str and kind is not bool and value is not None:
            return False
        code = self.index.get(value)
        if code is None:
            if len(self.values) >= _MAX_CATEGORIES:
                return False
            code = self.index[value] = len(self.values)
            self.values.append(value)
        self.codes.append(code)
        return True

    def filler(self) -> None:
        self.codes.append(0)

    def take(self, rows: Sequence[int]) -> list[Any]:
        return list(map(self.values.__getitem__, pick(self.codes, rows)))

    BUFFERS = ("codes",)

    def export(self) -> tuple[Any, list[Any]]:
        return self.values, [self.codes]

    @classmethod
    def restore(cls, extra: Any, blobs: Iterator[bytes]) -> Column:
        column = cls()
        column.codes.frombytes(next(blobs))
        column.values = list(extra)
        column.index = {value: code for code, value in enumerate(column.values)}
        return column


class TextColumn(Column):
    """Strings of any variety (broker times, comments) in one UTF-8 heap with end offsets."""

    def __init__(self) -> None:
        self.heap = bytearray()
        self.ends = array("q", [0])

    def append(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        self.heap += value.encode()
        self.ends.append(len(self.heap))
        return True

    def filler(self) -> None:
        self.ends.append(len(self.heap))

    def take(self, rows: Sequence[int]) -> list[Any]:
        heap, ends = self.heap, self.ends
        return [heap[ends[r] : ends[r + 1]].decode() for r in rows]

    BUFFERS = ("heap", "ends")


class DateColumn(Column):
    """Aware datetimes as epoch microseconds (read back in UTC)."""

    def __init__(self) -> None:
        self.data = array("q")

    def append(self, value: Any) -> bool:
        if type(value) is datetime and value.tzinfo is not None:
            self.data.append(to_us(value))
            return True
        return False

    def filler(self) -> None:
        self.data.append(0)

    def take(self, rows: Sequence[int]) -> list[Any]:
        return list(map(from_us, pick(self.data, rows)))


class ObjectColumn(Column):
    """Anything else (nested objects, lists, odd types): a plain list."""

    def __init__(self) -> None:
        self.data: list[Any] = []

    def append(self, value: Any) -> bool:
        self.data.append(value)
        return True

    def filler(self) -> None:
        self.data.append(None)

    def take(self, rows: Sequence[int]) -> list[Any]:
        return pick(self.data, rows)

    def export(self) -> tuple[Any, list[Any]]:
        return None, [dump_json(self.data)]

    @classmethod
    def restore(cls, extra: Any, blobs: Iterator[bytes]) -> Column:
        column = cls()
        column.data = convert_dates(orjson.loads(next(blobs)))
        return column


#: Column classes by name, for snapshots.
COLUMN_KINDS: dict[str, type[Column]] = {
    kind.__name__: kind
    for kind in (IntColumn, FloatColumn, DigitsColumn, CategoryColumn, TextColumn, DateColumn, ObjectColumn)
}


def column_for(value: Any) -> Column:
    """The most compact column that can start with ``value``."""
    kind = type(value)
    if kind is str:
        return DigitsColumn() if is_digit_id(value) else CategoryColumn()
    if value is None or kind is bool:
        return CategoryColumn()
    if kind is int:
        return IntColumn()
    if kind is float:
        return FloatColumn()
    if kind is datetime and value.tzinfo is not None:
        return DateColumn()
    return ObjectColumn()


def wider(column: Column, value: Any) -> Column:
    """The column a full ``column`` becomes to also hold ``value``."""
    if isinstance(column, IntColumn) and type(value) is float:
        return FloatColumn()
    if isinstance(column, DigitsColumn | CategoryColumn) and type(value) is str:
        return TextColumn()
    return ObjectColumn()
