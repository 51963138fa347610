"""MetaTrader timeframes as the wire names them (protocol §10); pure data shared by sandbox and client."""

from __future__ import annotations

#: Every MT5 timeframe and its length in minutes (``1w`` and ``1mn`` are calendar-aligned).
MT5_TIMEFRAMES: dict[str, int] = {
    "1m": 1, "2m": 2, "3m": 3, "4m": 4, "5m": 5, "6m": 6, "10m": 10, "12m": 12, "15m": 15, "20m": 20,
    "30m": 30, "1h": 60, "2h": 120, "3h": 180, "4h": 240, "6h": 360, "8h": 480, "12h": 720,
    "1d": 1440, "1w": 10080, "1mn": 43200,
}  # fmt: skip

#: The MT4 subset.
MT4_TIMEFRAMES: tuple[str, ...] = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1mn")
