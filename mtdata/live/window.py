"""A bounded window of columns that producers fill from any thread and a panel shows through Bokeh.

The window is ``rollover`` closed rows (oldest dropped first) plus, optionally, one *forming* row at the
end: the candle still being built, patched in place on every price. :meth:`Window.stream` appends closed
rows (a closed bar supersedes the one that was forming), :meth:`Window.patch` replaces the forming row.
:meth:`Window.advance` moves the forming row on by its time (patched at the same time, closed by a later one);
:meth:`Window.hold` carries its values on to a later time (a step chart's line reaching now, one row however long).
:meth:`Window.apply`, on the kernel's thread, moves what changed since the last call into
:attr:`Window.source` as at most one ``patch`` and one ``stream`` message, so a browser receives only the
new rows whatever the tick rate; when more rows arrived than the window holds, the data is replaced whole.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from bokeh.models import ColumnDataSource

from ..client import checks


class Window:
    """Bounded columns (closed rows + one forming row) mirrored into a Bokeh ``ColumnDataSource``."""

    def __init__(self, columns: Sequence[str], rollover: int = 1000) -> None:
        if isinstance(columns, str) or not columns or not all(isinstance(c, str) and c for c in columns):
            raise checks.fail("columns", "must be a non-empty sequence of column names", columns)
        if len(set(columns)) != len(columns):
            raise checks.fail("columns", "must not repeat a name", columns)
        checks.integer("rollover", rollover, minimum=1)
        self.columns: tuple[str, ...] = tuple(columns)
        """The column names, in order: every row has a value for each, and :attr:`source` has these columns."""
        self._rollover = rollover
        self._closed: dict[str, deque[Any]] = {c: deque(maxlen=rollover) for c in self.columns}
        self._forming: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._new_closed = 0
        self._forming_changed = False
        self._holding = False  # the forming row is a hold: a copy of the last closed row at a later time
        self._shown_forming = False
        self._shown_rows = 0
        self.source = ColumnDataSource(data={c: [] for c in self.columns})
        """The Bokeh data source glyphs draw from; only :meth:`apply` changes it."""

    @property
    def rollover(self) -> int:
        """The most closed rows kept (the forming row comes on top)."""
        return self._rollover

    def __len__(self) -> int:
        """Rows in the window now, the forming one included (the source catches up on :meth:`apply`)."""
        with self._lock:
            return len(self._closed[self.columns[0]]) + (self._forming is not None)

    def stream(self, rows: Mapping[str, Sequence[Any]]) -> None:
        """Append closed rows, given as equal-length columns (thread-safe); they replace the forming row."""
        self._check_keys("rows", rows)
        lengths = {len(rows[c]) for c in self.columns}
        if len(lengths) != 1:
            raise checks.fail("rows", "must have columns of equal length", {c: len(rows[c]) for c in self.columns})
        count = lengths.pop()
        if count == 0:
            return
        with self._lock:
            for c in self.columns:
                self._closed[c].extend(rows[c])
            self._new_closed += count
            self._holding = False
            if self._forming is not None:
                self._forming = None
                self._forming_changed = True

    def patch(self, row: Mapping[str, Any]) -> None:
        """Set the forming row (thread-safe): the one row at the end that later prices change in place."""
        self._check_keys("row", row)
        with self._lock:
            self._forming = {c: row[c] for c in self.columns}
            self._forming_changed = True
            self._holding = False

    def advance(self, row: Mapping[str, Any], key: str = "time") -> bool:
        """Set the forming row to ``row`` (thread-safe): in place when its ``key`` equals the forming row's, after it
        when later (the forming row closed, as a bar is when the next opens); False and nothing changed when earlier
        (late news of a closed row)."""
        self._check_keys("row", row)
        with self._lock:
            forming = self._forming
            if forming is not None and row[key] < forming[key]:
                return False
            if forming is not None and row[key] > forming[key]:
                for c in self.columns:
                    self._closed[c].append(forming[c])
                self._new_closed += 1
            self._forming = {c: row[c] for c in self.columns}
            self._forming_changed = True
            self._holding = False
        return True

    def hold(self, at: Any, key: str = "time") -> bool:
        """Carry the forming row's values on to the later ``key`` value ``at`` (thread-safe): the first hold closes
        the forming row and forms a copy at ``at``, later ones move that copy, so a step chart's line reaches ``at``
        with one row more however often it is called; the next :meth:`advance` closes the hold where it reached.
        False and nothing changed without a forming row or when ``at`` is not later than it."""
        with self._lock:
            forming = self._forming
            if forming is None or not at > forming[key]:
                return False
            if not self._holding:
                for c in self.columns:
                    self._closed[c].append(forming[c])
                self._new_closed += 1
                self._holding = True
            self._forming = {**forming, key: at}
            self._forming_changed = True
        return True

    @property
    def forming(self) -> dict[str, Any] | None:
        """A copy of the forming row, None when there is none."""
        with self._lock:
            return None if self._forming is None else dict(self._forming)

    def data(self) -> dict[str, list[Any]]:
        """A copy of the window's columns now, the forming row last (for snapshots and tests)."""
        with self._lock:
            return self._columns_locked()

    def apply(self) -> bool:
        """Move the changes since the last call into :attr:`source`; False when there were none.

        Call it on the thread that owns the Bokeh document (the kernel's), e.g. from a panel's flush.
        """
        with self._lock:
            if not self._new_closed and not self._forming_changed:
                return False
            new_closed, forming = min(self._new_closed, self._rollover), self._forming
            was_forming, shown_rows = self._shown_forming, self._shown_rows
            window_rows = self._rollover + (forming is not None)
            target_rows = len(self._closed[self.columns[0]]) + (forming is not None)
            # on screen: the forming row (if any) patched with the first new row, the others streamed
            new_rows = new_closed + (forming is not None)
            streamed = new_rows - was_forming
            rows_after = shown_rows + streamed
            if streamed > 0:
                rows_after = min(rows_after, window_rows)
            full = self._new_closed >= self._rollover or new_rows == 0 or rows_after != target_rows
            if full:
                data = self._columns_locked()
            else:
                data = {c: [self._closed[c][i] for i in range(-new_closed, 0)] for c in self.columns}
                if forming is not None:
                    for c in self.columns:
                        data[c].append(forming[c])
            self._new_closed = 0
            self._forming_changed = False
            self._shown_forming = forming is not None
            self._shown_rows = target_rows
        if full:
            self.source.data = data
            return True
        if was_forming:
            self.source.patch({c: [(shown_rows - 1, data[c][0])] for c in self.columns})
            data = {c: v[1:] for c, v in data.items()}
        if streamed > 0:
            self.source.stream(data, rollover=window_rows)
        return True

    def _columns_locked(self) -> dict[str, list[Any]]:
        data = {c: list(self._closed[c]) for c in self.columns}
        if self._forming is not None:
            for c in self.columns:
                data[c].append(self._forming[c])
        return data

    def _check_keys(self, name: str, given: Mapping[str, Any]) -> None:
        if not isinstance(given, Mapping) or set(given) != set(self.columns):
            keys = sorted(given) if isinstance(given, Mapping) else given
            raise checks.fail(name, f"must have exactly the columns {list(self.columns)}", keys)
