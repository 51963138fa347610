"""The on-disk candle cache: repeated and extended requests fetch only what is missing; interrupted downloads resume."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest

import mtdata
from mtdata import candle_frames, download
from mtdata import session as sessions
from mtdata.cache import LAYOUT
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
        pd.testing.assert_frame_equal(inner, first.loc["2026-11-09T12:00:00Z":"2026-11-09T23:59:59Z"])
        extended = cached.candles("EURUSD", "1m", "2026-11-09", "2026-11-11T16:40:00Z")
        assert len(counter.pages) == 1 + 1  # the probe and the one page of the new 1000 minutes
        assert "2026-11-11T16:39:59.999Z" in counter.pages[1]  # [start, end): up to end's last millisecond
    fresh = session.candles("EURUSD", "1m", "2026-11-09", "2026-11-11T16:40:00Z")
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
        again = cached.candles("GBPUSD", "1m", "2026-11-18T07:00:00Z", newest + pd.Timedelta(1, "ms"))
        assert len(counter.pages) == 2  # the probe, then the newest page: the in-progress candle is asked again
        pd.testing.assert_frame_equal(again.iloc[:-1], recent.iloc[: len(again) - 1])


def test_an_interrupted_download_leaves_whole_blocks_and_resumes(
    session: sessions.Session, box: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(candle_frames, "BLOCK_PAGES", 2)
    monkeypatch.setattr(download, "gather", _sequential)  # blocks one after the other: a known cut point
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
    monkeypatch.setattr(candle_frames, "BLOCK_PAGES", 1)
    monkeypatch.setattr(download, "gather", _sequential)
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


def _replay_file(path: Path, shift: float) -> Path:
    """Two days of hourly-spaced M1 candles of EURUSD (closes rise from 1.1 + shift)."""
    rows = ["time,open,high,low,close"]
    for i in range(48):
        price = 1.1 + shift + i / 10_000
        rows.append(f"{pd.Timestamp('2026-11-09T00:00Z') + pd.Timedelta(hours=i):%Y-%m-%dT%H:%M:%SZ},"
                    f"{price:.5f},{price + 0.0002:.5f},{price - 0.0002:.5f},{price:.5f}")  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_sandbox_restarted_on_its_data_dir_with_another_market_serves_no_old_candles(
    mtdata_sandbox_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache key holds the sandbox's market revision: another seed or an edited replay file is another market
    (the same account id on the same data dir), while a restart of the same market still reads the cache."""
    data, cache, replay = tmp_path / "box", tmp_path / "cache", tmp_path / "eurusd.csv"
    span = ("EURUSD", "1h", "2026-11-09", "2026-11-10T12:00:00Z")  # the file's newest candle may be in progress

    def run(seed: int, shift: float) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
        _replay_file(replay, shift)
        box = mtdata_sandbox_factory(data_dir=data, start="2026-11-18T09:00:00Z", seed=seed,
                                     replay={"EURUSD": replay})  # fmt: skip
        counter = Counter(monkeypatch)
        try:
            with _open(box, cache) as cached:
                got = pd.concat([cached.candles(*span), cached.candles("GBPUSD", *span[1:])])
            with mtdata.connect(box.token, box.account_id, url=box.url, progress=False) as plain:
                truth = pd.concat([plain.candles(*span), plain.candles("GBPUSD", *span[1:])])
        finally:
            box.stop()
        return got, truth, box.account_id, counter.pages

    first, truth, account, _ = run(0, 0.0)
    pd.testing.assert_frame_equal(first, truth)
    same, _, again, pages = run(0, 0.0)
    assert again == account and len(pages) == 2  # only the fresh session's pages: the cache served both symbols
    pd.testing.assert_frame_equal(same, first)
    for seed, shift in ((1, 0.0), (1, 0.01)):  # another seed (GBPUSD's simulated prices), then an edited file
        got, truth, again, _ = run(seed, shift)
        assert again == account
        pd.testing.assert_frame_equal(got, truth)
        assert not got.equals(first)
        first = got
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 3


def test_files_of_an_older_layout_are_not_read(session: sessions.Session, box: SandboxHandle, tmp_path: Path) -> None:
    """Stored frames with the columns of before (``volume``, no ``broker_time``) are left alone, not served."""
    span = ("EURUSD", "1h", "2026-11-09", "2026-11-11")
    with _open(box, tmp_path) as cached:
        fresh = cached.candles(*span)
    [stored] = tmp_path.rglob("*.parquet")
    assert stored.parent.parent.parent.name == LAYOUT
    old = stored.parent.parent.parent.parent / stored.parent.parent.name / stored.parent.name / stored.name
    old.parent.mkdir(parents=True)
    pd.read_parquet(stored).rename(columns={"real_volume": "volume"}).drop(columns="broker_time").to_parquet(old)
    stored.unlink()
    with _open(box, tmp_path) as cached:
        again = cached.candles(*span)
    pd.testing.assert_frame_equal(again, fresh)
    assert old.exists() and stored.exists()  # downloaded again under the current layout
