"""Local checks of account filters and DTOs (protocol §2.1.1, §9.10, §9.11): bad enums fail before any request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import checks

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


Rule = Callable[[str, Any], Any]


def _offset(name: str, value: Any) -> Any:
    return checks.integer(name, value, minimum=0)


def _limit(name: str, value: Any) -> Any:
    return checks.integer(name, value, minimum=1, maximum=1000)


def _one_of(choices: tuple[Any, ...]) -> Rule:
    return lambda name, value: checks.choice(name, value, choices)


def _any_of(choices: tuple[Any, ...] | None) -> Rule:
    return lambda name, value: checks.one_or_many(name, value, choices)


_ACCOUNTS_FILTER: dict[str, Rule] = {
    "offset": _offset, "limit": _limit, "version": _any_of((4, 5)), "type": _any_of(TYPES),
    "state": _any_of(STATES), "connectionStatus": _any_of(CONNECTION_STATUSES), "query": checks.text,
    "provisioningProfileId": checks.text, "sortOrder": _one_of(("asc", "desc")), "region": _any_of(None),
    "copyFactoryRoles": _any_of(COPYFACTORY_ROLES),
}  # fmt: skip
_PROFILES_FILTER: dict[str, Rule] = {
    "offset": _offset, "limit": _limit, "version": _one_of((4, 5)), "type": _one_of(("mkTerminal", "managerApi")),
    "status": _one_of(("new", "active")), "query": checks.text,
}  # fmt: skip


def _query(name: str, value: Any, rules: dict[str, Rule]) -> dict[str, Any]:
    """A filter dict checked key by key into query parameters (None values are left out)."""
    raw = checks.mapping(name, value, optional=True) or {}
    checks.known_keys(name, raw, rules)
    return {key: rules[key](f"{name}.{key}", item) for key, item in raw.items() if item is not None}


def accounts_filter(value: Any) -> dict[str, Any]:
    """Validate an ``AccountsFilter`` dict into query parameters (lists become repeated keys)."""
    return _query("accounts_filter", value, _ACCOUNTS_FILTER)


def profiles_filter(value: Any) -> dict[str, Any]:
    """Validate a ``ProvisioningProfilesFilter`` dict into query parameters (protocol §2.2)."""
    return _query("filter", value, _PROFILES_FILTER)


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
