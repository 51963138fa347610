"""The market over the wire: seeded sandboxes serve the same history, replayed files reach the REST API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from mtdata.sandbox import SandboxHandle

PAST = "2025-06-11T12:34:56.789Z"


def history(handle: SandboxHandle, symbol: str, tail: str, **params: object) -> httpx.Response:
    path = f"/users/current/accounts/{handle.account_id}/historical-market-data/symbols/{symbol}/{tail}"
    with httpx.Client(base_url=handle.url, headers={"auth-token": handle.token}, timeout=30) as client:
        return client.get(path, params=params)


def test_same_seed_same_history_over_the_wire(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> None:
    first, second, other = (mtdata_sandbox_factory(seed=seed) for seed in (11, 11, 12))
    for symbol, timeframe in (("EURUSD", "1m"), ("XAUUSD", "15m"), ("BTCUSD", "4h"), ("US30", "1d")):
        wire = [history(h, symbol, f"timeframes/{timeframe}/candles", startTime=PAST, limit=500).json()
                for h in (first, second, other)]  # fmt: skip
        assert len(wire[0]) == 500 and wire[0] == wire[1] != wire[2]
        assert wire[0] == first.server.market.candles(symbol, timeframe, int(_ms(PAST)), 500)
    ticks = [history(h, "GBPUSD", "ticks", startTime=PAST, limit=1000).json() for h in (first, second)]
    assert len(ticks[0]) == 1000 and ticks[0] == ticks[1]
    assert all(t["ask"] >= t["bid"] and t["time"] >= PAST for t in ticks[0])


def test_unknown_symbol_is_a_404(sandbox: SandboxHandle) -> None:
    response = history(sandbox, "NOPE", "timeframes/1h/candles", limit=5)
    assert response.status_code == 404 and response.json()["error"] == "NotFoundError"
    assert history(sandbox, "NOPE", "ticks", limit=5).status_code == 404


def test_replayed_file_is_served(tmp_path: Path, mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> None:
    path = tmp_path / "eurusd.csv"
    start = int(_ms("2025-06-10T08:00:00Z") / 1000)
    path.write_text("time,open,high,low,close\n" + "".join(
        f"{start + 60 * i},1.1{i:03d},1.1{i + 5:03d},1.0{i:03d},1.1{i + 1:03d}\n" for i in range(90)))  # fmt: skip
    handle = mtdata_sandbox_factory(replay={"EURUSD": path})
    candles = history(handle, "EURUSD", "timeframes/1m/candles", startTime=PAST, limit=1000).json()
    assert len(candles) == 90 and candles[0]["time"] == "2025-06-10T08:00:00.000Z"
    assert [c["open"] for c in candles[:3]] == [1.1, 1.1001, 1.1002]
    hourly = history(handle, "EURUSD", "timeframes/1h/candles", startTime=PAST, limit=10).json()
    assert [c["tickVolume"] for c in hourly] == [240, 120]


def _ms(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000
