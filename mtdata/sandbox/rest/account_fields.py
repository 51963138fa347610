"""Validation of account and replica bodies (protocol §9.10): one table of field checks, four body kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..accounts import REGIONS
from ..validation import Checker

_CHECKS: dict[str, Callable[[Checker, str, bool], Any]] = {
    "name": lambda c, n, r: c.string(n, required=r),
    "server": lambda c, n, r: c.string(n, required=r),
    "login": lambda c, n, r: c.string(n, required=r, max_length=20, pattern=r"\d+"),
    "password": lambda c, n, r: c.string(n, required=r, max_length=64),
    "platform": lambda c, n, r: c.string(n, required=r, choices=("mt4", "mt5")),
    "provisioningProfileId": lambda c, n, r: c.string(n, required=r, max_length=64),
    "type": lambda c, n, r: c.string(n, required=r, choices=("cloud", "cloud-g1", "cloud-g2")),
    "magic": lambda c, n, r: c.integer(n, required=r, minimum=0, maximum=2**63 - 1),
    "quoteStreamingIntervalInSeconds": lambda c, n, r: c.number(n, required=r, minimum=0, maximum=3600),
    "tags": lambda c, n, r: c.string_list(n, required=r),
    "metadata": lambda c, n, r: c.metadata(n),
    "reliability": lambda c, n, r: c.string(n, required=r, choices=("high", "regular")),
    "resourceSlots": lambda c, n, r: c.integer(n, required=r, minimum=1, maximum=100),
    "copyFactoryResourceSlots": lambda c, n, r: c.integer(n, required=r, minimum=1, maximum=100),
    "region": lambda c, n, r: c.string(n, required=r, choices=REGIONS),
    "manualTrades": lambda c, n, r: c.boolean(n, required=r),
    "slippage": lambda c, n, r: c.number(n, required=r, minimum=0, maximum=100000),
    "symbol": lambda c, n, r: c.string(n, required=r, max_length=64),
    "baseCurrency": lambda c, n, r: c.string(n, required=r, pattern=r"[A-Z]{3}"),
    "copyFactoryRoles": lambda c, n, r: c.string_list(n, required=r, choices=("SUBSCRIBER", "PROVIDER")),
    "riskManagementApiEnabled": lambda c, n, r: c.boolean(n, required=r),
    "metastatsApiEnabled": lambda c, n, r: c.boolean(n, required=r),
    "keywords": lambda c, n, r: c.string_list(n, required=r),
    "allocateDedicatedIp": lambda c, n, r: c.string(n, required=r, choices=("ipv4", "none")),
    "application": lambda c, n, r: c.string(n, required=r, max_length=64),
}

#: Fields each body kind accepts, and which of them are required.
_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "create": (tuple(_CHECKS), ("name", "server")),
    "update": (
        ("name", "password", "server", "login", "magic", "manualTrades", "slippage",
         "quoteStreamingIntervalInSeconds", "tags", "metadata", "resourceSlots", "copyFactoryResourceSlots",
         "allocateDedicatedIp"),
        (),
    ),
    "create-replica": (
        ("region", "magic", "symbol", "quoteStreamingIntervalInSeconds", "tags", "metadata", "reliability",
         "resourceSlots", "copyFactoryResourceSlots"),
        ("region",),
    ),
    "update-replica": (
        ("magic", "quoteStreamingIntervalInSeconds", "tags", "metadata", "copyFactoryRoles", "resourceSlots",
         "copyFactoryResourceSlots"),
        (),
    ),
}  # fmt: skip


def account_fields(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The valid fields of a ``kind`` body (create, update, create-replica, update-replica); else ValidationError.

    Unknown fields are ignored as the cloud does; a numeric ``login`` is accepted as a string.
    """
    if isinstance(body.get("login"), int) and not isinstance(body.get("login"), bool):
        body = {**body, "login": str(body["login"])}
    names, required = _KINDS[kind]
    check = Checker(body)
    fields: dict[str, Any] = {}
    for name in names:
        value = _CHECKS[name](check, name, name in required)
        if value is not None:
            fields[name] = value
    if fields.get("type") == "cloud":
        fields["type"] = "cloud-g2"
    interval = fields.get("quoteStreamingIntervalInSeconds")
    if interval is not None and 0 < interval < 2.5 and fields.get("type") == "cloud-g1":
        check.fail("quoteStreamingIntervalInSeconds", "must be 0 or at least 2.5 on cloud-g1 accounts", interval)
    check.done()
    return fields
