"""History on disk (protocol §7.9): one JSON-lines file per account, application and kind, appended crash-safely.

Files are ``{directory}/{accountId}-{application}-deals.bin`` and ``...-historyOrders.bin``, one wire record
(ISO dates) per line. A flush only appends complete lines and fsyncs; earlier bytes are never rewritten. A flush
interrupted by a crash can only leave a torn last line: loading ignores it (and any unreadable line), the next
flush cuts it off before appending. Later lines with an id replace earlier ones. Loading reads the file in large
blocks and parses each block with one ``orjson`` call; a snapshot of the storage's columns
(:mod:`.snapshot`) lets a large history skip the JSON lines it covers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import orjson

from .. import checks
from ..dates import convert_dates
from ..models import MetatraderDeal, MetatraderOrder
from .columns import dump_json, json_default
from .snapshot import read_snapshot, write_snapshot

log = logging.getLogger("mtdata.client")

Record = dict[str, Any]
T = TypeVar("T")
#: The two kinds of history, as named in file names and in ``load_history``'s answer.
KINDS = ("historyOrders", "deals")
_BLOCK = 8 << 20
_WRITE_PIECE = 1 << 20


def encode_lines(records: list[Record]) -> bytes:
    """Records as JSON lines, datetimes as wire ISO strings (``2024-03-01T12:00:05.123Z``)."""
    dumps, option = orjson.dumps, orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_APPEND_NEWLINE
    try:
        return b"".join([dumps(record, default=json_default, option=option) for record in records])
    except TypeError:  # an int beyond 64 bits somewhere: the slow path for this batch
        return b"".join(dump_json(record) + b"\n" for record in records)


def _parse_lines(lines: list[bytes], path: Path) -> list[Record]:
    """Parse complete lines (one ``orjson`` call when all are valid; else line by line, skipping bad ones)."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return []
    try:
        records = orjson.loads(b"[" + b",".join(lines) + b"]")
        if all(type(record) is dict for record in records):
            return records
    except orjson.JSONDecodeError:
        pass
    records, bad = [], 0
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if type(record) is dict:
            records.append(record)
        else:
            bad += 1
    if bad:
        log.warning("history database %s: %d unreadable line(s) skipped", path, bad)
    return records


