"""Client-API REST over loopback (protocol §1.3, §2.6, §2.7): domain settings, regions, hashing lists, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mtdata.sandbox import SandboxHandle


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


@pytest.fixture
def history(sandbox: SandboxHandle) -> str:
    return f"/users/current/accounts/{sandbox.account_id}/historical-market-data/symbols"


def get(rest: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = rest.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_domain_settings_name_the_request_host(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    settings = rest.get("/users/current/servers/mt-client-api").json()
    assert settings == {"hostname": "mt-client-api-v1", "domain": f"127.0.0.1:{sandbox.port}"}
    as_cloud = rest.get("/users/current/servers/mt-client-api",
                        headers={"Host": "mt-provisioning-api-v1.sandbox.test:8443"}).json()  # fmt: skip
    assert as_cloud["domain"] == "sandbox.test:8443"


def test_regions_and_hashing_lists(rest: httpx.Client) -> None:
    assert rest.get("/users/current/regions").json() == ["vint-hill", "new-york", "london", "singapore"]
    lists = rest.get("/hashing-ignored-field-lists").json()
    for generation in ("g1", "g2"):
        assert set(lists[generation]) == {"specification", "position", "order"}
        assert all(isinstance(v, list) for v in lists[generation].values())


def test_candles_page_backwards_without_gaps_or_duplicates(rest: httpx.Client, history: str) -> None:
    newest = get(rest, f"{history}/EURUSD/timeframes/1m/candles")
    assert len(newest) == 1000
    times = [ms(c["time"]) for c in newest]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert set(newest[0]) >= {"symbol", "timeframe", "time", "brokerTime", "open", "high", "low", "close",
                              "tickVolume", "spread", "volume"}  # fmt: skip

    start = newest[-100]["time"]
    whole = get(rest, f"{history}/EURUSD/timeframes/1m/candles", startTime=start, limit=500)
    assert whole[-1]["time"] == start and len(whole) == 500
    paged: list[dict[str, Any]] = []
    cursor = start
    for _ in range(5):
        page = get(rest, f"{history}/EURUSD/timeframes/1m/candles", startTime=cursor, limit=100)
        paged = page + paged
        cursor = iso(ms(page[0]["time"]) - 1)
    assert paged == whole


def test_ticks_page_forward_with_offset(rest: httpx.Client, history: str) -> None:
    candles = get(rest, f"{history}/EURUSD/timeframes/1m/candles", limit=1000)
    start = candles[0]["time"]
    whole = get(rest, f"{history}/EURUSD/ticks", startTime=start, limit=300)
    assert len(whole) == 300 and ms(whole[0]["time"]) >= ms(start)
    paged: list[dict[str, Any]] = []
    cursor, offset = start, 0
    while len(paged) < 300:
        page = get(rest, f"{history}/EURUSD/ticks", startTime=cursor, offset=offset, limit=70)
        paged += page
        cursor = page[-1]["time"]
        offset = sum(1 for tick in page if tick["time"] == cursor)
    assert paged[:300] == whole


def test_percent_encoded_symbols(rest: httpx.Client, history: str) -> None:
    plain = get(rest, f"{history}/EURUSD/timeframes/1h/candles", limit=3, startTime="2024-01-03T00:00:00.000Z")
    encoded = get(rest, f"{history}/%45URUSD/timeframes/1h/candles", limit=3, startTime="2024-01-03T00:00:00.000Z")
    assert plain == encoded
    for symbol in ("%23AAPL", "EUR%2FUSD", "EUR/USD", "%E2%82%AC"):
        response = rest.get(f"{history}/{symbol}/timeframes/1m/candles")
        assert response.status_code == 404, (symbol, response.text)
        assert response.json()["error"] == "NotFoundError"


@pytest.mark.parametrize(
    ("suffix", "params", "status", "parameter"),
    [("EURUSD/timeframes/1m/candles", {"limit": 0}, 400, "limit"),
     ("EURUSD/timeframes/1m/candles", {"limit": 1001}, 400, "limit"),
     ("EURUSD/timeframes/1m/candles", {"limit": "ten"}, 400, "limit"),
     ("EURUSD/timeframes/1m/candles", {"startTime": "9999-01-01T00:00:00Z"}, 400, "startTime"),
     ("EURUSD/timeframes/1m/candles", {"startTime": "yesterday"}, 400, "startTime"),
     ("EURUSD/timeframes/7m/candles", {}, 400, "timeframe"),
     ("EURUSD/ticks", {"offset": -1}, 400, "offset"),
     ("EURUSD/ticks", {"limit": 5000}, 400, "limit"),
     ("NOSUCH/ticks", {}, 404, None)],
)  # fmt: skip
def test_bad_history_requests(
    rest: httpx.Client, history: str, suffix: str, params: dict[str, Any], status: int, parameter: str | None
) -> None:
    response = rest.get(f"{history}/{suffix}", params=params)
    assert response.status_code == status, response.text
    if parameter:
        assert response.json()["details"][0]["parameter"] == parameter


def test_history_of_an_unknown_account_is_404(rest: httpx.Client) -> None:
    since = iso(int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000))
    response = rest.get("/users/current/accounts/nope/historical-market-data/symbols/EURUSD/ticks",
                        params={"startTime": since})  # fmt: skip
    assert response.status_code == 404
