"""Trading accounts of the sandbox: their documents, state transitions and trading settings.

An account document is the cloud's account DTO (protocol §9.10) plus private keys that start
with ``_`` (never sent on the wire, see :func:`public`):

* ``_trading``: the simulated broker account (``balance``, ``leverage``, ``currency``,
  ``marginMode``, ``platform``) that the socket layer reports as account information;
* ``_transition``: a pending state change ``{"to", "at", "connectionStatus"}``, applied
  when it falls due. Transitions are resolved on read, so they survive a restart;
  ``to == REMOVED`` means the document disappears (the end of ``DELETING``);
* ``_stateChangedAt``: epoch ms of the last state change (the list's ``sortOrder`` key).

Replicas live in their own table (``account_id`` = the primary's id) as documents of the
same kind; :meth:`Accounts.get` attaches them to the primary as ``accountReplicas``.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from .errors import NotFoundError, ValidationError
from .store import Store
from .timeutil import iso_ms, now_ms

DEMO_SERVER = "Sandbox-Demo"
#: Broker servers the sandbox's automatic broker detection knows (demo generator servers are added).
KNOWN_SERVERS = (DEMO_SERVER, "Sandbox-Live")
#: Regions of the sandbox (``GET /users/current/regions``).
REGIONS = ("vint-hill", "new-york", "london", "singapore")
STATES = ("CREATED", "DEPLOYING", "DEPLOYED", "DEPLOY_FAILED", "UNDEPLOYING", "UNDEPLOYED", "UNDEPLOY_FAILED",
          "DELETING", "DELETE_FAILED", "REDEPLOY_FAILED", "DRAFT")  # fmt: skip
CONNECTION_STATUSES = ("CONNECTED", "DISCONNECTED", "DISCONNECTED_FROM_BROKER")
#: Transition target meaning "the document is gone".
REMOVED = "REMOVED"

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
    doc["_stateChangedAt"] = transition["at"]
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
        "_stateChangedAt": created,
    }
    for optional in ("provisioningProfileId", "metadata", "symbol", "keywords"):
        if optional in fields:
            doc[optional] = fields[optional]
    return doc


def new_replica(primary: dict[str, Any], fields: dict[str, Any], delay_s: float) -> dict[str, Any]:
    """A replica document of ``primary`` from validated fields; it deploys if the primary is deployed."""
    created = now_ms()
    doc: dict[str, Any] = {
        "_id": uuid.uuid4().hex,
        "state": "UNDEPLOYED",
        "magic": int(fields.get("magic", primary["magic"])),
        "connectionStatus": "DISCONNECTED",
        "quoteStreamingIntervalInSeconds": fields.get(
            "quoteStreamingIntervalInSeconds", primary["quoteStreamingIntervalInSeconds"]
        ),
        "reliability": fields.get("reliability", primary["reliability"]),
        "tags": list(fields.get("tags", [])),
        "resourceSlots": fields.get("resourceSlots", 1),
        "copyFactoryResourceSlots": fields.get("copyFactoryResourceSlots", 1),
        "region": fields["region"],
        "createdAt": iso_ms(created),
        "primaryAccountId": primary["_id"],
        "_stateChangedAt": created,
    }
    for optional in ("symbol", "metadata"):
        if optional in fields:
            doc[optional] = fields[optional]
    if primary["state"] in ("DEPLOYING", "DEPLOYED"):
        doc = start_transition(doc, "deploy", delay_s)
    return doc


def start_transition(doc: dict[str, Any], action: str, delay_s: float) -> dict[str, Any]:
    """The document after ``action`` (deploy, undeploy, redeploy, remove) starts; it completes ``delay_s`` later.

    Repeating an action that is already under way (or done) changes nothing.
    """
    state = doc["state"]
    if state == "DELETING" and action == "remove":
        return doc
    if state == "DELETING" or (state == "DRAFT" and action != "remove"):
        verb = "being deleted" if state == "DELETING" else "a draft (it has no login and password)"
        raise ValidationError(f"The account {doc['_id']} is {verb}", [{"parameter": "state", "value": state,
                              "message": f"cannot {action} an account in state {state}"}])  # fmt: skip
    interim, target, connection = {
        "deploy": ("DEPLOYING", "DEPLOYED", "CONNECTED"),
        "redeploy": ("DEPLOYING", "DEPLOYED", "CONNECTED"),
        "undeploy": ("UNDEPLOYING", "UNDEPLOYED", "DISCONNECTED"),
        "remove": ("DELETING", REMOVED, "DISCONNECTED"),
    }[action]
    if action in ("deploy", "undeploy") and state in (interim, target):
        return doc
    now = now_ms()
    doc = {**doc, "state": interim, "_stateChangedAt": now}
    if action != "deploy":
        doc["connectionStatus"] = "DISCONNECTED"
    doc["_transition"] = {"to": target, "at": now + int(delay_s * 1000), "connectionStatus": connection}
    return doc


class Accounts:
    """Reads and writes account and replica documents in the store, resolving due state transitions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # primaries -------------------------------------------------------------------------------

    def find(self, account_id: str) -> dict[str, Any] | None:
        """The account with its ``accountReplicas`` (transitions applied), or None."""
        doc = self._load("accounts", self.store.get("accounts", account_id))
        if doc is not None:
            doc["accountReplicas"] = self.replicas(account_id)
        return doc

    def get(self, account_id: str) -> dict[str, Any]:
        """The account with its ``accountReplicas`` (transitions applied), or NotFoundError."""
        doc = self.find(account_id)
        if doc is None:
            raise NotFoundError(f"Trading account with id {account_id} not found")
        return doc

    def all_of(self, user_id: str) -> list[dict[str, Any]]:
        """Every account of ``user_id`` in creation order, with replicas (transitions applied)."""
        docs = [self._load("accounts", d) for d in self.store.select("accounts", "user_id = ?", (user_id,))]
        out = [d for d in docs if d is not None]
        for doc in out:
            doc["accountReplicas"] = self.replicas(doc["_id"])
        return out

    def save(self, doc: dict[str, Any]) -> None:
        """Store an account document (inserting it if new); ``accountReplicas`` is not stored."""
        doc = {k: v for k, v in doc.items() if k != "accountReplicas"}
        columns: dict[str, Any] = {"state_changed_at": doc.get("_stateChangedAt") or now_ms()}
        if self.store.get("accounts", doc["_id"]) is None:
            columns.update(user_id=doc["userId"], created_at=now_ms())
        self.store.put("accounts", doc["_id"], doc, **columns)

    def deploy_now(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Mark an account deployed and connected at once (used for the bootstrap demo account)."""
        doc = {**doc, "state": "DEPLOYED", "connectionStatus": "CONNECTED", "_stateChangedAt": now_ms()}
        doc.pop("_transition", None)
        self.save(doc)
        return doc

    def act(self, account_id: str, action: str, delay_s: float) -> dict[str, Any]:
        """Start ``action`` on an account (``remove`` also removes its replicas); returns the new document."""
        doc = start_transition(self.get(account_id), action, delay_s)
        with self.store.transaction():
            self.save(doc)
            if action == "remove":
                for replica in doc["accountReplicas"]:
                    if replica["state"] != "DELETING":
                        self.save_replica(start_transition(replica, action, delay_s))
        return doc

    # replicas --------------------------------------------------------------------------------

    def replicas(self, account_id: str) -> list[dict[str, Any]]:
        """The replicas of a primary account in creation order (transitions applied)."""
        docs = self.store.select("replicas", "account_id = ?", (account_id,), order_by="created_at, rowid")
        loaded = [self._load("replicas", d) for d in docs]
        return [d for d in loaded if d is not None]

    def get_replica(self, account_id: str, replica_id: str) -> dict[str, Any]:
        """One replica of ``account_id`` (transitions applied), or NotFoundError."""
        doc = self._load("replicas", self.store.get("replicas", replica_id))
        if doc is None or doc["primaryAccountId"] != account_id:
            raise NotFoundError(f"Trading account replica with id {replica_id} not found")
        return doc

    def save_replica(self, doc: dict[str, Any]) -> None:
        """Store a replica document (inserting it if new)."""
        columns = {"account_id": doc["primaryAccountId"]}
        if self.store.get("replicas", doc["_id"]) is None:
            columns["created_at"] = now_ms()
        self.store.put("replicas", doc["_id"], doc, **columns)

    def act_replica(self, account_id: str, replica_id: str, action: str, delay_s: float) -> dict[str, Any]:
        """Start ``action`` on a replica; returns its new document."""
        doc = start_transition(self.get_replica(account_id, replica_id), action, delay_s)
        self.save_replica(doc)
        return doc

    def primary_of(self, account_or_replica_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """``(primary, replica)`` for a replica id, ``(primary, None)`` for a primary id; else NotFoundError."""
        primary = self.find(account_or_replica_id)
        if primary is not None:
            return primary, None
        replica = self._load("replicas", self.store.get("replicas", account_or_replica_id))
        if replica is None:
            raise NotFoundError(f"Trading account with id {account_or_replica_id} not found")
        return self.get(replica["primaryAccountId"]), replica

    # internals -------------------------------------------------------------------------------

    def _load(self, table: str, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        """Apply a due transition to a stored document, persisting it (or deleting a removed one)."""
        if doc is None:
            return None
        doc, changed = resolve(doc)
        if not changed:
            return doc
        if doc["state"] == REMOVED:
            with self.store.transaction():
                self.store.delete(table, doc["_id"])
                if table == "accounts":
                    self.store.execute("DELETE FROM replicas WHERE account_id = ?", (doc["_id"],))
            return None
        if table == "accounts":
            self.save(doc)
        else:
            self.save_replica(doc)
        return doc
