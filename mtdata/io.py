"""CSV and Parquet export of mtdata frames; hive-partitioned Parquet datasets that any reader opens as they are.

A dataset is ``{root}/symbol={symbol}/timeframe={timeframe}/date={YYYY-MM-DD}/part-0.parquet``; ``date`` is the
broker date (of ``broker_time``: a daily candle is under its own date), the UTC date for frames without one.
Each file keeps the frame's ``time`` index and dtypes (pandas metadata), so ``pandas.read_parquet(root)``,
``pyarrow.dataset``, DuckDB (``read_parquet('root/**/*.parquet', hive_partitioning = true)``) and Dask read it
back typed. Appending a later range writes new date partitions and leaves the others untouched; a date
already present (the edge day of two ranges) is merged, without duplicates, and replaced atomically.
The ``timeframe=`` of each symbol's rows is what they show (:mod:`mtdata.spacing`), and every check runs
before the first file is written: a refused write changes nothing on disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import frames, spacing
from .client import checks
from .errors import ValidationException
from .timeframes import MT5_TIMEFRAMES

PART = "part-0.parquet"


def _frame(name: str, value: Any) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise checks.fail(name, "must be a pandas DataFrame (e.g. from session.candles())", type(value).__name__)
    return value


def to_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``frame`` as CSV (ISO times in UTC, ``Z``; the broker's wall clock without a zone); :func:`mtdata.read_csv`
    reads it back typed."""
    _frame("frame", frame)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    walls = {name: frame[name].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
             for name in frame if str(frame[name].dtype) == frames.WALL_DTYPE}  # fmt: skip
    frame.assign(**walls).to_csv(target, date_format="%Y-%m-%dT%H:%M:%S.%fZ", **kwargs)
    return target


def read_csv(path: str | Path, kind: str | None = None) -> pd.DataFrame:
    """A CSV written by :func:`to_csv` as the frame it was: ``time`` index in UTC, categorical ``symbol``, the
    dtypes of ``kind`` (``"candles"``, ``"ticks"``, ``"deals"`` …; candles and ticks are told by their columns).
    A CSV keeps no ``attrs``: a candle frame's ``attrs["timeframe"]`` is set from its spacing when every symbol
    shows the same (:mod:`mtdata.spacing`); ``attrs["gaps"]`` is not restored."""
    header = pd.read_csv(path, nrows=0).columns
    known = [name for name in header if frames.known(name)]  # read as text, typed by mtdata's table
    frame = pd.read_csv(path, dtype=dict.fromkeys(known, object), keep_default_na=False, na_values=[""])
    kind = kind or spacing.kind(frame.columns)
    if kind is not None:
        checks.choice("kind", kind, frames.SCHEMAS)
    columns = {name: frame[name] for name in frame}
    columns |= {name: frames.column(name, [v if isinstance(v, str) else None for v in frame[name]]) for name in known}
    index = columns.pop("time", None)
    result = frames.build(columns, index if index is not None else pd.RangeIndex(len(frame)), kind)
    if kind == "candles" and len(result):
        symbols = result["symbol"].astype(str).to_numpy()
        stamps = result.index.asi8
        shown = {spacing.shown(np.sort(stamps[symbols == name])) for name in set(symbols)}
        if len(shown) == 1 and None not in shown:
            result.attrs["timeframe"] = shown.pop()
    return result


