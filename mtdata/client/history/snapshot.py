"""Snapshot files of a history storage's columns: a large history loads in a fraction of a second.

A snapshot is written next to a JSON-lines history file (:mod:`.database`) and records how many bytes
of that file it covers, with a digest of their last 4 KB. Loading takes the snapshot only if the file still
starts with those bytes, and then reads only what was appended since. The snapshot is written to a temporary file,
fsynced and renamed over the old one; each buffer carries a CRC. Anything that does not check out is ignored
(the JSON lines are the source of truth), so a snapshot can only make loading faster, never lose a record.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import orjson

log = logging.getLogger("mtdata.client")

T = TypeVar("T")
MAGIC = b"MTDATA-HISTORY-SNAPSHOT-1\n"
_MARK_BYTES = 4096


def _log_mark(log_path: Path, size: int) -> str:
    """A digest of the last 4 KB of the first ``size`` bytes of the log (identifies that log prefix)."""
    if size == 0:
        return ""
    with log_path.open("rb") as handle:
        handle.seek(max(0, size - _MARK_BYTES))
        return hashlib.sha1(handle.read(min(size, _MARK_BYTES))).hexdigest()


def write_snapshot(path: Path, log_path: Path, meta: Any, blobs: list[bytes]) -> bool:
    """Atomically write a snapshot covering the whole current log; False when the log ends in a torn line."""
    size = log_path.stat().st_size if log_path.exists() else 0
    if size:
        with log_path.open("rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                return False
    header = orjson.dumps(
        {
            "meta": meta,
            "sizes": [len(blob) for blob in blobs],
            "crc": [zlib.crc32(blob) for blob in blobs],
            "logSize": size,
            "logMark": _log_mark(log_path, size),
            "byteorder": sys.byteorder,
        }
    )
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for blob in blobs:
            handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return True


class SnapshotError(Exception):
    """The snapshot does not match its log or is damaged."""


def _blobs(handle: BinaryIO, sizes: list[int], crcs: list[int]) -> Iterator[bytes]:
    for size, crc in zip(sizes, crcs, strict=True):
        blob = handle.read(size)
        if len(blob) != size or zlib.crc32(blob) != crc:
            raise SnapshotError("damaged buffer")
        yield blob


def read_snapshot(path: Path, log_path: Path, restore: Callable[[Any, Iterator[bytes]], T]) -> tuple[T, int] | None:
    """``(restore(meta, buffers), log bytes covered)`` when a valid snapshot for this log exists, else None."""
    try:
        with path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise SnapshotError("not a snapshot")
            header = orjson.loads(handle.read(int.from_bytes(handle.read(8), "little")))
            size = header["logSize"]
            log_size = log_path.stat().st_size if log_path.exists() else 0
            if (
                header["byteorder"] != sys.byteorder
                or log_size < size
                or _log_mark(log_path, size) != header["logMark"]
            ):
                raise SnapshotError("written for another log")
            blobs = _blobs(handle, header["sizes"], header["crc"])
            result = restore(header["meta"], blobs)
            if next(blobs, None) is not None:
                raise SnapshotError("unused buffers")
            return result, size
    except FileNotFoundError:
        return None
    except (
        SnapshotError,
        orjson.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
        StopIteration,
        RuntimeError,
    ) as error:
        log.warning("history snapshot %s ignored (%s): loading the full history file", path, error)
        return None
