"""Tokens of the sandbox: JWTs shaped like the cloud's, signed with a per-data-dir secret.

A token's payload carries ``accessRules`` as the cloud's do: each rule names an API
(``id``), the method patterns, the ``roles`` (``reader``, ``writer``) and the
``resources`` (``"*:$USER_ID$:*"`` for everything, ``"account:$USER_ID$:<id>"`` for one
account). Narrowed tokens carry fewer rules, roles or resources; :class:`Principal`
enforces them. Tokens never appear whole in logs (:mod:`mtdata.redaction`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import ForbiddenError, UnauthorizedError
from .store import Store

#: API rule ids of the cloud, and which part of the sandbox each one guards.
PROVISIONING_API = "trading-account-management-api"
REST_API = "metaapi-rest-api"
RPC_API = "metaapi-rpc-api"
STREAMING_API = "metaapi-real-time-streaming-api"
PROFILE_API = "profile-api"

FULL_RESOURCE = "*:$USER_ID$:*"
_ALL_RULES: tuple[tuple[str, str], ...] = (
    (PROVISIONING_API, "trading-account-management-api:rest:public:*:*"),
    (REST_API, "metaapi-api:rest:public:*:*"),
    (RPC_API, "metaapi-api:ws:public:*:*"),
    (STREAMING_API, "metaapi-api:ws:public:*:*"),
    ("metastats-api", "metastats-api:rest:public:*:*"),
    ("risk-management-api", "risk-management-api:rest:public:*:*"),
    ("copyfactory-api", "copyfactory-api:rest:public:*:*"),
    ("mt-manager-api", "mt-manager-api:rest:public:*:*"),
    (PROFILE_API, "profile-api:rest:public:*:*"),
)


def full_access_rules() -> list[dict[str, Any]]:
    """The access rules of an un-narrowed token: every API, both roles, every resource."""
    return [
        {"id": rule_id, "methods": [method], "roles": ["reader", "writer"], "resources": [FULL_RESOURCE]}
        for rule_id, method in _ALL_RULES
    ]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_RESOURCE = re.compile(r"^(?P<entity>[^:]+):(?P<user>[^:]+):(?P<id>.+)$")


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for and what it may do."""

    user_id: str
    token_id: str
    rules: tuple[dict[str, Any], ...]
    expires_at: int | None = None

    def require_unexpired(self) -> None:
        """Raise UnauthorizedError once the token's ``exp`` has passed (sockets check it on every request)."""
        if self.expires_at is not None and time.time() >= self.expires_at:
            raise UnauthorizedError("Authorization token expired")

    def _rules_for(self, api: str) -> list[dict[str, Any]]:
        return [r for r in self.rules if r.get("id") == api]

    def may_access_account(self, api: str, account_id: str, write: bool = False) -> bool:
        """Whether a rule of ``api`` grants the role and covers ``account_id``."""
        role = "writer" if write else "reader"
        for rule in self._rules_for(api):
            if role not in rule.get("roles", ()):
                continue
            for resource in rule.get("resources", ()):
                match = _RESOURCE.match(resource)
                if not match or match["user"] not in ("$USER_ID$", self.user_id):
                    continue
                if match["entity"] == "*" and match["id"] == "*":
                    return True
                if match["entity"] in ("account", "*") and match["id"] in (account_id, "*"):
                    return True
        return False

    def may_use(self, api: str, write: bool = False) -> bool:
        """Whether a rule of ``api`` grants the role at all (for calls not about one account)."""
        role = "writer" if write else "reader"
        return any(role in r.get("roles", ()) for r in self._rules_for(api))

    def require_account(self, api: str, account_id: str, write: bool = False) -> None:
        """Raise ForbiddenError unless the token may read (or write) ``account_id`` through ``api``."""
        if not self.may_access_account(api, account_id, write):
            action = "modify" if write else "access"
            raise ForbiddenError(f"You do not have access to {action} the account {account_id} with {api}")

    def require(self, api: str, write: bool = False) -> None:
        """Raise ForbiddenError unless the token may use ``api`` in that role."""
        if not self.may_use(api, write):
            role = "writer" if write else "reader"
            raise ForbiddenError(f"The token has no {role} access to {api}")

    def scoped_to_accounts(self, api: str) -> set[str] | None:
        """The account ids a narrowed token is limited to under ``api``, or None if unlimited."""
        ids: set[str] = set()
        for rule in self._rules_for(api):
            for resource in rule.get("resources", ()):
                match = _RESOURCE.match(resource)
                if not match:
                    continue
                if match["id"] == "*" and match["entity"] in ("*", "account"):
                    return None
                if match["entity"] == "account":
                    ids.add(match["id"])
        return ids