def _write_atomic(table: Any, folder: Path) -> None:
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=folder)
    os.close(fd)
    try:
        pq.write_table(table, partial)
        os.replace(partial, folder / PART)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def to_parquet(
    frame: pd.DataFrame, path: str | Path, timeframe: str | None = None, partitioned: bool | None = None
) -> Path:
    """Write ``frame`` to ``path``: one Parquet file, or (a directory, or ``partitioned=True``) a hive dataset.

    A dataset needs a ``time`` index, a ``symbol`` column and candle (``open high low close``) or tick
    (``bid ask``) columns. Each symbol's ``timeframe=`` partition comes from its rows (:mod:`mtdata.spacing`):
    ``frame.attrs["timeframe"]`` is only a hint and must agree (a ``resample`` keeps it, a ``concat`` drops
    it). An explicit ``timeframe`` is taken when every row fits it (gaps allowed), and is needed when a symbol
    has a single candle and the frame no hint. Appending adds partitions; dates already there are merged and
    rewritten, other partitions are not touched. A Dask frame (``candles(..., as_dask=True)``) is written the
    same way by the workers, each partition checked as a frame (:mod:`mtdata.dask.parquet`). Whatever is
    refused (a timeframe the rows do not show, rows off the partition's grid, other columns than the dataset's, a
    target that is not such a dataset) raises :class:`~mtdata.errors.ValidationException` before anything is
    written.
    """
    import pyarrow as pa

    from .dask import is_dask

    if is_dask(frame):
        if partitioned is False or (partitioned is None and Path(path).suffix):
            raise checks.fail("path", "must be a dataset directory for a Dask frame (its workers write partitions)",
                              str(path))  # fmt: skip
        from .dask.parquet import write

        write(frame, Path(path), timeframe)
        return Path(path)
    _frame("frame", frame)
    root = Path(path)
    if partitioned is None:
        partitioned = not root.suffix
    if not partitioned:
        root.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(root, engine="pyarrow")
        return root
    if not isinstance(frame.index, pd.DatetimeIndex) or "symbol" not in frame:
        raise checks.fail("frame", "must have a time index and a symbol column to be partitioned", list(frame))
    frame = frame.set_axis(_ms_index(frame.index))
    existing = dataset_timeframes(root, "path")
    if spacing.kind(frame.columns) == "candles":
        frame = _one_row_per_candle(frame)
    symbols = frame["symbol"].astype(str).to_numpy()
    chosen = _timeframes(frame, symbols, timeframe)
    body = frame.drop(columns="symbol")
    days = _dates(frame)
    writes = []
    for (symbol, day), part in body.groupby([symbols, days], sort=True):
        tf = chosen[symbol]
        folder = root / f"symbol={symbol}" / f"timeframe={tf}" / f"date={day}"
        table = pa.Table.from_pandas(part, preserve_index=True)
        if tf in existing.get(symbol, ()):
            _same_columns(root / f"symbol={symbol}" / f"timeframe={tf}", part)
        if (folder / PART).exists():
            part = _merged(pd.read_parquet(folder / PART, engine="pyarrow"), part, tf)
            if tf != "ticks" and not spacing.fits(tf, part.index.asi8):
                raise checks.fail("frame", f"rows of {symbol} on {day} are off the {tf} grid of the dataset's "
                                  f"partition timeframe={tf}", symbol)  # fmt: skip
            table = pa.Table.from_pandas(part, preserve_index=True)
        writes.append((table, folder))
    for table, folder in writes:  # every check passed: only now does anything change on disk
        _write_atomic(table, folder)
    return root


def _dates(frame: pd.DataFrame) -> np.ndarray:
    """The ``date=`` key of each row: its broker date where ``broker_time`` is known, else its UTC date."""
    utc = frame.index.tz_convert("UTC").tz_localize(None).to_numpy()
    typed = "broker_time" in frame and str(frame["broker_time"].dtype) == frames.WALL_DTYPE
    wall = frame["broker_time"].to_numpy() if typed else utc
    return np.where(np.isnat(wall), utc, wall).astype("datetime64[D]").astype(str)


def _one_row_per_candle(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without repeated rows (two overlapping downloads concatenated); two different rows for one
    symbol and open time are refused."""
    rows = frame.reset_index()
    repeated = rows.duplicated([rows.columns[0], "symbol"], keep="last").to_numpy()
    if not repeated.any():
        return frame
    differing = repeated & ~rows.duplicated(keep="last").to_numpy()
    if differing.any():
        first = rows[differing].iloc[0]
        raise checks.fail("frame", f"has different rows of {first['symbol']} opened at {first.iloc[0].isoformat()} "
                          "(candles are one row per symbol and time)", str(first["symbol"]))  # fmt: skip
    return frame[~repeated]


def _merged(old: pd.DataFrame, new: pd.DataFrame, tf: str) -> pd.DataFrame:
    """A partition's rows with ``new`` written over them: candles replace those of the same open time; ticks (several
    may share a millisecond) replace every stored tick within the new ones' first and last time."""
    if tf == "ticks":
        stamps = old.index.asi8
        old = old[(stamps < new.index.asi8.min()) | (stamps > new.index.asi8.max())]
        return pd.concat([old, new]).sort_index(kind="stable")
    both = pd.concat([old, new])
    return both[~both.index.duplicated(keep="last")].sort_index()


