"""Local checks of account filters and DTOs (spec §2.1.1, §9.10, §9.11): bad enums fail before any request."""

from __future__ import annotations

from typing import Any

from . import checks

STATES = ("CREATED", "DEPLOYING", "DEPLOYED", "DEPLOY_FAILED", "UNDEPLOYING", "UNDEPLOYED", "UNDEPLOY_FAILED",
          "DELETING", "DELETE_FAILED", "REDEPLOY_FAILED", "DRAFT")  # fmt: skip
CONNECTION_STATUSES = ("CONNECTED", "DISCONNECTED", "DISCONNECTED_FROM_BROKER")
TYPES = ("cloud", "cloud-g1", "cloud-g2", "self-hosted")
COPYFACTORY_ROLES = ("SUBSCRIBER", "PROVIDER")
_ENUMS: dict[str, tuple[Any, ...]] = {
    "platform": ("mt4", "mt5"),
    "type": TYPES,
    "reliability": ("high", "regular"),
    "allocateDedicatedIp": ("ipv4", "none"),
    "version": (4, 5),
}


def accounts_filter(value: Any) -> dict[str, Any]:
    """Validate an ``AccountsFilter`` dict into query parameters (lists become repeated keys)."""
    raw = checks.mapping("accounts_filter", value, optional=True) or {}
    allowed = {
        "offset": None, "limit": None, "version": (4, 5), "type": TYPES, "state": STATES,
        "connectionStatus": CONNECTION_STATUSES, "query": None, "provisioningProfileId": None,
        "sortOrder": ("asc", "desc"), "region": None, "copyFactoryRoles": COPYFACTORY_ROLES,
    }  # fmt: skip
    checks.known_keys("accounts_filter", raw, allowed)
    params: dict[str, Any] = {}
    for key, item in raw.items():
        name = f"accounts_filter.{key}"
        if item is None:
            continue
        if key == "offset":
            params[key] = checks.integer(name, item, minimum=0)
        elif key == "limit":
            params[key] = checks.integer(name, item, minimum=1, maximum=1000)
        elif key in ("query", "provisioningProfileId"):
            params[key] = checks.text(name, item)
        elif key == "sortOrder":
            params[key] = checks.choice(name, item, allowed[key])
        else:
            params[key] = checks.one_or_many(name, item, allowed[key])
    return params


def profiles_filter(value: Any) -> dict[str, Any]:
    """Validate a ``ProvisioningProfilesFilter`` dict into query parameters (spec §2.2)."""
    raw = checks.mapping("filter", value, optional=True) or {}
    checks.known_keys("filter", raw, ("offset", "limit", "version", "type", "status", "query"))
    params: dict[str, Any] = {}
    for key, item in raw.items():
        name = f"filter.{key}"
        if item is None:
            continue
        if key == "offset":
            params[key] = checks.integer(name, item, minimum=0)
        elif key == "limit":
            params[key] = checks.integer(name, item, minimum=1, maximum=1000)
        elif key == "version":
            params[key] = checks.choice(name, item, (4, 5))
        elif key == "type":
            params[key] = checks.choice(name, item, ("mkTerminal", "managerApi"))
        elif key == "status":
            params[key] = checks.choice(name, item, ("new", "active"))
        else:
            params[key] = checks.text(name, item)
    return params


def account_dto(name: str, value: Any, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check an account / replica DTO: a dict, ``required`` strings present, known enums and numbers valid."""
    dto = checks.mapping(name, value)
    for key in required:
        checks.text(f"{name}.{key}", dto.get(key))
    for key, choices in _ENUMS.items():
        if dto.get(key) is not None:
            checks.choice(f"{name}.{key}", dto[key], choices)
    for key in ("name", "server", "login", "password", "region", "provisioningProfileId", "symbol"):
        if dto.get(key) is not None:
            checks.text(f"{name}.{key}", dto[key])
    if dto.get("magic") is not None:
        checks.integer(f"{name}.magic", dto["magic"], minimum=0)
    for key in ("quoteStreamingIntervalInSeconds", "slippage"):
        if dto.get(key) is not None:
            checks.number(f"{name}.{key}", dto[key], minimum=0)
    for key in ("resourceSlots", "copyFactoryResourceSlots"):
        if dto.get(key) is not None:
            checks.integer(f"{name}.{key}", dto[key], minimum=1)
    if dto.get("tags") is not None and not (
        isinstance(dto["tags"], list) and all(isinstance(tag, str) for tag in dto["tags"])
    ):
        raise checks.fail(f"{name}.tags", "must be a list of strings", dto["tags"])
    if dto.get("copyFactoryRoles") is not None:
        checks.one_or_many(f"{name}.copyFactoryRoles", dto["copyFactoryRoles"], COPYFACTORY_ROLES)
    return dto
