"""The default history storage: deals and history orders in memory, optionally persisted (protocol §7.9).

:class:`MemoryHistoryStorage` keeps the history in compact indexed columns (:mod:`.index`) and, given
a database (such as :class:`~.database.FilesystemHistoryDatabase`), loads it in ``initialize()`` and
saves new records 5 s after they arrive (a task started on the first new record, never in the constructor),
with a snapshot of its columns once many records were added (:mod:`.snapshot`: fast reloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Protocol

from .. import checks
from ..models import MetatraderDeal, MetatraderOrder
from .index import HistoryCollection, instance_number
from .storage import HistoryStorage, Record

log = logging.getLogger("mtdata.client")

#: Seconds between a new record and its flush to the database.
FLUSH_DELAY = 5.0
#: Records of each kind handed to the database per write.
FLUSH_BATCH = 10_000
#: Records appended to a history file since its snapshot that make a flush or ``close()`` write a new one.
SNAPSHOT_AFTER = 10_000
#: The kinds of history, as the database names them.
KINDS = ("historyOrders", "deals")
#: Seconds before retrying a flush that failed.
FLUSH_RETRY_DELAY = 15.0


class HistoryDatabase(Protocol):
    """What :class:`MemoryHistoryStorage` needs of a database (the seed API).

    Optional extras used when present (:class:`~mtdata.client.FilesystemHistoryDatabase` has them):
    ``iter_history`` (chunked loading), ``load_snapshot`` / ``save_snapshot`` (fast loading of large histories).
    """

    async def load_history(self, account_id: str, application: str) -> dict[str, list[Record]]: ...

    async def flush(
        self, account_id: str, application: str, new_history_orders: list[Record], new_deals: list[Record]
    ) -> None: ...

    async def clear(self, account_id: str, application: str) -> None: ...


def _moment(name: str, value: Any) -> datetime:
    """A datetime argument (naive ones are taken as UTC)."""
    if not isinstance(value, datetime):
        raise checks.fail(name, "must be a datetime", value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class MemoryHistoryStorage(HistoryStorage):
    """History in memory (compact, indexed by ticket, position and time), optionally persisted to a database.

    ``flush_delay``: seconds between a new record and its save (the protocol's 5 s).
    """

    def __init__(self, database: HistoryDatabase | None = None, flush_delay: float = FLUSH_DELAY) -> None:
        super().__init__()
        self._database = database
        self._flush_delay = checks.number("flush_delay", flush_delay, minimum=0)
        self._collections: dict[str, HistoryCollection] = {}
        self._since_snapshot: dict[str, int] = {}
        self._failed: tuple[list[Record], list[Record]] = ([], [])
        self._reset()
        self._flush_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._flush_due = 0.0
        self._wake: asyncio.Event | None = None
        self._closing = False

    @property
    def database(self) -> HistoryDatabase | None:
        """The database history is loaded from and saved to (None: memory only)."""
        return self._database

    async def initialize(self, account_id: str, application: str) -> None:
        """Attach to the account and load its persisted history (replacing whatever was held)."""
        if self._account_id is not None:
            await self.flush()
        await super().initialize(account_id, application)
        self._reset()
        if self._database is None:
            return
        for kind in KINDS:
            collection, start = await self._snapshot(kind)
            async for chunk in self._chunks(kind, start):
                for record in chunk:
                    collection.add(record, loaded=True)
                self._since_snapshot[kind] += len(chunk)
                await asyncio.sleep(0)
            self._collections[kind] = collection
        await self._save_snapshots()  # after reading many JSON lines: the next load takes a snapshot instead
        if sum(map(len, self._collections.values())) >= SNAPSHOT_AFTER:
            _trim_heap()

    async def _snapshot(self, kind: str) -> tuple[HistoryCollection, int]:
        """The collection restored from the database's snapshot (if it has one) and the file offset it covers."""
        load = getattr(self._database, "load_snapshot", None)
        snapshot = await load(self._account_id, self._application, kind, HistoryCollection.restore) if load else None
        if snapshot is None:
            return self._collections[kind], 0
        return snapshot

    async def _chunks(self, kind: str, start: int) -> Any:
        assert self._account_id is not None and self._application is not None
        chunks = getattr(self._database, "iter_history", None)
        if chunks is not None:
            async for chunk in chunks(self._account_id, self._application, kind, start=start):
                yield chunk
        else:
            history = await self._database.load_history(self._account_id, self._application)  # type: ignore[union-attr]
            yield history.get(kind) or []

    @property
    def _orders(self) -> HistoryCollection:
        return self._collections["historyOrders"]

    @property
    def _deals(self) -> HistoryCollection:
        return self._collections["deals"]

    def _reset(self) -> None:
        self._collections = {
            "historyOrders": HistoryCollection(("doneTime", "time")),
            "deals": HistoryCollection(("time",)),
        }
        self._since_snapshot = dict.fromkeys(KINDS, 0)
        self._failed = ([], [])

    async def clear(self) -> None:
        """Forget all history, in memory and in the database."""
        self._reset()
        if self._database is not None and self._account_id is not None and self._application is not None:
            async with self._flush_lock:
                await self._database.clear(self._account_id, self._application)

    # listener events ----------------------------------------------------------------------------

    async def on_history_order_added(self, instance_index: str, history_order: MetatraderOrder) -> None:
        """Called for each history order the stream delivers: stores it and schedules a save unless held unchanged."""
        if self._orders.add(history_order, instance_number(instance_index)):
            self._schedule_flush(self._flush_delay)

    async def on_deal_added(self, instance_index: str, deal: MetatraderDeal) -> None:
        """Called for each deal the stream delivers: stores it and schedules a save unless held unchanged."""
        if self._deals.add(deal, instance_number(instance_index)):
            self._schedule_flush(self._flush_delay)

    async def on_deals_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Called when the synchronization's deals are all in: sets the flag and saves what is unsaved at once."""
        await super().on_deals_synchronized(instance_index, synchronization_id)
        if self._orders.has_unsaved or self._deals.has_unsaved:
            self._schedule_flush(0.0)

    # queries ------------------------------------------------------------------------------------

    async def last_history_order_time(
        self, instance_index: int | str | None = None, *, instance_number: int | None = None
    ) -> datetime | None:
        """The newest history order ``doneTime`` held (for one instance, counting loaded history, or overall)."""
        return self._orders.last_time(_instance(instance_index, instance_number))

    async def last_deal_time(
        self, instance_index: int | str | None = None, *, instance_number: int | None = None
    ) -> datetime | None:
        """The newest deal ``time`` held (for one instance, counting loaded history, or overall)."""
        return self._deals.last_time(_instance(instance_index, instance_number))

    @property
    def deals(self) -> list[MetatraderDeal]:
        """All deals, oldest first (new dicts)."""
        return self._deals.all()

    @property
    def history_orders(self) -> list[MetatraderOrder]:
        """All history orders, oldest (by ``doneTime``) first (new dicts)."""
        return self._orders.all()

    def get_deals_by_ticket(self, id: str) -> list[MetatraderDeal]:
        """The deal with this ticket (id), as a list of at most one."""
        return self._deals.by_id(checks.text("id", id))  # type: ignore[arg-type]

    def get_deals_by_position(self, position_id: str) -> list[MetatraderDeal]:
        """Deals of this position, oldest first."""
        return self._deals.by_position(checks.text("position_id", position_id))  # type: ignore[arg-type]

    def get_deals_by_time_range(self, start_time: datetime, end_time: datetime) -> list[MetatraderDeal]:
        """Deals with ``start_time <= time <= end_time``, oldest first (naive datetimes are taken as UTC)."""
        return self._deals.by_time(_moment("start_time", start_time), _moment("end_time", end_time))

    def get_history_orders_by_ticket(self, id: str) -> list[MetatraderOrder]:
        """The history order with this ticket (id), as a list of at most one."""
        return self._orders.by_id(checks.text("id", id))  # type: ignore[arg-type]

    def get_history_orders_by_position(self, position_id: str) -> list[MetatraderOrder]:
        """History orders of this position, oldest first."""
        return self._orders.by_position(checks.text("position_id", position_id))  # type: ignore[arg-type]

    def get_history_orders_by_time_range(self, start_time: datetime, end_time: datetime) -> list[MetatraderOrder]:
        """History orders with ``start_time <= doneTime <= end_time``, oldest first (naive datetimes: UTC)."""
        return self._orders.by_time(_moment("start_time", start_time), _moment("end_time", end_time))

    # persistence --------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Save the records not saved yet (no-op without a database or before ``initialize``)."""
        if self._database is None or self._account_id is None or self._application is None:
            return
        async with self._flush_lock:
            while True:  # in batches: a huge history is never all materialized as dicts at once
                orders = self._failed[0] + self._orders.take_unsaved(FLUSH_BATCH)
                deals = self._failed[1] + self._deals.take_unsaved(FLUSH_BATCH)
                self._failed = ([], [])
                if not orders and not deals:
                    return
                try:
                    await self._database.flush(self._account_id, self._application, orders, deals)
                except BaseException:
                    self._failed = (orders, deals)
                    raise
                self._since_snapshot["historyOrders"] += len(orders)
                self._since_snapshot["deals"] += len(deals)

    async def close(self) -> None:
        """Stop the flush task and save what is pending; the storage stays usable (a new task starts on demand)."""
        task = self._flush_task
        if task is not None:
            self._closing = True
            if self._wake is not None:
                self._wake.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._closing = False
        await self.flush()
        await self._save_snapshots()

    async def _save_snapshots(self) -> None:
        """Snapshot each kind whose history file grew by ``SNAPSHOT_AFTER`` records (and by a quarter of what is
        held) since its last snapshot. Under the flush lock: no append may slip between the export and the write,
        or the snapshot would claim lines it does not hold."""
        save = getattr(self._database, "save_snapshot", None)
        if save is None:
            return
        async with self._flush_lock:
            for kind, collection in self._collections.items():
                since = self._since_snapshot[kind]
                if since >= SNAPSHOT_AFTER and since * 4 >= len(collection) and not collection.has_unsaved:
                    meta, buffers = collection.export()
                    if await save(self._account_id, self._application, kind, meta, buffers):
                        self._since_snapshot[kind] = 0

    def _schedule_flush(self, delay: float) -> None:
        """Flush within ``delay`` seconds: starts the flush task if needed (only when a database is set)."""
        if self._database is None:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        task = self._flush_task
        if task is None or task.done():
            self._flush_due = due
            self._wake = asyncio.Event()
            self._flush_task = loop.create_task(self._flush_loop(), name="mtdata-history-flush")
        elif due < self._flush_due:
            self._flush_due = due
            assert self._wake is not None
            self._wake.set()

    async def _flush_loop(self) -> None:
        """Sleep until the flush is due (or close() asks), flush, repeat while records keep arriving."""
        loop = asyncio.get_running_loop()
        wake = self._wake
        assert wake is not None
        while not self._closing:
            remaining = self._flush_due - loop.time()
            if remaining > 0:
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):  # (wait_for may lose a cancellation before 3.12)
                        await wake.wait()
                continue
            try:
                await self.flush()
                await self._save_snapshots()
            except Exception as error:  # disk full, permissions: keep the records and retry later
                log.warning("history storage %s: flush failed (%s), retrying", self._account_id, error)
                self._flush_due = loop.time() + FLUSH_RETRY_DELAY
                continue
            if not (self._orders.has_unsaved or self._deals.has_unsaved):
                break
            self._flush_due = loop.time() + self._flush_delay
        self._flush_task = None


def _trim_heap() -> None:
    """Hand the heap freed by a large load (its transient dicts) back to the OS: glibc keeps it otherwise."""
    if sys.platform != "linux":
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def _instance(index: int | str | None, number: int | None) -> int | None:
    """The instance number asked for, from the seed's ``instance_index`` or the official ``instance_number``."""
    for name, value in (("instance_index", index), ("instance_number", number)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            raise checks.fail(name, "must be an instance number or an instance index", value)
    return checks.either("instance_index", instance_number(index), "instance_number", instance_number(number))