def _ms_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``index`` in UTC at millisecond resolution, as every partition stores it (pandas arithmetic may make it
    finer); a naive index or sub-millisecond times are refused."""
    if index.tz is None:
        raise checks.fail("frame", "must have a tz-aware time index (UTC) to be partitioned", str(index.dtype))
    exact = index.tz_convert("UTC").as_unit("ms")
    if not (exact == index).all():
        raise checks.fail("frame", "has sub-millisecond times (partitions store milliseconds)", str(index.dtype))
    return exact


def _timeframes(frame: pd.DataFrame, symbols: Any, timeframe: str | None) -> dict[str, str]:
    """The partition timeframe of each symbol's rows (see :func:`to_parquet`)."""
    kind = spacing.kind(frame.columns)
    if kind is None:
        raise checks.fail("frame", "must hold candles (open, high, low, close) or ticks (bid, ask) to be "
                          "partitioned", list(frame))  # fmt: skip
    explicit = None if timeframe is None else _known("timeframe", timeframe)
    hint = frame.attrs.get("timeframe")
    hint = None if hint is None else _known("frame.attrs['timeframe']", hint)
    names = list(dict.fromkeys(symbols))
    if kind == "ticks":
        for name, given in (("timeframe", explicit), ("frame.attrs['timeframe']", hint)):
            if given not in (None, "ticks"):
                raise checks.fail(name, "must be 'ticks' for a frame of ticks (bid/ask columns)", given)
        return dict.fromkeys(names, "ticks")
    if explicit == "ticks" or hint == "ticks":
        raise checks.fail("timeframe" if explicit else "frame.attrs['timeframe']", "must be a candle timeframe "
                          "for a frame of candles (open/high/low/close columns)", "ticks")  # fmt: skip
    stamps = frame.index.asi8
    chosen = {}
    for name in names:
        opens = np.sort(stamps[symbols == name])
        found = spacing.shown(opens)
        if len(opens) > 1 and found is None:
            closest = spacing.describe(int(np.diff(opens).min()))
            raise checks.fail("frame", f"rows of {name} fit no MetaTrader timeframe (mixed timeframes or irregular "
                              f"times; the closest two are {closest} apart)", name)  # fmt: skip
        if explicit is not None:
            if not spacing.fits(explicit, opens):
                shape = f"spaced as {found} candles" if found else f"off the {explicit} grid"
                raise checks.fail("timeframe", f"does not fit the rows of {name} ({shape})", explicit)
            chosen[name] = explicit
        elif hint is not None:
            if not spacing.agrees(hint, opens):
                shape = f"spaced as {found} candles" if found else f"off the {hint} grid"
                raise checks.fail("frame", f"rows of {name} are {shape}, which disagrees with attrs['timeframe'] "
                                  f"({hint}; a resample keeps attrs: set them, or pass timeframe= for rows sparser "
                                  "than their timeframe)", name)  # fmt: skip
            chosen[name] = hint
        elif found is not None:
            chosen[name] = found
        else:
            raise checks.fail("timeframe", f"must be given: {name} has a single candle, whose timeframe no spacing "
                              "tells, and the frame has no attrs['timeframe']", None)  # fmt: skip
    return chosen


def _known(name: str, value: Any) -> str:
    """A timeframe name as mtdata writes it in partitions: ``ticks`` or a wire timeframe (``M1``/``H1`` accepted)."""
    from .arguments import timeframe

    if value == "ticks":
        return value
    try:
        return timeframe(value)
    except ValidationException:
        raise checks.fail(name, f"must be 'ticks' or a timeframe ({', '.join(MT5_TIMEFRAMES)})", value) from None


