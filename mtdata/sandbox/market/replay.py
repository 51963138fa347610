"""Replay of user data: a CSV or Parquet file of ticks or M1 candles stands in for a symbol's simulated prices.

The format is told from the columns: ``time,bid,ask[,last,volume]`` are ticks, ``time,open,high,low,close
[,tick_volume,spread,real_volume]`` are M1 candles (bid prices; ``spread`` in points), named as MetaTrader 5's
Python package names them; a candle file's ``volume`` is refused as ambiguous (tick or real volume?). Times
are ISO strings (UTC unless they carry an offset) or epoch seconds / milliseconds. History of the symbol is the file and
nothing else: before its first time and after its end there are no prices (never a repeat of the file).
Live play **loops** the file from the market clock's start on: it repeats every P weeks from its first
time (P = its length rounded up to whole weeks, so weekdays and sessions line up), and only the repeats'
parts after the clock's start exist, so live prices keep playing through it while history stays true. Replayed
candles give ticks the way simulated ones do (at least 4 per minute; ``tickVolume`` is raised to 4 where
lower); replayed ticks give candles by aggregation. Times must ascend: a file with a time out of order, a
candle time repeated or a tick row written twice is refused with a :class:`ReplayFileError` (a
``ValidationException`` naming the ``replay`` argument, the file and the row) before anything starts.
"""

from __future__ import annotations

import csv
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np

from ...errors import ValidationException
from . import clock
from .pricegen import Bars, Ticks, bars_from_ticks, concat_bars, concat_ticks, seeded_rng, ticks_from_bars
from .symbols import SymbolInfo

WEEK = 7 * clock.DAY
_TICK_COLUMNS = ("time", "bid", "ask")
_BAR_COLUMNS = ("time", "open", "high", "low", "close")
_ALIASES = {"tickvolume": "tick_volume", "timestamp": "time", "date": "time", "datetime": "time"}


class ReplayFileError(ValidationException, ValueError):
    """A replay file that cannot be played as it is; ``details`` names the ``replay`` argument and the file."""


def _bad(path: Path, message: str) -> ReplayFileError:
    """The error for a bad replay file: the argument, the file and what is wrong with it."""
    return ReplayFileError(f"replay: {path}: {message}", [{"parameter": "replay", "value": str(path),
                                                          "message": message}])  # fmt: skip


def _ascending(path: Path, t: np.ndarray, rows: Ticks | None = None) -> None:
    """Refuse times out of order, and repeated times of candles (or repeated rows of ticks: ticks sharing a
    millisecond are real, a row written twice is not), naming the first offending row (1 = first data row)."""
    step = np.diff(t)
    back = np.flatnonzero(step < 0)
    if len(back):
        raise _bad(path, f"column 'time' must be in ascending order: row {back[0] + 2} is before row {back[0] + 1}")
    same = step == 0
    if rows is not None:
        same &= (np.diff(rows.bid) == 0) & (np.diff(rows.ask) == 0)
    if same.any():
        row = int(np.flatnonzero(same)[0]) + 2
        raise _bad(path, f"column 'time' has a duplicate: row {row} repeats the time of row {row - 1}"
                         + (" with the same prices" if rows is not None else ""))  # fmt: skip


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV or Parquet file by lower-case name."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is installed with the notebook extra
            raise _bad(path, "reading Parquet needs pyarrow (pip install pyarrow)") from None
        table = pq.read_table(path)
        return {name.strip().lower(): table.column(name).to_numpy() for name in table.column_names}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise _bad(path, "the file is empty")
    header = [name.strip().lower() for name in rows[0]]
    body = [row for row in rows[1:] if row]
    if any(len(row) != len(header) for row in body):
        raise _bad(path, f"every row must have {len(header)} values like the header")
    values = list(zip(*body, strict=True)) if body else [() for _ in header]
    return {name: np.array(column, dtype=object) for name, column in zip(header, values, strict=True)}


