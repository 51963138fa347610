"""A candle cache shared by several processes (Dask workers on one filesystem): a write in progress is left alone."""

from __future__ import annotations

import os
import time
from pathlib import Path

from mtdata.cache import LAYOUT, STALE_SECONDS, CandleCache


def test_another_writers_temporary_file_is_kept_and_an_old_leftover_removed(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path, "server-account")
    folder = cache.root / LAYOUT / "EURUSD" / "1m"
    folder.mkdir(parents=True)
    in_progress, leftover = folder / ".tmp-writing", folder / ".tmp-killed"
    in_progress.write_bytes(b"partial")
    leftover.write_bytes(b"partial")
    old = time.time() - STALE_SECONDS - 60
    os.utime(leftover, (old, old))
    assert cache.segments("EURUSD", "1m") == []
    assert in_progress.exists() and not leftover.exists()
