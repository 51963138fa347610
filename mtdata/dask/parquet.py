"""``mtdata.to_parquet(ddf, root)``: a Dask frame written by the workers to the hive dataset of :mod:`mtdata.io`.

Three passes of tasks, so that a refusal leaves the dataset as it was, as on the pandas path: (1) each partition is
checked as :func:`mtdata.io.to_parquet` checks a frame and its ``(symbol, date)`` groups are written under a hidden
staging folder of ``root``; (2) each date partition of the dataset gets one task, which gathers its groups (a
broker date may straddle two partitions), merges what the dataset holds, checks the result and stages it; (3) only
when every check passed, each staged file replaces its partition's ``part-0.parquet`` atomically. Readers ignore
the hidden staging folder, which is removed in the end, refused or not. ``root`` must be a path the workers share.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io, spacing
from ..client import checks

#: Prefix of the staging folder (hidden: pandas, pyarrow, DuckDB and Dask skip it).
STAGING = ".mtdata-staging-"

Group = tuple[str, str, str]  # symbol, timeframe, date


def write(frame: Any, root: Path, timeframe: str | None, progress: bool = False) -> int:
    """Write the Dask frame ``frame`` to the dataset at ``root`` (see :func:`mtdata.io.to_parquet`); returns the rows
    written. ``progress`` shows Dask's progress bar over the partitions."""
    import dask

    if timeframe is not None:
        timeframe = io._known("timeframe", timeframe)
    (existed,) = _compute([dask.delayed(_prepare)(str(root))], progress=False)  # where the workers see it
    created = not existed
    staging = root / f"{STAGING}{uuid.uuid4().hex}"
    try:
        parts = frame.to_delayed()
        staged = _compute([dask.delayed(_stage)(part, i, str(staging), timeframe) for i, part in enumerate(parts)],
                          progress)  # fmt: skip
        groups = _groups(staged)
        merged = _compute([dask.delayed(_merge)(str(root), str(staging), group, pieces)
                           for group, pieces in groups.items()], progress=False)  # fmt: skip
        _compute([dask.delayed(_publish)(str(root), group, path) for group, path in zip(groups, merged, strict=True)],
                 progress=False)  # fmt: skip
    except BaseException:
        _compute([dask.delayed(_remove)(str(root if created else staging))], progress=False)
        raise
    _compute([dask.delayed(_remove)(str(staging))], progress=False)
    return sum(rows for pieces in staged for _, _, rows in pieces)


def _compute(tasks: list[Any], progress: bool) -> list[Any]:
    """Run ``tasks`` on the current ``distributed.Client`` (or Dask's default scheduler); Dask's progress bar."""
    import dask

    if not progress:
        return list(dask.compute(*tasks))
    try:
        from distributed import default_client
        from distributed import progress as bar

        client = default_client()
    except (ImportError, ValueError):
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return list(dask.compute(*tasks))
    futures = client.compute(tasks)
    bar(futures)
    return client.gather(futures)


def _prepare(root: str) -> bool:
    """Whether ``root`` exists, refusing a target that is not a dataset before any work (run on a worker: the
    client may not see the filesystem the workers share)."""
    io.dataset_timeframes(Path(root), "path")
    return Path(root).exists()


def _stage(part: pd.DataFrame, index: int, staging: str, timeframe: str | None) -> list[tuple[Group, str, int]]:
    """Check one partition as the pandas path checks a frame, and stage its ``(symbol, date)`` groups."""
    if not isinstance(part.index, pd.DatetimeIndex) or "symbol" not in part:
        raise checks.fail("frame", "must have a time index and a symbol column to be partitioned", list(part))
    if part.empty:
        return []
    part = part.set_axis(io._ms_index(part.index))
    if spacing.kind(part.columns) == "candles":
        part = io._one_row_per_candle(part)
    symbols = part["symbol"].astype(str).to_numpy()
    chosen = io._timeframes(part, symbols, timeframe)
    folder = Path(staging) / "parts"
    folder.mkdir(parents=True, exist_ok=True)
    staged = []
    for (symbol, day), rows in part.drop(columns="symbol").groupby([symbols, io._dates(part)], sort=True):
        path = folder / f"{index}-{len(staged)}.parquet"
        rows.to_parquet(path, engine="pyarrow")
        staged.append(((symbol, chosen[symbol], day), str(path), len(rows)))
    return staged


def _groups(staged: list[list[tuple[Group, str, int]]]) -> dict[Group, list[str]]:
    """The staged pieces of each dataset partition, in frame order; one timeframe per symbol or a refusal."""
    groups: dict[Group, list[str]] = defaultdict(list)
    shown: dict[str, str] = {}
    for pieces in staged:
        for (symbol, tf, day), path, _ in pieces:
            if shown.setdefault(symbol, tf) != tf:
                raise checks.fail("frame", f"rows of {symbol} show {shown[symbol]} in one partition and {tf} in "
                                  "another (pass timeframe= if partitions are too sparse to tell)", symbol)  # fmt: skip
            groups[(symbol, tf, day)].append(path)
    return dict(groups)


def _merge(root: str, staging: str, group: Group, pieces: list[str]) -> str:
    """One dataset partition's new content (its pieces, over what the dataset holds), checked and staged: the staged
    piece itself when it is the whole of a partition of a symbol and timeframe new to the dataset."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    symbol, tf, day = group
    base = Path(root) / f"symbol={symbol}" / f"timeframe={tf}"
    current = base / f"date={day}" / io.PART
    if len(pieces) == 1 and not base.is_dir():  # a new partition from one piece: already checked as it is
        return pieces[0]
    rows = pd.concat([pd.read_parquet(path, engine="pyarrow") for path in pieces])
    if tf != "ticks":
        rows = io._one_row_per_candle(rows.assign(symbol=symbol)).drop(columns="symbol")
    rows = rows.sort_index(kind="stable")
    if base.is_dir():
        io._same_columns(base, rows)
    if current.exists():
        rows = io._merged(pd.read_parquet(current, engine="pyarrow"), rows, tf)
        if tf != "ticks" and not spacing.fits(tf, rows.index.asi8):
            raise checks.fail("frame", f"rows of {symbol} on {day} are off the {tf} grid of the dataset's "
                              f"partition timeframe={tf}", symbol)  # fmt: skip
    target = Path(staging) / "merged" / f"{uuid.uuid4().hex}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=True), target)
    return str(target)


def _publish(root: str, group: Group, path: str) -> None:
    """Move a staged partition into place (an atomic rename on the dataset's filesystem)."""
    symbol, tf, day = group
    folder = Path(root) / f"symbol={symbol}" / f"timeframe={tf}" / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    os.replace(path, folder / io.PART)


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
