"""History: 100,000 M1 candles in 100 pages of 1,000, paged backwards, to one httpx client over loopback.

Run alone: ``python -m benchmarks.bench_history``. Target: >= 200,000 candles/s.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from benchmarks.common import report, sandbox_process

PAGES = 100
PAGE = 1000
TARGET = 200_000


def fetch(client: httpx.Client, path: str, pages: int) -> tuple[int, float, set[str]]:
    """Page backwards from now; returns (candles, seconds, distinct open times)."""
    start: str | None = None
    seen: set[str] = set()
    total = 0
    began = time.perf_counter()
    for _ in range(pages):
        params = {"limit": PAGE} if start is None else {"limit": PAGE, "startTime": start}
        page = orjson.loads(client.get(path, params=params).raise_for_status().content)
        if not page:
            break
        total += len(page)
        seen.update(c["time"] for c in page)
        first = datetime.fromisoformat(page[0]["time"].replace("Z", "+00:00")) - timedelta(milliseconds=1)
        start = first.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return total, time.perf_counter() - began, seen


def main() -> None:
    """Run the benchmark and print candles/s with its target."""
    with sandbox_process() as box, httpx.Client(base_url=box.url, headers={"auth-token": box.token}) as client:
        path = f"/users/current/accounts/{box.account_id}/historical-market-data/symbols/EURUSD/timeframes/1m/candles"
        fetch(client, path, 2)  # warm up the connection and the code paths
        total, seconds, seen = fetch(client, path, PAGES)
        again, warm_seconds, _ = fetch(client, path, PAGES)  # the same pages, now in the market's caches
    report("history: M1 candles received", total, "candles")
    report("history: distinct candles", len(seen), "candles")
    report("history: throughput, pages served again", again / warm_seconds, "candles/s")
    report("history: throughput (100 pages of 1,000)", total / seconds, "candles/s", TARGET)


if __name__ == "__main__":
    main()
