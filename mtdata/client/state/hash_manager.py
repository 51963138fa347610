"""The terminal hash manager (protocol §7.8): specifications, positions and orders by collection hash for each account.

One per ``MetaApi``, shared by its terminal states: a resynchronization offers the hashes of what the client
still holds (:meth:`TerminalHashManager.get_last_used_position_hashes` and friends) and, when the server answers
with a hash index, the terminal state takes the collection back from here instead of receiving it again.
Item hashes follow :mod:`mtdata.hashing` with the ignored field lists the region's client API serves
(:meth:`TerminalHashManager.refresh_ignored_field_lists`, cached for an hour).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from ...hashing import Generation, Kind, generation_of, item_hash
from .. import checks
from ..models import MetatraderOrder, MetatraderPosition, MetatraderSymbolSpecification
from ..rest.context import ClientContext
from .reference_tree import Item, ReferenceTree

log = logging.getLogger("mtdata.client")

#: How long fetched ignored field lists are used before they are fetched again.
IGNORED_FIELDS_TTL_SECONDS = 3600.0
_KINDS: tuple[Kind, ...] = ("specification", "position", "order")
#: The three collections a terminal state holds.
Collection = Literal["specifications", "positions", "orders"]


class TerminalHashManager:
    """Reference trees of specifications (by server name), positions and orders (by account id)."""

    def __init__(
        self, context: ClientContext, keep_hash_trees: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._context = context
        self._clock = clock
        #: region -> (fetched at, {(generation, kind): ignored fields})
        self._ignored: dict[str, tuple[float, dict[tuple[str, str], frozenset[str]]]] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._specifications = ReferenceTree(self._hasher("specification"), "symbol", True, keep_hash_trees, clock)
        self._positions = ReferenceTree(self._hasher("position"), "id", False, keep_hash_trees, clock)
        self._orders = ReferenceTree(self._hasher("order"), "id", False, keep_hash_trees, clock)
        self._trees: dict[Collection, ReferenceTree] = {
            "specifications": self._specifications,
            "positions": self._positions,
            "orders": self._orders,
        }

    # ---- ignored field lists -------------------------------------------------------------------------------------

    async def refresh_ignored_field_lists(self, region: str) -> None:
        """Fetch the region's ``/hashing-ignored-field-lists`` unless fetched within the hour (one request for all).

        Raises what the HTTP client raises when the fetch fails and no earlier lists are known for the region
        (with earlier lists the failure is logged and they stay in use).
        """
        cached = self._ignored.get(region)
        if cached is not None and self._clock() - cached[0] < IGNORED_FIELDS_TTL_SECONDS:
            return
        pending = self._pending.get(region)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(region))
            self._pending[region] = pending
            pending.add_done_callback(lambda _: self._pending.pop(region, None))
        try:
            await asyncio.shield(pending)
        except Exception:
            if region not in self._ignored:
                raise
            log.warning("refreshing hashing ignored field lists of %s failed; using the earlier lists", region)

    async def _fetch(self, region: str) -> None:
        url = f"{await self._context.hosts.client_api(region)}/hashing-ignored-field-lists"
        body = await self._context.http.request("GET", url)
        self._ignored[region] = (self._clock(), _parse_lists(body))

    def ignored_fields(self, region: str, generation: Generation, kind: Kind) -> frozenset[str]:
        """The top-level fields left out of ``kind`` item hashes of ``generation`` accounts in ``region``."""
        cached = self._ignored.get(region)
        if cached is None:
            return frozenset()
        return cached[1].get((generation, kind), frozenset())

    def get_item_hash(self, item: Mapping[str, Any], kind: Kind, account_type: str | None, region: str) -> str:
        """The hash of one item (protocol §7.8) with the region's ignored fields for the account's generation."""
        generation = generation_of(account_type)
        return item_hash(item, kind, generation, self.ignored_fields(region, generation, kind))

    def _hasher(self, kind: Kind) -> Callable[[Mapping[str, Any], str | None, str], str]:
        def hasher(item: Mapping[str, Any], account_type: str | None, region: str) -> str:
            return self.get_item_hash(item, kind, account_type, region)

        return hasher

    # ---- lookups ------------------------------------------------------------------------------------------------

    def get_specifications_by_hash(
        self, specification_hash: str | None = None, *, specifications_hash: str | None = None
    ) -> dict[str, MetatraderSymbolSpecification] | None:
        """Specifications recorded under a hash, by symbol (None if unknown); ``specifications_hash`` too."""
        chosen = checks.either("specification_hash", specification_hash, "specifications_hash", specifications_hash)
        return self._specifications.get_items_by_hash(chosen)

    def get_specifications_hashes_by_hash(self, specifications_hash: str | None) -> dict[str, str] | None:
        """Item hashes of the specifications recorded under a hash, by symbol."""
        return self._specifications.get_hashes_by_hash(specifications_hash)

    def get_positions_by_hash(self, positions_hash: str | None) -> dict[str, MetatraderPosition] | None:
        """Positions recorded under a hash, by id (None if unknown)."""
        return self._positions.get_items_by_hash(positions_hash)

    def get_positions_hashes_by_hash(self, positions_hash: str | None) -> dict[str, str] | None:
        """Item hashes of the positions recorded under a hash, by id."""
        return self._positions.get_hashes_by_hash(positions_hash)

    def get_orders_by_hash(self, orders_hash: str | None) -> dict[str, MetatraderOrder] | None:
        """Orders recorded under a hash, by id (None if unknown)."""
        return self._orders.get_items_by_hash(orders_hash)

    def get_orders_hashes_by_hash(self, orders_hash: str | None) -> dict[str, str] | None:
        """Item hashes of the orders recorded under a hash, by id."""
        return self._orders.get_hashes_by_hash(orders_hash)

    def get_last_used_specification_hashes(self, server_name: str) -> list[str]:
        """Specification hashes to offer: the server's own first, then those of similar server names (<= 20)."""
        return self._specifications.get_last_used_hashes(server_name)

    def get_last_used_position_hashes(self, account_id: str) -> list[str]:
        """The account's last used position collection hashes, newest first (<= 20)."""
        return self._positions.get_last_used_hashes(account_id)

    def get_last_used_order_hashes(self, account_id: str) -> list[str]:
        """The account's last used order collection hashes, newest first (<= 20)."""
        return self._orders.get_last_used_hashes(account_id)

    # ---- recording ----------------------------------------------------------------------------------------------

    def record(
        self,
        kind: Collection,
        category: str,
        account_type: str | None,
        holder: str,
        instance_index: str,
        items: Iterable[Item],
    ) -> str | None:
        """Record a full collection of ``kind`` for ``holder``; returns its hash (None if empty).

        ``category`` is the server name for specifications, the account id for positions and orders.
        """
        return self._trees[kind].record_items(category, account_type, holder, instance_index, items)

    def update(
        self,
        kind: Collection,
        category: str,
        account_type: str | None,
        holder: str,
        instance_index: str,
        items: Iterable[Item],
        removed: Iterable[str],
        parent_hash: str | None,
    ) -> str | None:
        """Apply changed / removed items to the collection ``parent_hash`` of ``kind``; returns the new hash.

        Costs O(changed items); raises ``KeyError`` when ``parent_hash`` is unknown.
        """
        return self._trees[kind].update_items(
            category, account_type, holder, instance_index, items, removed, parent_hash
        )

    def record_specifications(
        self, server_name: str, account_type: str | None, holder: str, instance_index: str, items: Iterable[Item]
    ) -> str | None:
        """Record a full set of specifications for ``holder`` (see :meth:`record`)."""
        return self.record("specifications", server_name, account_type, holder, instance_index, items)

    def record_positions(
        self, account_id: str, account_type: str | None, holder: str, instance_index: str, items: Iterable[Item]
    ) -> str | None:
        """Record a full set of positions for ``holder`` (see :meth:`record`)."""
        return self.record("positions", account_id, account_type, holder, instance_index, items)

    def record_orders(
        self, account_id: str, account_type: str | None, holder: str, instance_index: str, items: Iterable[Item]
    ) -> str | None:
        """Record a full set of pending orders for ``holder`` (see :meth:`record`)."""
        return self.record("orders", account_id, account_type, holder, instance_index, items)

    def get_items_by_hash(self, kind: Collection, hash: str | None) -> dict[str, Item] | None:
        """The collection of ``kind`` recorded under ``hash``, by key (None if unknown)."""
        return self._trees[kind].get_items_by_hash(hash)

    def add_reference(self, kind: Collection, hash: str, holder: str) -> None:
        """``holder`` shows the collection of ``kind`` recorded under ``hash``."""
        self._trees[kind].add_reference(hash, holder)

    # ---- references ---------------------------------------------------------------------------------------------

    def remove_connection_references(self, holder: str) -> None:
        """``holder`` (a dropped terminal-state stream) references nothing any more."""
        for tree in self._trees.values():
            tree.remove_reference(holder)

    def prune(self) -> int:
        """Drop entries unreferenced for 10 minutes from every tree (call every few minutes); returns the count."""
        return sum(tree.prune() for tree in self._trees.values())


def _parse_lists(body: Any) -> dict[tuple[str, str], frozenset[str]]:
    """``{g1|g2: {specification|position|order: [field, ...]}}`` as frozensets; missing or bad lists are empty."""
    lists: dict[tuple[str, str], frozenset[str]] = {}
    for generation in ("g1", "g2"):
        section = body.get(generation) if isinstance(body, dict) else None
        for kind in _KINDS:
            fields = section.get(kind) if isinstance(section, dict) else None
            lists[(generation, kind)] = frozenset(f for f in fields or () if isinstance(f, str))
    return lists