class TokenService:
    """Issues and verifies the sandbox's tokens (HS256 JWTs) with a secret kept in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        secret = store.setting("token_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_setting("token_secret", secret)
        self._secret = bytes.fromhex(secret)

    def issue(self, user_id: str, rules: list[dict[str, Any]], validity_seconds: float | None = None) -> str:
        """A new signed token for ``user_id`` with ``rules``; recorded in the store."""
        now = int(time.time())
        token_id = secrets.token_hex(8)
        payload: dict[str, Any] = {
            "_id": user_id,
            "accessRules": rules,
            "ignoreRateLimits": False,
            "tokenId": token_id,
            "impersonated": False,
            "realUserId": user_id,
            "iat": now,
        }
        if validity_seconds is not None:
            payload["exp"] = now + int(validity_seconds)
        header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
        body = _b64(orjson.dumps(payload))
        signature = _b64(hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
        expires_ms = payload["exp"] * 1000 if "exp" in payload else None
        self.store.put(
            "tokens",
            token_id,
            {"tokenId": token_id, "userId": user_id, "accessRules": rules},
            user_id=user_id,
            created_at=now * 1000,
            expires_at=expires_ms,
        )
        return f"{header}.{body}.{signature}"

    def verify(self, token: str | None) -> Principal:
        """The principal of a valid token; UnauthorizedError for a missing, forged or expired one."""
        if not token or not isinstance(token, str):
            raise UnauthorizedError("Authorization token is missing, please provide the auth-token header")
        parts = token.split(".")
        if len(parts) != 3 or not token.isascii():  # a JWT is ASCII; smart quotes pasted around one are not
            raise UnauthorizedError("Authorization token invalid")
        header, body, signature = parts
        expected = _b64(hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            raise UnauthorizedError("Authorization token invalid")
        try:
            payload = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            raise UnauthorizedError("Authorization token invalid") from None
        principal = Principal(
            user_id=payload["_id"],
            token_id=payload.get("tokenId", ""),
            rules=tuple(payload.get("accessRules", ())),
            expires_at=payload.get("exp"),
        )
        principal.require_unexpired()
        return principal


def _covers(outer: str, inner: str) -> bool:
    """Whether resource pattern ``outer`` grants everything ``inner`` names."""
    a, b = _RESOURCE.match(outer), _RESOURCE.match(inner)
    if not a or not b or a["user"] != b["user"]:
        return False
    if a["entity"] == "*" and a["id"] == "*":
        return True
    return a["entity"] == b["entity"] and a["id"] in ("*", b["id"])


def _intersect_resources(granted: list[str], requested: list[str]) -> list[str]:
    """Resources named by both lists, each kept in its narrower form."""
    out: list[str] = []
    for want in requested:
        if any(_covers(have, want) for have in granted):
            out.append(want)
        else:
            out.extend(have for have in granted if _covers(want, have))
    return list(dict.fromkeys(out))


def resource(entity: str, entity_id: str) -> str:
    """The resource string of a token rule for one entity (``*`` for all) of the token's user."""
    return f"{entity}:$USER_ID$:{entity_id}"


def narrow_rules(
    granted: tuple[dict[str, Any], ...] | list[dict[str, Any]],
    requested: list[tuple[str, list[str] | None, list[str] | None]],
) -> list[dict[str, Any]]:
    """The intersection of a caller's rules with requested ``(rule id, roles, resources)`` triples.

    ``None`` roles or resources mean "as granted". A narrowed token never gains anything:
    roles and resources outside the caller's rule are dropped, and so are rules left empty.
    """
    out: list[dict[str, Any]] = []
    for rule_id, roles, resources in requested:
        for rule in granted:
            if rule.get("id") != rule_id:
                continue
            have_roles = list(rule.get("roles", ()))
            new_roles = have_roles if roles is None else [r for r in have_roles if r in roles]
            have_res = list(rule.get("resources", ()))
            new_res = have_res if resources is None else _intersect_resources(have_res, resources)
            if new_roles and new_res:
                out.append({**rule, "roles": new_roles, "resources": new_res})
    return out


def access_rules() -> tuple[tuple[str, str], ...]:
    """Every API of a full token as ``(rule id, method pattern)`` pairs (the manifest is built from them)."""
    return _ALL_RULES


def rule_applications() -> dict[str, str]:
    """Each access-rule id and the application it belongs to (the first part of its method pattern)."""
    return {rule_id: method.split(":", 1)[0] for rule_id, method in _ALL_RULES}
