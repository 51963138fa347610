"""Fixtures of the notebook-layer tests: one sandbox (clock on a weekday) and one session per module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

import mtdata
from mtdata import download
from mtdata import sandbox as sandboxes
from mtdata.client.dates import iso_ms
from mtdata.errors import MetaApiException
from mtdata.sandbox import SandboxHandle
from mtdata.session import Session

#: The sandbox's market clock: a Wednesday morning.
NOW = "2026-11-18T09:00:00Z"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """A sandbox of each module's own, shared by its tests (a module that trades disturbs no other)."""
    with sandboxes.start(data_dir=tmp_path_factory.mktemp("sandbox"), start=NOW) as handle:
        yield handle


@pytest.fixture(scope="module")
def session(box: SandboxHandle) -> Iterator[Session]:
    """A session on the shared sandbox's demo account."""
    with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as opened:
        yield opened


class Counter:
    """Counts the candle pages sessions request (all pass through ``CandleDownloader._body``, whichever HTTP client
    fetches them) and makes the network fail after ``fail_after`` of them; installed for one test by ``monkeypatch``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_after: int | None = None) -> None:
        self.pages: list[str] = []
        self.fail_after = fail_after

        async def body(loader: download.CandleDownloader, symbol: str, tf: str, end: datetime | None,
                       limit: int) -> bytes:  # fmt: skip
            if self.fail_after is not None and len(self.pages) >= self.fail_after:
                raise MetaApiException("network down (test)")
            self.pages.append(f"{symbol} {tf} {iso_ms(end) if end else None} {limit}")
            return await _PAGE_BODY(loader, symbol, tf, end, limit)

        monkeypatch.setattr(download.CandleDownloader, "_body", body)


_PAGE_BODY = download.CandleDownloader._body


def rest_candles(box: SandboxHandle, symbol: str, timeframe: str, start: str, end: str) -> list[dict]:
    """The truth: every candle opened in [start, end), read page by page backwards over plain REST."""
    path = f"/users/current/accounts/{box.account_id}/historical-market-data/symbols/{symbol}"
    path += f"/timeframes/{timeframe}/candles"
    first, stop = (datetime.fromisoformat(bound.replace("Z", "+00:00")) for bound in (start, end))
    rows: list[dict] = []
    cursor = end
    with httpx.Client(base_url=box.url, headers={"auth-token": box.token}) as http:
        while True:
            page = http.get(path, params={"startTime": cursor, "limit": 1000}).raise_for_status().json()
            rows = page + rows
            if len(page) < 1000 or datetime.fromisoformat(page[0]["time"].replace("Z", "+00:00")) <= first:
                break
            oldest = datetime.fromisoformat(page[0]["time"].replace("Z", "+00:00")) - timedelta(milliseconds=1)
            cursor = oldest.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [row for row in rows if first <= datetime.fromisoformat(row["time"].replace("Z", "+00:00")) < stop]