def _times(path: Path, values: np.ndarray) -> np.ndarray:
    """Epoch ms from ISO strings, datetimes, epoch seconds or epoch milliseconds."""
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ms]").astype(np.int64)
    try:
        numbers = values.astype(np.float64)
    except (TypeError, ValueError):
        numbers = None
    if numbers is not None and len(numbers) and np.isfinite(numbers).all():
        return np.rint(numbers * (1000 if np.abs(numbers).max() < 1e11 else 1)).astype(np.int64)
    texts = [str(text).strip() for text in values.tolist()]
    if all(text[-1:] in "Zz0123456789" and "+" not in text and text.count("-") == 2 for text in texts):
        try:  # the common case, UTC without offsets: parsed by numpy in bulk
            return np.array([text.rstrip("Zz") for text in texts], dtype="datetime64[ms]").astype(np.int64)
        except ValueError:
            pass
    out = np.empty(len(values), dtype=np.int64)
    for i, text in enumerate(texts):
        try:
            parsed = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _bad(path, f"column 'time' has a bad value {text!r} in row {i + 1}") from None
        if parsed.tzinfo is None:
            out[i] = int((parsed - datetime(1970, 1, 1)).total_seconds() * 1000)
        else:
            out[i] = int(parsed.timestamp() * 1000)
    return out


def _prices(path: Path, columns: dict[str, np.ndarray], name: str, scale: int) -> np.ndarray:
    """A positive price column in integer points."""
    try:
        values = columns[name].astype(np.float64)
    except (TypeError, ValueError):
        raise _bad(path, f"column '{name}' must hold numbers") from None
    if not np.isfinite(values).all() or (values <= 0).any():
        raise _bad(path, f"column '{name}' must hold positive numbers")
    return np.rint(values * scale).astype(np.int64)


def _optional(path: Path, columns: dict[str, np.ndarray], name: str, default: float) -> np.ndarray:
    """A non-negative numeric column, or ``default`` everywhere when absent."""
    length = len(columns["time"])
    if name not in columns:
        return np.full(length, default)
    try:
        values = columns[name].astype(np.float64)
    except (TypeError, ValueError):
        raise _bad(path, f"column '{name}' must hold numbers") from None
    if not np.isfinite(values).all() or (values < 0).any():
        raise _bad(path, f"column '{name}' must hold non-negative numbers")
    return values


def infer_digits(path: Path) -> int:
    """Decimal digits needed by a file's prices (for symbols outside the universe), at most 8."""
    columns = _normalized(Path(path))
    names = _TICK_COLUMNS[1:] if "bid" in columns else _BAR_COLUMNS[1:]
    try:
        values = np.concatenate([columns[name].astype(np.float64) for name in names])
    except (TypeError, ValueError):
        return 5  # the file is invalid: ReplayProcess reports which column
    for digits in range(9):
        if np.allclose(values * 10**digits, np.rint(values * 10**digits), rtol=0, atol=1e-6):
            return digits
    return 8


