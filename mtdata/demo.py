"""``mtdata demo``: the notebook layer end to end against an embedded sandbox, in a few seconds.

It starts a sandbox (its clock on a recent weekday, so FX trades), connects, pulls candles, ticks and a
book, places and closes a trade, prints the head of each frame and the latency table, and writes a small
Parquet dataset and reads it back.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def recent_weekday(now: datetime | None = None) -> datetime:
    """Noon UTC of the latest Wednesday before today: a time when every demo symbol trades."""
    day = (now or datetime.now(UTC)).date() - timedelta(days=1)
    day -= timedelta(days=(day.weekday() - 2) % 7)
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


POSITION = ["symbol", "id", "type", "volume", "open_price", "current_price", "profit"]
DEAL = ["symbol", "id", "type", "entry_type", "volume", "price", "profit", "position_id"]


def _show(title: str, frame: Any, started: float, columns: list[str] | None = None) -> None:
    print(f"\n{title} ({len(frame):,} rows, {time.perf_counter() - started:.2f} s)")
    print(frame.head()[columns or list(frame.columns)].to_string())


def run(seed: int = 0) -> int:
    """Run the demo; returns the process exit code."""
    import mtdata

    from .io import read_parquet, to_parquet

    start = recent_weekday()
    began = time.perf_counter()
    with mtdata.connect(sandbox={"seed": seed, "start": start}, progress=False) as session:
        print(f"{session!r}\nconnected in {time.perf_counter() - began:.2f} s")
        print(f"market clock at {start:%a %Y-%m-%d %H:%M} UTC")
        clock = time.perf_counter()
        candles = session.candles(["EURUSD", "GBPUSD"], "1m", start - timedelta(days=7), start)
        _show("One week of M1 candles, EURUSD and GBPUSD: session.candles([...], '1m', start, end)", candles, clock)
        clock = time.perf_counter()
        ticks = session.ticks("EURUSD", start - timedelta(minutes=10), start)
        _show("Ten minutes of EURUSD ticks: session.ticks('EURUSD', start, end)", ticks, clock)
        clock = time.perf_counter()
        _show("EURUSD order book, long: session.book('EURUSD')", session.book("EURUSD"), clock)
        clock = time.perf_counter()
        connection = session.connection()
        _show(
            "Quotes: session.price(['EURUSD', 'GBPUSD'])",
            session.price(["EURUSD", "GBPUSD"]),
            clock,
            ["symbol", "bid", "ask"],
        )
        clock = time.perf_counter()
        opened = session.run(connection.create_market_buy_order("EURUSD", 0.1))
        _show("A market buy of 0.1 lot: session.positions()", session.positions(), clock, POSITION)
        clock = time.perf_counter()
        session.run(connection.close_position(opened["positionId"]))
        _show("...closed again: session.deals()", session.deals().tail(2), clock, DEAL)
        latency = session.latency()
        table = latency[(latency["window"] == "1h") & latency["statistic"].isin(["count", "p50", "p95", "max"])]
        print("\nLatency over the last hour, ms: session.latency() (a tidy frame)")
        print(table.pivot_table("value", ["kind", "latency"], "statistic", observed=True).to_string())
        with tempfile.TemporaryDirectory(prefix="mtdata-demo-") as folder:
            clock = time.perf_counter()
            to_parquet(candles, Path(folder) / "candles")
            back = read_parquet(Path(folder) / "candles")
            partitions = len(list(Path(folder).glob("candles/*/*/*")))
            print(f"\nParquet export: {partitions} partitions (symbol=/timeframe=/date=), {len(back):,} rows read back "
                  f"with the same dtypes: {bool((back.dtypes == candles.dtypes).all())} "
                  f"({time.perf_counter() - clock:.2f} s)")  # fmt: skip
    print(f"\nDone in {time.perf_counter() - began:.1f} s: the session and its sandbox have stopped.")
    return 0
