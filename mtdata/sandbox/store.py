"""SQLite persistence of the sandbox: accounts, replicas, profiles, expert advisors, tokens, trading state.

One database file (``sandbox.sqlite3``) in the data directory, in WAL mode with
``synchronous=NORMAL``: a committed transaction survives the process being killed
(``kill -9``); only a power loss of the host could lose the newest commits.

Every table holds JSON documents under a text key, plus a few plain columns that
queries filter and sort on. The schema is created on open; tables are added, never
changed in place, so an older data directory keeps working.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    key TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    state_changed_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replicas (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS replicas_account ON replicas(account_id);
CREATE TABLE IF NOT EXISTS profiles (
    key TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profile_files (
    key TEXT PRIMARY KEY, profile_id TEXT NOT NULL, name TEXT NOT NULL, content BLOB NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experts (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, doc TEXT NOT NULL, file BLOB);
CREATE INDEX IF NOT EXISTS experts_account ON experts(account_id);
CREATE TABLE IF NOT EXISTS tokens (
    key TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, first_seen INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS positions_account ON positions(account_id);
CREATE TABLE IF NOT EXISTS orders (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_account ON orders(account_id);
CREATE TABLE IF NOT EXISTS history_orders (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, time_ms INTEGER NOT NULL,
    position_id TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_orders_time ON history_orders(account_id, time_ms);
CREATE TABLE IF NOT EXISTS deals (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, time_ms INTEGER NOT NULL,
    position_id TEXT, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deals_time ON deals(account_id, time_ms);
CREATE TABLE IF NOT EXISTS trade_requests (
    key TEXT PRIMARY KEY, account_id TEXT NOT NULL, doc TEXT NOT NULL);
"""

#: Tables that hold documents, with the extra columns each one requires on insert.
TABLES: dict[str, tuple[str, ...]] = {
    "accounts": ("user_id", "created_at", "state_changed_at"),
    "replicas": ("account_id", "created_at"),
    "profiles": ("user_id", "created_at"),
    "profile_files": ("profile_id", "name", "content"),
    "experts": ("account_id", "file"),
    "tokens": ("user_id", "created_at", "expires_at"),
    "transactions": ("kind", "first_seen"),
    "positions": ("account_id",),
    "orders": ("account_id",),
    "history_orders": ("account_id", "time_ms", "position_id"),
    "deals": ("account_id", "time_ms", "position_id"),
    "trade_requests": ("account_id",),
}


def _table(name: str) -> str:
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}")
    return name


class Store:
    """The sandbox's SQLite database. Thread-safe; writes are grouped with :meth:`transaction`."""

    FILE_NAME = "sandbox.sqlite3"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._depth = 0
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Checkpoint and close the database file."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes atomically; nested use joins the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one statement and return its rows (for queries the document helpers don't cover)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # documents ---------------------------------------------------------------------------------

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The document stored under ``key``, or None."""
        rows = self.execute(f"SELECT doc FROM {_table(table)} WHERE key = ?", (key,))
        return orjson.loads(rows[0][0]) if rows else None

    def put(self, table: str, key: str, doc: dict[str, Any], **columns: Any) -> None:
        """Insert or replace the document under ``key``; ``columns`` fill the table's plain columns.

        On replace, plain columns not given keep their stored values.
        """
        names = TABLES[_table(table)]
        unknown = set(columns) - set(names)
        if unknown:
            raise ValueError(f"{table} has no columns {sorted(unknown)}")
        payload = orjson.dumps(doc).decode()
        with self.transaction():
            exists = self.execute(f"SELECT 1 FROM {table} WHERE key = ?", (key,))
            if exists:
                sets = ", ".join(["doc = ?", *(f"{c} = ?" for c in columns)])
                self._db.execute(f"UPDATE {table} SET {sets} WHERE key = ?", (payload, *columns.values(), key))
            else:
                missing = [c for c in names if c not in columns]
                if missing:
                    raise ValueError(f"{table} insert needs columns {missing}")
                cols = ", ".join(["key", "doc", *names])
                marks = ", ".join("?" * (len(names) + 2))
                values = (key, payload, *(columns[c] for c in names))
                self._db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", values)

    def delete(self, table: str, key: str) -> bool:
        """Remove the document under ``key``; True if there was one."""
        with self._lock:
            cursor = self._db.execute(f"DELETE FROM {_table(table)} WHERE key = ?", (key,))
            return cursor.rowcount > 0

    def select(
        self,
        table: str,
        where: str = "",
        params: Sequence[Any] = (),
        order_by: str = "rowid",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Documents matching a SQL ``where`` clause (written by the caller, values as params)."""
        sql = f"SELECT doc FROM {_table(table)}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order_by} LIMIT ? OFFSET ?"
        rows = self.execute(sql, (*params, -1 if limit is None else limit, offset))
        return [orjson.loads(r[0]) for r in rows]

    # settings and counters ---------------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        """A stored setting (server secret, bootstrap ids), or None."""
        rows = self.execute("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting, replacing any earlier value."""
        self.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    def next_id(self, counter: str, start: int = 1) -> int:
        """The next value of a named counter (ticket numbers); never repeats, even after a restart."""
        with self.transaction():
            rows = self.execute("SELECT value FROM counters WHERE name = ?", (counter,))
            value = rows[0][0] + 1 if rows else start
            self.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (counter, value))
            return value
