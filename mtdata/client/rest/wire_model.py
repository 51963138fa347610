"""Shared pieces of the REST model objects: wire fields as read-only properties, and the ``wait_*`` polling."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import TimeoutException
from .. import checks
from .http import parse_time


def wire(name: str, doc: str) -> property:
    """A read-only property returning the DTO's ``name`` field (None when absent), described by ``doc``."""

    def get(self: WireModel) -> Any:
        return self._data.get(name)

    get.__doc__ = doc  # the property's docstring, and its getter's (what a check of ``fget`` reads)
    return property(get)


def wire_time(name: str, doc: str) -> property:
    """A read-only property returning the DTO's ISO time field ``name`` as an aware datetime, described by ``doc``."""

    def get(self: WireModel) -> datetime | None:
        value = self._data.get(name)
        return parse_time(value) if isinstance(value, str) else value

    get.__doc__ = doc
    return property(get)


class WireModel:
    """A model object over a DTO dict; ``data`` is a copy of the DTO as the server sent it."""

    _data: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the DTO as the server sent it."""
        return dict(self._data)


async def poll_until(
    reload: Callable[[], Awaitable[bool]],
    what: str,
    timeout_in_seconds: float,
    interval_in_milliseconds: float,
) -> None:
    """Call ``reload`` (True when done) now and every interval until it is done, else :class:`TimeoutException`."""
    checks.number("timeout_in_seconds", timeout_in_seconds, minimum=0)
    checks.number("interval_in_milliseconds", interval_in_milliseconds, minimum=0)
    deadline = time.monotonic() + timeout_in_seconds
    while not await reload():
        if time.monotonic() + interval_in_milliseconds / 1000 > deadline:
            raise TimeoutException(f"Timed out after {timeout_in_seconds} s waiting for {what}")
        await asyncio.sleep(interval_in_milliseconds / 1000)


def upload_files(file: Any) -> dict[str, tuple[str, bytes, str]]:
    """The multipart ``files`` of an upload (field ``file``, filename ``upload``) from a path or bytes."""
    if isinstance(file, bytes | bytearray | memoryview):
        content = bytes(file)
    elif isinstance(file, str | os.PathLike):
        try:
            content = Path(file).read_bytes()
        except OSError as exc:
            raise checks.fail("file", f"must be a readable file ({exc.strerror})", str(file)) from exc
    else:
        raise checks.fail("file", "must be a path or bytes", file)
    return {"file": ("upload", content, "application/octet-stream")}
