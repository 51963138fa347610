"""CSV and Parquet export of mtdata frames; hive-partitioned Parquet datasets that any reader opens as they are.

A dataset is ``{root}/symbol={symbol}/timeframe={timeframe}/date={YYYY-MM-DD}/part-0.parquet`` (dates in UTC).
Each file keeps the frame's ``time`` index and dtypes (pandas metadata), so ``pandas.read_parquet(root)``,
``pyarrow.dataset``, DuckDB (``read_parquet('root/**/*.parquet', hive_partitioning = true)``) and Dask read it
back typed. Appending a later range writes new date partitions and leaves the others untouched; a date
already present (the edge day of two ranges) is merged, without duplicates, and replaced atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from . import frames
from .client import checks

PART = "part-0.parquet"


def _frame(name: str, value: Any) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise checks.fail(name, "must be a pandas DataFrame (e.g. from session.candles())", type(value).__name__)
    return value


def to_csv(frame: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``frame`` as CSV (ISO times with offset); :func:`read_csv` reads it back typed."""
    _frame("frame", frame)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, date_format="%Y-%m-%dT%H:%M:%S.%fZ", **kwargs)
    return target


def read_csv(path: str | Path, kind: str | None = None) -> pd.DataFrame:
    """A CSV written by :func:`to_csv`: ``time`` index in UTC; with ``kind`` (e.g. ``"candles"``), schema dtypes."""
    frame = pd.read_csv(path)
    columns = {name: frames.column(name, frame[name].where(frame[name].notna(), None).tolist()) for name in frame}
    index = columns.pop("time", None)
    return frames.build(columns, index if index is not None else pd.RangeIndex(len(frame)), kind)


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

    A dataset needs a ``time`` index and a ``symbol`` column; ``timeframe`` defaults to the frame's
    ``attrs["timeframe"]`` (``"ticks"`` for a frame without one). Appending to an existing dataset adds
    partitions; dates already there are merged and rewritten, other partitions are not touched.
    """
    import pyarrow as pa

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
    tf = timeframe or frame.attrs.get("timeframe") or "ticks"
    checks.text("timeframe", tf)
    body = frame.drop(columns="symbol")
    days = frame.index.tz_convert("UTC").strftime("%Y-%m-%d")
    for (symbol, day), part in body.groupby([frame["symbol"].astype(str).to_numpy(), days], sort=True):
        folder = root / f"symbol={symbol}" / f"timeframe={tf}" / f"date={day}"
        if (folder / PART).exists():
            old = pd.read_parquet(folder / PART, engine="pyarrow")
            part = pd.concat([old, part])
            part = part[~part.index.duplicated(keep="last")].sort_index()
        _write_atomic(pa.Table.from_pandas(part, preserve_index=True), folder)
    return root


def read_parquet(
    path: str | Path, symbols: str | list[str] | None = None, timeframe: str | None = None
) -> pd.DataFrame:
    """A file or dataset written by :func:`to_parquet` as an mtdata frame (``time`` index, categorical ``symbol``)."""
    filters = []
    if symbols is not None:
        filters.append(("symbol", "in", [symbols] if isinstance(symbols, str) else list(symbols)))
    if timeframe is not None:
        filters.append(("timeframe", "==", timeframe))
    frame = pd.read_parquet(path, engine="pyarrow", filters=filters or None)
    frame = frame.drop(columns=[name for name in ("timeframe", "date") if name in frame])
    if "symbol" in frame:
        symbol = frame.pop("symbol").astype(str)
        frame.insert(0, "symbol", pd.Categorical(symbol))
    return frame.sort_index(kind="stable") if isinstance(frame.index, pd.DatetimeIndex) else frame
