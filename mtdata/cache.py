"""An on-disk candle cache: a repeated or extended request downloads only the part not already stored.

Layout: ``{root}/{account key}/{LAYOUT}/{symbol}/{timeframe}/{lo}_{hi}.parquet``, one file per downloaded block;
``lo``/``hi`` (epoch ms, inclusive) is the span of open times the file covers completely, so an empty
file still records that a span (a weekend) has no candles. A file is written under a temporary name,
flushed and renamed into place: an interrupted download (Ctrl+C, network loss) leaves whole blocks
or nothing, and the next request resumes with what is missing. Only complete candles are stored.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from . import frames

log = logging.getLogger("mtdata.client")

#: The version of the stored frames, bumped when candle columns change (files of another version are not read):
#: v2 has ``real_volume`` (MetaTrader 5's name) and ``broker_time``.
LAYOUT = "v2"
#: Age (s) from which a temporary file is a killed writer's leftover; a younger one may be another process's (a Dask
#: worker's, on a shared cache) write in progress.
STALE_SECONDS = 3600
_NAME = re.compile(r"^(\d+)_(\d+)\.parquet$")

Span = tuple[int, int]


def default_root() -> Path:
    """``$MTDATA_CACHE_DIR``, else ``$XDG_CACHE_HOME/mtdata``, else ``~/.cache/mtdata``."""
    explicit = os.environ.get("MTDATA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mtdata"


def cache_key(server: str, account_id: str, market_revision: str | None) -> str:
    """The folder of an account's candles: server and account id, plus the sandbox's market revision when the
    account has one (a sandbox restarted with another seed or replay file is another market; cloud keys unchanged)."""
    return f"{server}-{account_id}" + (f"-{market_revision}" if market_revision else "")


def subtract(span: Span, covered: list[Span]) -> list[Span]:
    """The parts of ``span`` (inclusive ms) not inside any of ``covered``."""
    lo, hi = span
    missing: list[Span] = []
    for c_lo, c_hi in sorted(covered):
        if c_hi < lo or c_lo > hi:
            continue
        if c_lo > lo:
            missing.append((lo, c_lo - 1))
        lo = max(lo, c_hi + 1)
        if lo > hi:
            return missing
    return [*missing, (lo, hi)]


def _stale(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > STALE_SECONDS
    except FileNotFoundError:  # renamed or removed meanwhile
        return False


class CandleCache:
    """Candle files of one account (``key``) under ``root``."""

    def __init__(self, root: str | Path, key: str) -> None:
        self.root = Path(root) / quote(key, safe="")

    def _dir(self, symbol: str, tf: str) -> Path:
        return self.root / LAYOUT / quote(symbol, safe="") / tf

    def segments(self, symbol: str, tf: str) -> list[tuple[int, int, Path]]:
        """The stored files of ``symbol``/``tf`` as (lo, hi, path); old leftovers of killed writers removed."""
        folder = self._dir(symbol, tf)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if match:
                found.append((int(match[1]), int(match[2]), path))
            elif path.name.startswith(".tmp-") and _stale(path):
                path.unlink(missing_ok=True)
        return sorted(found)

    def missing(self, symbol: str, tf: str, lo: int, hi: int) -> list[Span]:
        """The spans of [lo, hi] no stored file covers."""
        return subtract((lo, hi), [(a, b) for a, b, _ in self.segments(symbol, tf)])

    def store(self, symbol: str, tf: str, lo: int, hi: int, frame: pd.DataFrame) -> None:
        """Record that ``frame`` holds every candle opened in [lo, hi] (written atomically)."""
        if hi < lo:
            return
        folder = self._dir(symbol, tf)
        folder.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as file:
                frame.to_parquet(file, engine="pyarrow")
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, folder / f"{lo}_{hi}.parquet")
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def read(self, symbol: str, tf: str, lo: int, hi: int) -> pd.DataFrame:
        """The stored candles opened in [lo, hi], ascending, each once."""
        parts = []
        for a, b, path in self.segments(symbol, tf):
            if b < lo or a > hi:
                continue
            try:
                parts.append(pd.read_parquet(path, engine="pyarrow"))
            except (OSError, ValueError) as error:  # a damaged file: forget it, it will be downloaded again
                log.warning("cache file %s unreadable (%s); removed", path, error)
                path.unlink(missing_ok=True)
        if not parts:
            return frames.df([], "candles")
        frame = frames.concat(parts, "candles")
        stamps = frame.index.as_unit("ms").asi8
        frame = frame[(stamps >= lo) & (stamps <= hi)]
        return frame[~frame.index.duplicated()]
