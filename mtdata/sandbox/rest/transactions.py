"""Idempotent slow POSTs: the ``transaction-id`` header and the stored outcome of each transaction.

The cloud answers account creation, replica creation and demo-account generation with
202 + ``Retry-After`` while the work runs, and the client repeats the identical request
with the same ``transaction-id``. The sandbox keeps each transaction in the store's
``transactions`` table, so a repeat after a restart still gets the same answer.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..errors import ValidationError
from ..store import Store
from ..timeutil import now_ms


def transaction_key(request: web.Request, kind: str, user_id: str) -> str | None:
    """The store key of the request's ``transaction-id`` (validated) for ``kind``; None if the header is absent."""
    value = request.headers.get("transaction-id")
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ValidationError.field("transaction-id", "must be 1..64 letters, digits, - or _", value)
    return f"{kind}:{user_id}:{value}"


def load(store: Store, key: str | None) -> dict[str, Any] | None:
    """The stored state of a transaction (``{"status": "pending"|"done", ...}``), or None."""
    return store.get("transactions", key) if key else None


def save(store: Store, key: str | None, doc: dict[str, Any]) -> None:
    """Record a transaction's state (no-op without a transaction id)."""
    if key:
        store.put("transactions", key, doc, kind=key.split(":", 1)[0], first_seen=now_ms())
