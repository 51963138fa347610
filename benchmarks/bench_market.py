"""Throughput of the sandbox market alone: M1 candles/s and ticks/s in wire pages of 1000, cold and cached.

Also the first M1 page of a range a year old in a fresh process (nothing computed yet: the price model's
daily anchors since 2020 and that day's paths), the latency a notebook's first request sees.
Run: ``python -m benchmarks.bench_market`` (the REST layer must serve >= 200,000 M1 candles/s).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

from mtdata.sandbox.market import Market

NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC).timestamp()
PAGES = 200


def _iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def candle_pages(market: Market, symbol: str, timeframe: str = "1m") -> int:
    """Page backwards through history as the SDK example does; returns the number of candles read."""
    count, end = 0, None
    for _ in range(PAGES):
        page = market.candles(symbol, timeframe, end, 1000)
        count += len(page)
        end = _iso_ms(page[0]["time"]) - 1
    return count


def tick_pages(market: Market, symbol: str, start: int) -> int:
    """Page forwards through ticks; returns the number of ticks read."""
    count = 0
    for _ in range(PAGES):
        page = market.ticks(symbol, start, 0, 1000)
        count += len(page)
        start = _iso_ms(page[-1]["time"]) + 1
    return count


def rate(label: str, run) -> None:
    """Print the items per second of one run."""
    began = time.perf_counter()
    count = run()
    elapsed = time.perf_counter() - began
    print(f"{label:<34} {count / elapsed:>12,.0f} /s  ({count:,} in {elapsed * 1000:,.0f} ms)")


def fresh_first_page(seed: int = 7) -> float:
    """Milliseconds for the first M1 page ending a year before now, in a fresh Python process."""
    end = int(NOW * 1000) - 365 * 86_400_000
    code = "\n".join(["import time", "from mtdata.sandbox.market import Market",
                      f"market = Market({seed}, wall_clock=lambda: {NOW})", "began = time.perf_counter()",
                      f"market.candles('EURUSD', '1m', {end}, 1000)", "print((time.perf_counter() - began) * 1000)"])
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    """Cold and cached paging, page times per timeframe, price() calls, a fresh process's first page."""
    start = int(NOW * 1000) - 30 * 86_400_000
    for seed in (101, 102):  # a fresh seed: nothing cached yet
        market = Market(seed, wall_clock=lambda: NOW)
        state = "cold" if seed == 101 else "cold (2nd seed)"
        rate(f"M1 candles, {state}", lambda m=market: candle_pages(m, "EURUSD"))
        rate(f"ticks, {state}", lambda m=market: tick_pages(m, "EURUSD", start))
    market = Market(101, wall_clock=lambda: NOW)
    rate("M1 candles, cached", lambda: candle_pages(market, "EURUSD"))
    rate("ticks, cached", lambda: tick_pages(market, "EURUSD", start))
    for timeframe in ("5m", "1h", "4h", "1d", "1mn"):
        market.candles("EURUSD", timeframe, None, 1000)
        began = time.perf_counter()
        for _ in range(50):
            market.candles("EURUSD", timeframe, None, 1000)
        print(f"{timeframe + ' page of 1000, cached':<34} {(time.perf_counter() - began) / 50 * 1000:>12.2f} ms")
    began = time.perf_counter()
    for _ in range(1000):
        market.price("USDJPY")
    print(f"{'price() calls':<34} {1000 / (time.perf_counter() - began):>12,.0f} /s")
    print(f"{'year-old first page, fresh process':<34} {fresh_first_page():>12.2f} ms")


if __name__ == "__main__":
    main()