async def read_records(path: Path, chunk_lines: int = 10_000, start: int = 0) -> AsyncIterator[list[Record]]:
    """The records of a history file (from byte ``start``) in chunks, dates restored; a torn last line is ignored.

    Blocks are read in a worker thread, but parsed on the caller's thread: the records then come from (and go
    back to) one malloc arena, which keeps a large load from fragmenting memory across thread arenas.
    """
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except FileNotFoundError:
        return
    with handle:
        handle.seek(start)
        rest = b""
        while block := await asyncio.to_thread(handle.read, _BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for first in range(0, len(lines), chunk_lines):
                records = _parse_lines(lines[first : first + chunk_lines], path)
                for record in records:
                    convert_dates(record)
                yield records
        if rest.strip():
            log.warning("history database %s: torn last line (interrupted flush) ignored", path)


def _cut_torn_tail(handle: BinaryIO, size: int) -> None:
    """Truncate an unterminated last line (left by an interrupted flush) so appends start on a line boundary."""
    position = size
    while position > 0:
        start = max(0, position - 65536)
        handle.seek(start)
        block = handle.read(position - start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            handle.truncate(start + newline + 1)
            return
        position = start
    handle.truncate(0)


def append_lines(path: Path, data: bytes) -> None:
    """Append complete lines to ``path`` durably (write, fsync; fsync the directory when the file is new)."""
    if not data:
        return
    created = not path.exists()
    with path.open("ab+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                log.warning("history database %s: cutting a torn last line before appending", path)
                _cut_torn_tail(handle, size)
            handle.seek(0, os.SEEK_END)
        view = memoryview(data)
        for start in range(0, len(view), _WRITE_PIECE):
            handle.write(view[start : start + _WRITE_PIECE])
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _name_part(name: str, value: Any) -> str:
    """A non-empty string usable inside a file name (no path separators, not a dot name)."""
    checks.text(name, value)
    if "/" in value or "\\" in value or "\0" in value or value.startswith("."):
        raise checks.fail(name, "must not contain path separators or start with a dot", value)
    return value


class FilesystemHistoryDatabase:
    """History files under ``directory`` (default ``.metaapi``, relative to the working directory when used)."""

    def __init__(self, directory: str | os.PathLike[str] = ".metaapi") -> None:
        self.directory = Path(directory)
        """The directory of the history files (relative paths to the working directory of each use; made on the first
        write)."""
        self._lock = threading.Lock()

    def path(self, account_id: str, application: str, kind: str) -> Path:
        """The file of one kind (``deals`` / ``historyOrders``) of history."""
        checks.choice("kind", kind, KINDS)
        account = _name_part("account_id", account_id)
        app = _name_part("application", application)
        return self.directory / f"{account}-{app}-{kind}.bin"

    def snapshot_path(self, account_id: str, application: str, kind: str) -> Path:
        """The snapshot file that speeds up loading one kind of history (``history/snapshot.py``)."""
        return self.path(account_id, application, kind).with_suffix(".snapshot")

    async def iter_history(
        self, account_id: str, application: str, kind: str, chunk_lines: int = 10_000, start: int = 0
    ) -> AsyncIterator[list[Record]]:
        """The stored records of one kind in chunks (file order: later records replace earlier ones by id),
        from byte ``start`` of the file (what a snapshot does not cover)."""
        async for chunk in read_records(self.path(account_id, application, kind), chunk_lines, start):
            yield chunk

    async def load_history(self, account_id: str, application: str) -> dict[str, list[Record]]:
        """``{"historyOrders": [...], "deals": [...]}`` as stored, dates as datetimes."""
        history: dict[str, list[Record]] = {}
        for kind in KINDS:
            history[kind] = [
                record async for chunk in self.iter_history(account_id, application, kind) for record in chunk
            ]
        return history

    async def flush(
        self,
        account_id: str,
        application: str,
        new_history_orders: list[MetatraderOrder],
        new_deals: list[MetatraderDeal],
    ) -> None:
        """Append new (or changed) history orders and deals; returns once they are on disk."""
        paths = {kind: self.path(account_id, application, kind) for kind in KINDS}
        batches = {"historyOrders": new_history_orders, "deals": new_deals}
        if not any(batches.values()):
            return
        await asyncio.to_thread(self._write, {paths[kind]: records for kind, records in batches.items()})

    def _write(self, batches: dict[Path, list[Record]]) -> None:
        """Encode and append (in a worker thread: the records are the caller's fresh copies)."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path, records in batches.items():
                append_lines(path, encode_lines(records))

    async def save_snapshot(self, account_id: str, application: str, kind: str, meta: Any, buffers: list[Any]) -> bool:
        """Write a snapshot of the records of one kind held in memory (which include the whole file).

        ``buffers`` are copied at once (the caller may go on changing them); the write happens in a thread.
        False when the file ends in a torn line (no snapshot then).
        """
        blobs = [buffer if isinstance(buffer, bytes) else memoryview(buffer).cast("B").tobytes() for buffer in buffers]
        path, log_path = self.snapshot_path(account_id, application, kind), self.path(account_id, application, kind)

        def write() -> bool:
            with self._lock:
                self.directory.mkdir(parents=True, exist_ok=True)
                return write_snapshot(path, log_path, meta, blobs)

        return await asyncio.to_thread(write)

    async def load_snapshot(
        self, account_id: str, application: str, kind: str, restore: Callable[[Any, Iterator[bytes]], T]
    ) -> tuple[T, int] | None:
        """``(restore(meta, buffers), bytes of the file it covers)`` from a valid snapshot, else None."""
        path, log_path = self.snapshot_path(account_id, application, kind), self.path(account_id, application, kind)
        return await asyncio.to_thread(read_snapshot, path, log_path, restore)

    async def clear(self, account_id: str, application: str) -> None:
        """Delete the account's history files (and snapshots) of this application."""
        paths = [self.path(account_id, application, kind) for kind in KINDS]
        paths += [self.snapshot_path(account_id, application, kind) for kind in KINDS]
        await asyncio.to_thread(self._delete, paths)

    def _delete(self, paths: list[Path]) -> None:
        with self._lock:  # never in the middle of a flush
            for path in paths:
                path.unlink(missing_ok=True)
