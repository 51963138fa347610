"""The change set of one trade and its persistence: positions, orders, history and balance in ONE transaction.

A trade handler only adds to a :class:`Changes`; nothing reaches the store until
:meth:`Ledger.commit`, so a rejection raised half-way changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..terminal import TICKET_COUNTER, TICKET_START
from ..timeutil import parse_iso_ms

if TYPE_CHECKING:
    from ..store import Store


@dataclass
class Changes:
    """What one trade (or one trigger) changes on an account."""

    account_id: str
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed_positions: list[str] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    completed_orders: list[str] = field(default_factory=list)
    history_orders: list[dict[str, Any]] = field(default_factory=list)
    deals: list[dict[str, Any]] = field(default_factory=list)
    balance: float = 0.0
    remember: tuple[str, dict[str, Any]] | None = None

    def put_position(self, position: dict[str, Any]) -> None:
        """Open or update a position."""
        self.positions[position["id"]] = position

    def remove_position(self, position_id: str) -> None:
        """Close a position completely."""
        self.positions.pop(position_id, None)
        self.removed_positions.append(position_id)

    def complete_order(self, order_id: str) -> None:
        """Take a pending order off the book (filled, canceled or expired)."""
        self.orders.pop(order_id, None)
        self.completed_orders.append(order_id)

    def deal(self, deal: dict[str, Any]) -> None:
        """Record a deal; its profit, commission and swap move the balance."""
        self.deals.append(deal)
        self.balance += float(deal.get("profit", 0)) + float(deal.get("commission", 0)) + float(deal.get("swap", 0))

    def overlay(self, stored: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        """``stored`` positions or orders with this change set applied."""
        updated, removed = (self.positions, self.removed_positions) if kind == "positions" else (
            self.orders, self.completed_orders)  # fmt: skip
        out = [updated.get(item["id"], item) for item in stored if item["id"] not in removed]
        known = {item["id"] for item in stored}
        return out + [item for key, item in updated.items() if key not in known]

    def __bool__(self) -> bool:
        return bool(self.positions or self.removed_positions or self.orders or self.completed_orders
                    or self.history_orders or self.deals)  # fmt: skip


#: Statements of the commit: an upsert per open position/order, one insert per history row, the balance moved
#: inside the stored account document (no read, no re-serialisation of the document).
_UPSERT = ("INSERT INTO {table} (key, doc, account_id) VALUES (?, ?, ?) "
           "ON CONFLICT(key) DO UPDATE SET doc = excluded.doc, account_id = excluded.account_id")  # fmt: skip
_HISTORY = "INSERT OR REPLACE INTO {table} (key, doc, account_id, time_ms, position_id) VALUES (?, ?, ?, ?, ?)"
_DELETE = "DELETE FROM {table} WHERE key = ?"
_BALANCE = ("UPDATE accounts SET doc = json_set(doc, '$._trading.balance', "
            "round(coalesce(json_extract(doc, '$._trading.balance'), 0) + ?, 2)) WHERE key = ?")  # fmt: skip
_TICKET = "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value"


class Ledger:
    """Reads and writes the broker's tables of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ticket(self) -> str:
        """A fresh ticket (digit string), never reused, shared by positions, orders and deals."""
        rows = self.store.execute(_TICKET, (TICKET_COUNTER,))
        return str(rows[0][0] if rows else self.store.next_id(TICKET_COUNTER, start=TICKET_START))

    def positions(self, account_id: str) -> list[dict[str, Any]]:
        """The stored open positions of an account."""
        return self.store.select("positions", "account_id = ?", (account_id,))

    def orders(self, account_id: str) -> list[dict[str, Any]]:
        """The stored pending orders of an account."""
        return self.store.select("orders", "account_id = ?", (account_id,))

    def all_orders(self) -> list[tuple[str, dict[str, Any]]]:
        """Every pending order of every account, as (account id, order)."""
        return [(row[0], orjson.loads(row[1])) for row in self.store.execute("SELECT account_id, doc FROM orders")]

    def all_positions(self) -> list[tuple[str, dict[str, Any]]]:
        """Every open position of every account, as (account id, position)."""
        rows = self.store.execute("SELECT account_id, doc FROM positions")
        return [(row[0], orjson.loads(row[1])) for row in rows]

    def recalled(self, account_id: str, client_id: str) -> dict[str, Any] | None:
        """The response of an earlier trade of the account with this ``clientId``, or None."""
        return self.store.get("trade_requests", f"{account_id}:{client_id}")

    def commit(self, changes: Changes) -> None:
        """Write the whole change set, the new balance and the remembered response in one transaction."""
        store, account_id = self.store, changes.account_id
        with store.transaction():
            for table, items, removed in (("positions", changes.positions, changes.removed_positions),
                                          ("orders", changes.orders, changes.completed_orders)):  # fmt: skip
                for key, item in items.items():
                    store.execute(_UPSERT.format(table=table), (key, orjson.dumps(item).decode(), account_id))
                for key in removed:
                    store.execute(_DELETE.format(table=table), (key,))
            history = (("history_orders", changes.history_orders, "doneTime"), ("deals", changes.deals, "time"))
            for table, rows, time_field in history:
                for row in rows:
                    values = (row["id"], orjson.dumps(row).decode(), account_id,
                              parse_iso_ms(row[time_field], time_field), row.get("positionId"))  # fmt: skip
                    store.execute(_HISTORY.format(table=table), values)
            if changes.balance:
                store.execute(_BALANCE, (changes.balance, account_id))
            if changes.remember is not None:
                client_id, response = changes.remember
                store.put("trade_requests", f"{account_id}:{client_id}", response, account_id=account_id)
