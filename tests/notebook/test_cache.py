"""The on-disk candle cache: repeated and extended requests fetch only what is missing; interrupted downloads resume."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest

import mtdata
from mtdata import session as sessions
from mtdata.errors import MetaApiException
from mtdata.sandbox import SandboxHandle

from .conftest import Counter


def _open(box: SandboxHandle, cache: Path) -> sessions.Session:
    return mtdata.connect(box.token, box.account_id, url=box.url, cache=cache, progress=False)


def test_repeated_and_extended_requests_fetch_only_the_missing_part(
    session: sessions.Session, box: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    with _open(box, tmp_path) as cached:
        first = cached.candles("EURUSD", "1m", "2026-11-09", "2026-11-10T23:59:59Z")
        assert len(counter.pages) == 1 + 3  # the newest-candle probe and 3 pages of 1000
        counter.pages.clear()
        again = cached.candles("EURUSD", "1m", "2026-11-09", "2026-11-10T23:59:59Z")
        assert counter.pages == []
        pd.testing.assert_frame_equal(again, first)
        inner = cached.candles("EURUSD", "1m", "2026-11-09T12:00:00Z", "2026-11-10T00:00:00Z")
        assert counter.pages == []
        pd.testing.assert_frame_equal(inner, first.loc["2026-11-09T12:00:00Z":"2026-11-10T00:00:00Z"])
        extended = cached.candles("EURUSD", "1m", "2026-11-09", "2026-11-11T16:39:59Z")
        assert len(counter.pages) == 1 + 1  # the probe and the one page of the new 1000 minutes
        assert "2026-11-11T16:39:59.000Z" in counter.pages[1]
    fresh = session.candles("EURUSD", "1m", "2026-11-09", "2026-11-11T16:39:59Z")
    pd.testing.assert_frame_equal(extended, fresh)
    assert fresh.attrs["timeframe"] == extended.attrs["timeframe"]


def test_the_candle_in_progress_is_never_stored(
    box: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    with _open(box, tmp_path) as cached:
        recent = cached.candles("GBPUSD", "1m", "2026-11-18T07:00:00Z")
        newest = recent.index[-1]
        counter.pages.clear()
        again = cached.candles("GBPUSD", "1m", "2026-11-18T07:00:00Z", newest)
        assert len(counter.pages) == 2  # the probe, then the newest page: the in-progress candle is asked again
        pd.testing.assert_frame_equal(again.iloc[:-1], recent.iloc[: len(again) - 1])


def test_an_interrupted_download_leaves_whole_blocks_and_resumes(
    session: sessions.Session, box: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "BLOCK_PAGES", 2)
    monkeypatch.setattr(sessions.download, "gather", _sequential)  # blocks one after the other: a known cut point
    span = ("EURUSD", "1m", "2026-11-02", "2026-11-06T23:59:59Z")  # 8 pages, 4 blocks
    Counter(monkeypatch, fail_after=1 + 5)  # the probe, two whole blocks, then the network goes away
    with _open(box, tmp_path) as cached, pytest.raises(MetaApiException, match="network down"):
        cached.candles(*span)
    files = list(tmp_path.rglob("*.parquet"))
    assert len(files) == 2 and not list(tmp_path.rglob(".tmp-*"))
    counter = Counter(monkeypatch)
    with _open(box, tmp_path) as cached:
        resumed = cached.candles(*span)
    assert len(counter.pages) == 1 + 4  # the probe and the two blocks not stored
    pd.testing.assert_frame_equal(resumed, session.candles(*span))


async def _sequential(*coroutines):
    """download.gather, one coroutine after the other (the ones never started are closed on failure)."""
    results: list = []
    try:
        for coroutine in coroutines:
            results.append(await coroutine)
    finally:
        for coroutine in coroutines[len(results) + 1 :]:
            coroutine.close()
    return results


def test_ctrl_c_during_a_download_leaves_the_cache_consistent(
    session: sessions.Session, box: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C in the calling thread cancels the download on the session's loop; whole blocks stay, the rest resumes."""
    monkeypatch.setattr(sessions, "BLOCK_PAGES", 1)
    monkeypatch.setattr(sessions.download, "gather", _sequential)
    span = ("GBPUSD", "1m", "2026-11-02", "2026-11-06T23:59:59Z")
    box.server.faults.add_delay(0.2, "rest")  # slow pages, one after the other: the interrupt lands midway
    try:
        with _open(box, tmp_path) as cached:
            timer = threading.Timer(0.9, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                cached.candles(*span)
            timer.join()
            assert not [t for t in asyncio.all_tasks(cached.loop) if not t.done()]  # nothing left running
    finally:
        box.call(box.server.faults.clear())
    stored = list(tmp_path.rglob("*.parquet"))
    assert len(stored) < 8 and not list(tmp_path.rglob(".tmp-*"))
    counter = Counter(monkeypatch)
    with _open(box, tmp_path) as cached:
        resumed = cached.candles(*span)
    assert len(counter.pages) == 1 + 8 - len(stored)  # the probe and the blocks not stored
    pd.testing.assert_frame_equal(resumed, session.candles(*span))
