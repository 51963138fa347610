"""History storages: what a streaming connection keeps of an account's history orders and deals (protocol §7.9).

:class:`HistoryStorage` is the base every storage derives from (the seed API): a synchronization listener
with the account it serves and the per-stream "history synchronized" flags, whose newest times drive the next
incremental synchronization (``startingHistoryOrderTime`` / ``startingDealTime``). The storage a connection
uses by default is :class:`~.memory.MemoryHistoryStorage`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import checks
from ..listeners import SynchronizationListener
from ..models import MetatraderDeal, MetatraderOrder

Record = dict[str, Any]


class HistoryStorage(SynchronizationListener):
    """Base of history storages: the account it serves and per-stream "history synchronized" flags."""

    def __init__(self) -> None:
        self._account_id: str | None = None
        self._application: str | None = None
        self._orders_finished: dict[str, bool] = {}
        self._deals_finished: dict[str, bool] = {}

    async def initialize(self, account_id: str, application: str) -> None:
        """Attach the storage to an account and application (subclasses load persisted history here)."""
        self._account_id = checks.text("account_id", account_id)
        self._application = checks.text("application", application)

    @property
    def order_synchronization_finished(self) -> bool:
        """True when some stream finished synchronizing history orders (and has not restarted since)."""
        return any(self._orders_finished.values())

    @property
    def deal_synchronization_finished(self) -> bool:
        """True when some stream finished synchronizing deals (and has not restarted since)."""
        return any(self._deals_finished.values())

    def is_order_synchronization_finished(self, instance_index: str) -> bool:
        """Whether the stream ``instance_index`` finished synchronizing history orders."""
        return self._orders_finished.get(instance_index, False)

    def is_deal_synchronization_finished(self, instance_index: str) -> bool:
        """Whether the stream ``instance_index`` finished synchronizing deals."""
        return self._deals_finished.get(instance_index, False)

    def _reset_flags(self, instance_index: str) -> None:
        self._orders_finished[instance_index] = False
        self._deals_finished[instance_index] = False

    async def on_connected(self, instance_index: str, replicas: int) -> None:
        """Called when the stream ``instance_index`` is authenticated: its history is not synchronized yet."""
        self._reset_flags(instance_index)

    async def on_synchronization_started(
        self,
        instance_index: str,
        specifications_hash: str | None,
        positions_hash: str | None,
        orders_hash: str | None,
        synchronization_id: str,
    ) -> None:
        """Called when a synchronization of the stream begins: its history flags go back to False."""
        self._reset_flags(instance_index)

    async def on_disconnected(self, instance_index: str) -> None:
        """Called when the stream is lost: its history flags go back to False."""
        self._reset_flags(instance_index)

    async def on_stream_closed(self, instance_index: str) -> None:
        """Called when the stream ends: its history flags go back to False."""
        self._reset_flags(instance_index)

    async def on_history_orders_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Called when all history orders of the stream's synchronization arrived: sets its order flag."""
        self._orders_finished[instance_index] = True

    async def on_deals_synchronized(self, instance_index: str, synchronization_id: str) -> None:
        """Called when all deals of the stream's synchronization arrived: sets its deal flag."""
        self._deals_finished[instance_index] = True

    async def clear(self) -> None:
        """Forget all history, persisted copies included."""
        raise NotImplementedError

    async def last_history_order_time(
        self, instance_index: int | str | None = None, *, instance_number: int | None = None
    ) -> datetime | None:
        """The newest history order ``doneTime`` held (for one instance index or number, or overall).

        ``instance_number`` is the official SDK's name of the argument.
        """
        raise NotImplementedError

    async def last_deal_time(
        self, instance_index: int | str | None = None, *, instance_number: int | None = None
    ) -> datetime | None:
        """The newest deal ``time`` held (for one instance index or number, or overall; ``instance_number`` too)."""
        raise NotImplementedError

    @property
    def deals(self) -> list[MetatraderDeal]:
        """All deals, oldest first."""
        raise NotImplementedError

    @property
    def history_orders(self) -> list[MetatraderOrder]:
        """All history orders, oldest (by ``doneTime``) first."""
        raise NotImplementedError

    def get_deals_by_ticket(self, id: str) -> list[MetatraderDeal]:
        """Deals with this ticket (id)."""
        raise NotImplementedError

    def get_deals_by_position(self, position_id: str) -> list[MetatraderDeal]:
        """Deals of this position, oldest first."""
        raise NotImplementedError

    def get_deals_by_time_range(self, start_time: datetime, end_time: datetime) -> list[MetatraderDeal]:
        """Deals with ``start_time <= time <= end_time``, oldest first."""
        raise NotImplementedError

    def get_history_orders_by_ticket(self, id: str) -> list[MetatraderOrder]:
        """History orders with this ticket (id)."""
        raise NotImplementedError

    def get_history_orders_by_position(self, position_id: str) -> list[MetatraderOrder]:
        """History orders of this position, oldest first."""
        raise NotImplementedError

    def get_history_orders_by_time_range(self, start_time: datetime, end_time: datetime) -> list[MetatraderOrder]:
        """History orders with ``start_time <= doneTime <= end_time``, oldest first."""
        raise NotImplementedError