def dataset_timeframes(root: Path, name: str) -> dict[str, set[str]]:
    """The timeframes of each symbol in the dataset at ``root`` (empty when there is none yet); refuses a
    directory holding anything else than ``symbol=…/timeframe=…`` partitions of known timeframes, hidden
    files aside (argument ``name``)."""
    if not root.exists():
        return {}
    if not root.is_dir():
        raise checks.fail(name, "must be a dataset directory (symbol=/timeframe=/date=), found a file", str(root))
    result: dict[str, set[str]] = {}
    for entry in _listing(root):
        if not entry.is_dir() or not entry.name.startswith("symbol=") or entry.name == "symbol=":
            raise checks.fail(name, "holds something else than an mtdata dataset (symbol=/timeframe=/date=): "
                              f"found {entry.name!r}", str(root))  # fmt: skip
        symbol = entry.name.removeprefix("symbol=")
        for folder in _listing(entry):
            tf = folder.name.removeprefix("timeframe=")
            if not folder.is_dir() or tf == folder.name or _canonical(tf) is None:
                raise checks.fail(name, "holds a partition of an unknown timeframe (mtdata writes 'ticks', '1m', "
                                  f"'1h', '1d' ...): found {entry.name}/{folder.name}", str(root))  # fmt: skip
            result.setdefault(symbol, set()).add(tf)
    return result


def _listing(folder: Path) -> list[Path]:
    return sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))


def _canonical(tf: str) -> str | None:
    return tf if tf == "ticks" or tf in MT5_TIMEFRAMES else None


def _same_columns(folder: Path, rows: pd.DataFrame) -> None:
    """Refuse rows whose index, columns or dtypes (as pandas reads them back) differ from those already in the
    partitions under ``folder``."""
    import pyarrow.parquet as pq

    part = next(folder.glob(f"date=*/{PART}"), None)
    if part is None:
        return
    old = pq.read_schema(part).empty_table().to_pandas()
    have, got = (", ".join(f"{name}: {dtype}" for name, dtype in [(frame.index.name, frame.index.dtype),
                                                                    *frame.dtypes.items()]) for frame in (old, rows))
    if have != got:
        raise checks.fail("path", f"holds {folder.parent.name}/{folder.name} with other columns ({have})", got)


def read_parquet(
    path: str | Path, symbols: str | list[str] | None = None, timeframe: str | None = None
) -> pd.DataFrame:
    """A file or dataset written by :func:`to_parquet` as an mtdata frame (``time`` index, categorical ``symbol``).

    From a dataset, the rows of one timeframe (``attrs["timeframe"]``): ``timeframe`` is needed when the
    symbols read have several; a dataset holding anything else, or a timeframe mtdata does not write, is refused.
    """
    filters = []
    names = None if symbols is None else [symbols] if isinstance(symbols, str) else list(symbols)
    if names is not None:
        filters.append(("symbol", "in", names))
    tf = None if timeframe is None else _known("timeframe", timeframe)
    root = Path(path)
    if root.is_dir():
        held = dataset_timeframes(root, "path")
        present = sorted({tf for symbol, tfs in held.items() if names is None or symbol in names for tf in tfs})
        if tf is None and len(present) > 1:
            raise checks.fail("timeframe", f"must be given: the dataset holds several ({', '.join(present)})", None)
        tf = tf or (present[0] if present else None)
        if tf is not None:
            filters.append(("timeframe", "==", tf))
    frame = pd.read_parquet(root, engine="pyarrow", filters=filters or None)
    frame = frame.drop(columns=[name for name in ("timeframe", "date") if name in frame])
    if "symbol" in frame:
        symbol = frame.pop("symbol").astype(str)
        frame.insert(0, "symbol", pd.Categorical(symbol))
    if root.is_dir() and tf is not None:
        frame.attrs["timeframe"] = tf
    return frame.sort_index(kind="stable") if isinstance(frame.index, pd.DatetimeIndex) else frame
