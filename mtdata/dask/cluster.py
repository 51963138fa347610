"""``mtdata export --dask ADDRESS`` / ``--workers N``: the export's download and write run on a Dask cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ..extras import needs
from .parquet import write

#: A local cluster's scheduler, workers and dashboard listen on loopback only (a free port for the dashboard).
LOOPBACK = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}


@contextlib.contextmanager
def client(address: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, or of a local cluster of ``workers`` processes."""
    with needs("mtdata export --dask/--workers"):
        import distributed
    if address:
        with distributed.Client(address) as opened:
            yield opened
        return
    with (
        distributed.LocalCluster(n_workers=workers, threads_per_worker=2, processes=True, **LOOPBACK) as cluster,
        distributed.Client(cluster) as opened,
    ):
        yield opened


def export(
    session: Any,
    symbols: list[str],
    timeframe: str,
    start: datetime,
    end: datetime,
    out: str,
    keep: Callable[[Any], Any] | None,
) -> int:
    """Candles of [start, end) downloaded and written to the dataset ``out`` by the cluster's workers (rows filtered
    by ``keep`` when given), with Dask's progress bar over the partitions; returns the rows written."""
    frame = session.candles(symbols, timeframe, start, end, as_dask=True)
    if keep is not None:
        frame = frame.map_partitions(keep)
    return write(frame, Path(out), timeframe, progress=True)
