"""Candles as a lazy Dask DataFrame, downloaded by the workers of a cluster: ``session.candles(..., as_dask=True)``.

    from distributed import Client
    client = Client("tcp://scheduler:8786")           # or none: Dask's default scheduler
    ddf = session.candles(symbols, "1m", "2016-01-01", "2026-01-01", as_dask=True)
    mtdata.to_parquet(ddf, "/shared/data/")           # the workers download and write

The frame has the columns, dtypes and ``time`` index of the pandas result, one partition per period (a day of
M1, longer for longer timeframes; ``partition=`` chooses a pandas period such as ``"D"``, ``"W"``, ``"M"``), each
computed from one task per symbol, so a partition's symbols download on several workers at once. Divisions are
the periods' bounds, so ``ddf.loc[a:b]`` computes only the periods it needs, and ``compute()`` gives exactly the
pandas frame (its ``attrs["gaps"]`` aside). Nothing is downloaded before a compute; tasks are pure, so a worker
lost midway has its tasks run again elsewhere, and no row is counted twice. Workers connect with the session's
connection details (:mod:`mtdata.dask.remote`), share its rate limit, and use its on-disk cache when the cache
directory is on a filesystem they share.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import arguments, candle_pages, frames
from ..client import checks
from ..extras import needs
from . import remote

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

    from .. import broker_dates
    from ..session import Session

__all__ = ["candles", "default_period"]

#: Candidate partition periods with their nominal length in days, shortest first.
_PERIODS = (("D", 1), ("W", 7), ("M", 30), ("Q", 91), ("Y", 365))


def default_period(tf: str) -> str:
    """The shortest period holding 1,000 candles of ``tf`` or more (a day of M1, a week of M5 … a year of D1)."""
    step = arguments.step_ms(tf)
    return next((name for name, days in _PERIODS if days * 86_400_000 / step >= candle_pages.PAGE), "Y")


def bounds(start: datetime, end: datetime, period: str) -> list[datetime]:
    """[start, end) cut at the starts of ``period`` (a pandas period frequency, in UTC): ascending, both ends kept."""
    import pandas as pd

    try:
        spans = pd.period_range(pd.Timestamp(start).tz_convert(None), pd.Timestamp(end).tz_convert(None), freq=period)
    except (ValueError, TypeError):
        raise checks.fail("partition", "must be a pandas period frequency such as 'D', 'W', 'M', 'Q' or 'Y'",
                          period) from None  # fmt: skip
    inner = [stamp.tz_localize("UTC").to_pydatetime() for stamp in spans.start_time]
    return [start, *(moment for moment in inner if start < moment < end), end]


def candles(
    session: Session,
    names: list[str],
    tf: str,
    start: datetime | None,
    end: datetime | None,
    dates: broker_dates.BrokerDates | None,
    *,
    limit: int | None = None,
    as_xarray: bool = False,
    partition: str | None = None,
) -> dd.DataFrame:
    """The lazy frame of ``Session.candles(names, tf, start, end, as_dask=True)`` (arguments already checked)."""
    with needs("candles(..., as_dask=True)"):
        import dask
        import dask.dataframe as dd
        import pandas as pd
        from dask.base import tokenize

    if as_xarray:
        raise checks.fail("as_xarray", "cannot be combined with as_dask (choose one)", True)
    if limit is not None:
        raise checks.fail("limit", "is not supported with as_dask: a lazy frame covers [start, end) whole", limit)
    for name, value in (("start", start), ("end", end)):
        if value is None:
            raise checks.fail(name, "must be given with as_dask: a lazy frame's partitions are fixed when it is built",
                              None)  # fmt: skip
    assert start is not None and end is not None
    if partition is not None:
        checks.text("partition", partition)
    edges = bounds(start, end, partition or default_period(tf)) if start < end else [start, start]
    connection = remote.Connection.of(session)
    remote.remember(connection, session)
    parts = []
    for lo, hi in itertools.pairwise(edges):
        last = arguments.last_ms(hi) if hi > lo else lo - timedelta(milliseconds=1)
        day = lo.strftime("%Y%m%dT%H%M")
        pieces = []
        for symbol in names:
            task = (connection, symbol, tf, lo, last, dates, tuple(names))
            key = f"mtdata-candles-{symbol}-{tf}-{day}-{tokenize(*task)}"  # the token hashed with the rest
            pieces.append(dask.delayed(remote.candles, pure=True)(*task, dask_key_name=key))
        key = f"mtdata-candles-{tf}-{day}-{tokenize(pieces, names, tf)}"
        parts.append(dask.delayed(_combine, pure=True)(pieces, tuple(names), tf, dask_key_name=key))
    meta = _combine([], tuple(names), tf)
    divisions = [pd.Timestamp(moment) for moment in edges[:-1]] + [pd.Timestamp(arguments.last_ms(edges[-1]))]
    known = len(parts) and all(a < b for a, b in itertools.pairwise(divisions))
    return dd.from_delayed(parts, meta=meta, divisions=divisions if known else None, verify_meta=False)


def _combine(pieces: list[pd.DataFrame], names: tuple[str, ...], tf: str) -> pd.DataFrame:
    """One period's symbols as one frame, as ``Session.candles`` stacks them (time-sorted, symbols in the order
    asked), ``symbol``'s categories being every symbol asked (the same in every partition)."""
    frame = frames.concat(pieces, "candles") if pieces else frames.df([], "candles")
    frame = frame.assign(symbol=frame["symbol"].cat.set_categories(list(names)))
    frame.attrs = {"timeframe": tf}
    return frame


def is_dask(value: Any) -> bool:
    """Whether ``value`` is a Dask DataFrame (without importing Dask when it is not loaded)."""
    import sys

    module = sys.modules.get("dask.dataframe")
    return module is not None and isinstance(value, module.DataFrame)

