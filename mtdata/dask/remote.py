"""The worker's side of lazy candles: connection details that travel in a task, one session per worker process, and
one rate limit shared by the whole cluster.

A task carries :class:`Connection` (token, account id, where the server is, the cache directory and the session's
limits), never a session: a worker opens its own session on first use and keeps it for the tasks that follow
(:func:`session`). The token is inside the pickled task arguments, as it must be for the worker to use it; the
repr of a :class:`Connection` (what Dask logs when a task fails, and shows in its dashboard) and the graph's key
names carry only a digest. Every partition holds a lease of one ``distributed.Semaphore`` per account while it
downloads, so the cluster runs at most ``concurrency`` requests at once and, with ``requests_per_second``, no more
than that many a second, whatever the number of workers; a 429 is waited out by the client holding its lease.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import candle_pages, download, frames
from ..redaction import redact

if TYPE_CHECKING:
    import pandas as pd

    from .. import broker_dates
    from ..session import Session

#: Seconds a worker waits for a lease of the cluster's rate limit before the task fails (and Dask retries it).
LEASE_TIMEOUT = 600.0


@dataclass(frozen=True)
class Connection:
    """What a worker needs to open the session's account: picklable, its repr without the token."""

    token: str = field(repr=False)
    account_id: str
    opts: tuple[tuple[str, Any], ...]
    cache: str | None
    concurrency: int
    per_second: float | None

    @classmethod
    def of(cls, session: Session) -> Connection:
        """The connection of ``session`` (the cloud's domain, or the URL of a sandbox, local or elsewhere)."""
        api, limiter, cache = session.api, session._limiter, session._cache
        options = api.options
        where = {"url": options.url} if options.url else {"domain": options.domain}
        where |= {"region": options.region} if options.region else {}
        root = str(cache.root.parent) if cache is not None else None
        return cls(api.context.token, session.metatrader_account.id, tuple(where.items()), root,
                   limiter.concurrency, limiter.per_second)  # fmt: skip

    @property
    def digest(self) -> str:
        """A short name of this connection for keys, semaphores and logs (a hash: no part of the token)."""
        text = repr((self.token, self.account_id, self.opts))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return (f"Connection(token={redact(self.token)}, account_id={self.account_id!r}, opts={dict(self.opts)!r}, "
                f"cache={self.cache!r}, concurrency={self.concurrency}, per_second={self.per_second})")  # fmt: skip


_sessions: dict[Connection, Session] = {}
_local_limits: dict[str, threading.BoundedSemaphore] = {}
_semaphores: dict[str, Any] = {}
_lock = threading.Lock()
#: Partitions this process downloaded (what tests and benchmarks read on each worker).
fetched = {"partitions": 0, "rows": 0}


def remember(connection: Connection, session: Session) -> None:
    """Let tasks computed in this process (Dask's threaded scheduler) use ``session`` itself (unless an open one is
    already there)."""
    with _lock:
        known = _sessions.get(connection)
        if known is None or known.closed:
            _sessions[connection] = session


def session(connection: Connection) -> Session:
    """This process's open session on ``connection``, connected on first use (no progress bars on workers)."""
    with _lock:
        opened = _sessions.get(connection)
        if opened is None or opened.closed:
            import mtdata

            opened = _sessions[connection] = mtdata.connect(
                connection.token, connection.account_id, cache=connection.cache, progress=False,
                concurrency=connection.concurrency, **dict(connection.opts))  # fmt: skip
        return opened


@atexit.register
def _close_all() -> None:
    with _lock:
        for opened in _sessions.values():
            with contextlib.suppress(Exception):
                opened.close()
        _sessions.clear()


def semaphore_name(connection: Connection) -> str:
    """The cluster-wide semaphore of an account and a session's ``concurrency`` (sessions may differ in it)."""
    return f"mtdata-rate-{connection.digest}-{connection.concurrency}"


@contextlib.contextmanager
def lease(connection: Connection) -> Iterator[None]:
    """One of the account's ``concurrency`` download slots: a ``distributed.Semaphore`` shared by the cluster on a
    worker (its lease expires when the worker dies), a semaphore of this process under Dask's local schedulers."""
    name = semaphore_name(connection)
    try:
        from distributed import Semaphore, get_worker

        get_worker()
    except (ImportError, ValueError):
        with _lock:
            slots = _local_limits.setdefault(name, threading.BoundedSemaphore(connection.concurrency))
        with slots:
            yield
        return
    with _lock:  # one per process: each Semaphore registers with the scheduler once
        semaphore = _semaphores.get(name) or _semaphores.setdefault(name, Semaphore(connection.concurrency, name))
    if not semaphore.acquire(timeout=LEASE_TIMEOUT):
        raise TimeoutError(f"no download slot of {name} within {LEASE_TIMEOUT:g} s")
    try:
        yield
    finally:
        semaphore.release()


def candles(
    connection: Connection,
    symbol: str,
    tf: str,
    start: datetime,
    last: datetime,
    dates: broker_dates.BrokerDates | None,
    names: tuple[str, ...],
) -> pd.DataFrame:
    """One symbol's candles opened in [start, last] (inclusive ms), downloaded here, as ``Session.candles`` gives
    them (cache, broker dates), ``symbol``'s categories being every symbol of the frame."""
    opened = session(connection)
    share = connection.per_second / connection.concurrency if connection.per_second else None
    fetch = candle_pages.candle_fetcher(opened.metatrader_account)
    loader = download.CandleDownloader(fetch, download.Limiter(1, share), download.Progress(False), frames.candle_chunk)
    with lease(connection):
        frame = opened.run(opened._symbol_candles(loader, symbol, tf, start, last, None, dates))
    with _lock:
        fetched["partitions"] += 1
        fetched["rows"] += len(frame)
    return frame


def stats() -> dict[str, int]:
    """What this process downloaded so far (run on each worker with ``client.run``)."""
    with _lock:
        return dict(fetched)