def _normalized(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise _bad(path, "replay file not found")
    columns = {_ALIASES.get(name, name): values for name, values in _read_columns(path).items()}
    if "time" not in columns:
        raise _bad(path, f"missing column 'time' (columns: {', '.join(columns)})")
    if len(columns["time"]) == 0:
        raise _bad(path, "the file has no rows")
    if not {"bid", "ask"} <= columns.keys() and not set(_BAR_COLUMNS) <= columns.keys():
        wanted = _TICK_COLUMNS if "bid" in columns or "ask" in columns else _BAR_COLUMNS
        missing = [name for name in wanted if name not in columns]
        raise _bad(path, f"neither ticks (time,bid,ask) nor M1 candles (time,open,high,low,close); "
                         f"missing column '{missing[0]}'")  # fmt: skip
    return columns


class ReplayProcess:
    """A symbol's prices from a file, looped every ``period`` ms from ``live_from`` (the clock's start) on."""

    def __init__(
        self, info: SymbolInfo, path: Path, seed: int, live_from: int, broker_clock: clock.BrokerClock
    ) -> None:
        self.info = info
        self.clock = broker_clock
        self.live_from = live_from
        path = Path(path)
        columns = _normalized(path)
        t = _times(path, columns["time"])
        self._key = (seed, zlib.crc32(info.name.encode()), 4, len(t))
        if "bid" in columns:
            bid, ask = _prices(path, columns, "bid", info.scale), _prices(path, columns, "ask", info.scale)
            self._ticks: Ticks | None = Ticks(t, bid, ask, _optional(path, columns, "volume", 0.0))
            _ascending(path, t, self._ticks)
            if (ask < bid).any():
                raise _bad(path, "column 'ask' must be >= bid on every row")
            self._bars = bars_from_ticks(self._ticks)
        else:
            _ascending(path, t)
            if (t % clock.MINUTE != 0).any():
                raise _bad(path, "column 'time' must hold whole minutes for M1 candles")
            o, h, low, c = (_prices(path, columns, name, info.scale) for name in _BAR_COLUMNS[1:])
            if (h < np.maximum(o, c)).any() or (low > np.minimum(o, c)).any():
                raise _bad(path, "column 'high'/'low' must bound open and close on every row")
            if "volume" in columns:
                raise _bad(path, "column 'volume' is ambiguous for M1 candles: name it 'tick_volume' (ticks in the "
                                 "minute) or 'real_volume' (traded volume), as MetaTrader 5 does")  # fmt: skip
            tv = np.maximum(np.rint(_optional(path, columns, "tick_volume", 4)), 4).astype(np.int64)
            spread = np.maximum(np.rint(_optional(path, columns, "spread", info.spread)), 0).astype(np.int64)
            self._ticks = None
            self._bars = Bars(t, o, h, low, c, tv, spread, _optional(path, columns, "real_volume", 0.0))
        self.start = int(self._bars.t[0])
        self.period = (-(-(int(self._bars.t[-1]) + clock.MINUTE - self.start) // WEEK)) * WEEK
        self.first_day = self.clock.day_of(self.start)
        self._last_day = self.clock.day_of(int(self._bars.t[-1]))
        self._live_day = self.clock.day_of(live_from)

    def _looped(self, rows: Bars | Ticks, lo: int, hi: int) -> list[Bars | Ticks]:
        """Rows in [lo, hi): the file's own (loop 0), then its repeats' rows at or after ``live_from``."""
        parts: list[Bars | Ticks] = []
        for loop in range(max(0, (lo - self.start) // self.period), max(0, (hi - 1 - self.start) // self.period + 1)):
            shift = loop * self.period
            first = max(lo, self.live_from) if loop else lo
            i, j = np.searchsorted(rows.t, (first - shift, hi - shift))
            if j > i:
                part = rows.take(slice(i, j))
                parts.append(part._replace(t=part.t + shift))
        return parts

    def previous_day(self, day: int) -> int:
        """The latest broker day before ``day`` that may hold bars (skips the gap between the file and live play)."""
        return day - 1 if day - 1 >= self._live_day else min(day - 1, self._last_day)

    def day_bars(self, day: int) -> Bars:
        """M1 bars of a broker day."""
        return concat_bars(self._looped(self._bars, self.clock.day_start(day), self.clock.day_start(day + 1)))  # type: ignore[arg-type]

    def hour_ticks(self, hour: int, bars: Bars) -> Ticks:
        """Ticks of a UTC hour: the file's own ticks, or ticks synthesized inside its candles."""
        if self._ticks is None:
            return ticks_from_bars(bars, seeded_rng(*self._key, hour))
        return concat_ticks(self._looped(self._ticks, hour * clock.HOUR, (hour + 1) * clock.HOUR))  # type: ignore[arg-type]
