"""Wire records (protocol §9.7, §9.8) of the market's columns: candles, ticks and order books, built in bulk."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from . import clock
from .pricegen import Bars, Ticks, seeded_rng
from .symbols import SymbolInfo

BOOK_LEVELS = 10


def candles(symbol: str, timeframe: str, bars: Bars, scale: int, zone: clock.BrokerClock) -> list[dict[str, Any]]:
    """Candle records of bars (prices in points, ``scale`` points per unit; ``brokerTime`` on the ``zone`` clock)."""
    return [
        {"symbol": symbol, "timeframe": timeframe, "time": time, "brokerTime": broker, "open": o, "high": h,
         "low": low, "close": c, "tickVolume": tv, "spread": spread, "volume": volume}
        for time, broker, o, h, low, c, tv, spread, volume in zip(
            clock.iso_times(bars.t), zone.broker_times(bars.t), (bars.o / scale).tolist(),
            (bars.h / scale).tolist(), (bars.l / scale).tolist(), (bars.c / scale).tolist(), bars.tv.tolist(),
            bars.spread.tolist(), bars.vol.tolist(), strict=True)
    ]  # fmt: skip


def ticks(symbol: str, ticks: Ticks, up: np.ndarray, scale: int, zone: clock.BrokerClock) -> list[dict[str, Any]]:
    """Tick records; ``side`` is ``buy`` when the bid rose (or held) since the previous tick."""
    return [
        {"symbol": symbol, "time": time, "brokerTime": broker, "bid": bid, "ask": ask, "volume": volume,
         "side": "buy" if rising else "sell"}
        for time, broker, bid, ask, volume, rising in zip(
            clock.iso_times(ticks.t), zone.broker_times(ticks.t), (ticks.bid / scale).tolist(),
            (ticks.ask / scale).tolist(), ticks.vol.tolist(), up.tolist(), strict=True)
    ]  # fmt: skip


def book(info: SymbolInfo, seed: int, time: int, bid: int, ask: int, zone: clock.BrokerClock) -> dict[str, Any]:
    """An order book around a quote: ``BOOK_LEVELS`` asks above the ask and bids below the bid.

    Level gaps grow with depth and volumes (in lots, multiples of the volume step) grow with depth, both
    seeded by the quote's time so the same quote always gives the same book.
    """
    rng = seeded_rng(seed, zlib.crc32(info.name.encode()), 3, time)
    step = max(1, (ask - bid) // 3)
    widths = np.maximum(1, np.rint(step * rng.uniform(0.5, 1.5, (2, BOOK_LEVELS)))).astype(np.int64)
    gaps = np.cumsum(widths, axis=1) - widths[:, :1]
    lots = np.arange(1, BOOK_LEVELS + 1) * rng.uniform(0.5, 2.5, (2, BOOK_LEVELS)) * 10 * info.min_volume
    lots = np.maximum(np.rint(lots / info.volume_step), 1) * info.volume_step
    sells = ((ask + gaps[0]) / info.scale).tolist()
    buys = ((bid - gaps[1]) / info.scale).tolist()
    decimals = max(0, -int(np.floor(np.log10(info.volume_step))))
    volumes = np.round(lots, decimals).tolist()
    levels = [
        {"type": "BOOK_TYPE_SELL", "price": price, "volume": volume}
        for price, volume in zip(sells, volumes[0], strict=True)
    ]
    levels += [
        {"type": "BOOK_TYPE_BUY", "price": price, "volume": volume}
        for price, volume in zip(buys, volumes[1], strict=True)
    ]
    return {"symbol": info.name, "time": clock.iso_times(np.array([time]))[0], "brokerTime": zone.broker_time(time),
            "book": levels}  # fmt: skip
