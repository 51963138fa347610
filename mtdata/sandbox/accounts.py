"""Trading accounts of the sandbox: their documents, state transitions and trading settings.

An account document is the cloud's account DTO (spec §9.10) plus private keys that start
with ``_`` (never sent on the wire, see :func:`public`):

* ``_trading``: the simulated broker account (``balance``, ``leverage``, ``currency``,
  ``marginMode``, ``platform``) that the socket layer reports as account information;
* ``_transition``: a pending state change ``{"to", "at", "connectionStatus"}``, applied
  when it falls due. Transitions are resolved on read, so they survive a restart.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from .errors import NotFoundError
from .store import Store
from .timeutil import iso_ms, now_ms

DEMO_SERVER = "Sandbox-Demo"
DEFAULT_TRADING = {
    "balance": 10000.0,
    "leverage": 100,
    "currency": "USD",
    "marginMode": "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING",
    "platform": "mt5",
}


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the wire shows it: private ``_`` keys removed (``_id`` kept)."""
    out = {k: v for k, v in doc.items() if not k.startswith("_") or k == "_id"}
    if "accountReplicas" in out:
        out["accountReplicas"] = [public(r) for r in out["accountReplicas"]]
    return out


def resolve(doc: dict[str, Any], at_ms: int | None = None) -> tuple[dict[str, Any], bool]:
    """Apply a due ``_transition``; returns the document and whether it changed."""
    transition = doc.get("_transition")
    if not transition or transition["at"] > (now_ms() if at_ms is None else at_ms):
        return doc, False
    doc = {k: v for k, v in doc.items() if k != "_transition"}
    doc["state"] = transition["to"]
    if "connectionStatus" in transition:
        doc["connectionStatus"] = transition["connectionStatus"]
    return doc, True


def new_account(
    user_id: str,
    fields: dict[str, Any],
    region: str,
    trading: dict[str, Any] | None = None,
    account_id: str | None = None,
) -> dict[str, Any]:
    """A fresh, undeployed account document from validated create-account ``fields``."""
    platform = fields.get("platform", "mt5")
    created = now_ms()
    doc: dict[str, Any] = {
        "_id": account_id or uuid.uuid4().hex,
        "name": fields["name"],
        "type": fields.get("type", "cloud-g2"),
        "login": str(fields.get("login", "")),
        "server": fields["server"],
        "application": fields.get("application", "MetaApi"),
        "magic": int(fields.get("magic", 0)),
        "state": "UNDEPLOYED" if fields.get("login") else "DRAFT",
        "connectionStatus": "DISCONNECTED",
        "reliability": fields.get("reliability", "regular"),
        "region": fields.get("region", region),
        "platform": platform,
        "version": 4 if platform == "mt4" else 5,
        "baseCurrency": fields.get("baseCurrency", "USD"),
        "tags": list(fields.get("tags", [])),
        "quoteStreamingIntervalInSeconds": fields.get("quoteStreamingIntervalInSeconds", 2.5),
        "resourceSlots": fields.get("resourceSlots", 1),
        "copyFactoryResourceSlots": fields.get("copyFactoryResourceSlots", 1),
        "manualTrades": fields.get("manualTrades", False),
        "slippage": fields.get("slippage", 0),
        "hash": zlib.crc32(fields["server"].encode()) % 100000,
        "copyFactoryRoles": list(fields.get("copyFactoryRoles", [])),
        "riskManagementApiEnabled": fields.get("riskManagementApiEnabled", False),
        "metastatsApiEnabled": fields.get("metastatsApiEnabled", False),
        "allocateDedicatedIp": fields.get("allocateDedicatedIp", "none"),
        "connections": [],
        "primaryReplica": True,
        "userId": user_id,
        "createdAt": iso_ms(created),
        "accountReplicas": [],
        "_trading": {**DEFAULT_TRADING, "platform": platform, **(trading or {})},
    }
    for optional in ("provisioningProfileId", "metadata", "symbol", "keywords"):
        if optional in fields:
            doc[optional] = fields[optional]
    return doc


class Accounts:
    """Reads and writes account documents in the store, resolving due state transitions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, account_id: str) -> dict[str, Any]:
        """The account (transitions applied), or NotFoundError."""
        doc = self.store.get("accounts", account_id)
        if doc is None:
            raise NotFoundError(f"Trading account with id {account_id} not found")
        doc, changed = resolve(doc)
        if changed:
            self.save(doc)
        return doc

    def save(self, doc: dict[str, Any]) -> None:
        """Store an account document (inserting it if new)."""
        created = self.store.get("accounts", doc["_id"]) is None
        columns: dict[str, Any] = {"state_changed_at": now_ms()}
        if created:
            columns.update(user_id=doc["userId"], created_at=now_ms())
        self.store.put("accounts", doc["_id"], doc, **columns)

    def deploy_now(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Mark an account deployed and connected at once (used for the bootstrap demo account)."""
        doc = {**doc, "state": "DEPLOYED", "connectionStatus": "CONNECTED"}
        doc.pop("_transition", None)
        self.save(doc)
        return doc
