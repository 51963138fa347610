"""Token management (protocol §2.5): the access-rule manifest and narrowing a token down.

Both need a ``profile-api`` rule in the caller's token, as every route needs the rule of its API.

A narrowed token is the intersection of the caller's token with what the body asks
for (applications, roles, resources), and it expires no later than the caller's token.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..auth import PROFILE_API, access_rules, narrow_rules, resource, rule_applications
from ..errors import ValidationError
from ..validation import Checker, read_json
from .responses import json_response, principal, sandbox

DEFAULT_VALIDITY_HOURS = 24
#: Longest validity a narrowed token may ask for (10 years).
MAX_VALIDITY_HOURS = 24 * 365 * 10
ROLES = ("reader", "writer")
ENTITIES = ("*", "account", "account-replica", "strategy", "tracker", "user")

_DESCRIPTIONS = {
    "trading-account-management-api": "Trading account management API: accounts, replicas, provisioning "
    "profiles, expert advisors, demo accounts",
    "metaapi-rest-api": "MetaApi REST API: terminal state, history and historical market data over HTTP",
    "metaapi-rpc-api": "MetaApi RPC API: terminal state and trading over the websocket",
    "metaapi-real-time-streaming-api": "MetaApi real-time streaming API: synchronization and market data",
    "metastats-api": "MetaStats API: trading statistics",
    "risk-management-api": "Risk management API: equity trackers and drawdown limits",
    "copyfactory-api": "CopyFactory API: copy trading",
    "mt-manager-api": "MT manager API",
    "profile-api": "Profile API: token management",
}


def _manifest_entry(rule_id: str, method: str) -> dict[str, Any]:
    application, service = method.split(":")[:2]
    readable = "read-only requests" if rule_id != "trading-account-management-api" else "reading accounts"
    return {
        "id": rule_id,
        "application": application,
        "description": _DESCRIPTIONS[rule_id],
        "entities": [
            {"entity": "*", "description": "all resources of the user"},
            {"entity": "account", "description": "one trading account", "idDescription": "trading account id"},
        ],
        "services": [{"service": service, "description": f"{service.upper()} service"}],
        "methodGroups": [
            {
                "group": "public",
                "description": "public methods",
                "methods": [{"method": "*", "description": "all methods of the group"}],
            },
        ],
        "roles": [
            {"roles": ["reader"], "description": f"allows {readable}"},
            {"roles": ["reader", "writer"], "description": "allows every request, including changes"},
        ],
        "entityCompositionDescription": "resources are given as {entity, id}; '*' as id means all of the entity",
    }


#: The manifest served by ``GET /access-rule-manifest`` (one entry per API of :mod:`auth`).
MANIFEST = [_manifest_entry(rule_id, method) for rule_id, method in access_rules()]


async def access_rule_manifest(request: web.Request) -> web.Response:
    """GET /access-rule-manifest (a token with a ``profile-api`` rule, as for every token route)."""
    principal(request).require(PROFILE_API)
    return json_response(MANIFEST)


def _resources(check: Checker, name: str, items: Any) -> list[str] | None:
    """``[{entity, id}]`` as token resource strings; None (and a recorded problem) if malformed."""
    if items is None:
        return None
    if not isinstance(items, list) or not items or len(items) > 1000:
        check.fail(name, "must be a non-empty array of {entity, id}")
        return None
    out = []
    for i, item in enumerate(items):
        sub = Checker(item if isinstance(item, dict) else {})
        entity = sub.string("entity", required=True, choices=ENTITIES)
        entity_id = sub.string("id", required=True, max_length=128, pattern=r"[^:\s]+")
        for detail in sub.details:
            check.fail(f"{name}[{i}].{detail['parameter']}", detail["message"], detail.get("value"))
        if entity and entity_id:
            out.append(resource(entity, entity_id))
    return out


def _requested_rules(body: dict[str, Any]) -> list[tuple[str, list[str] | None, list[str] | None]]:
    """Parse a detailed (``accessRules``) or simplified body into ``(rule id, roles, resources)`` triples."""
    check = Checker(body)
    requested: list[tuple[str, list[str] | None, list[str] | None]] = []
    apps = rule_applications()
    if "accessRules" in body:
        rules = body["accessRules"]
        if not isinstance(rules, list) or not rules or len(rules) > 100:
            raise ValidationError.field("accessRules", "must be a non-empty array of access rules")
        for i, rule in enumerate(rules):
            sub = Checker(rule if isinstance(rule, dict) else {})
            rule_id = sub.string("id", required=True, choices=tuple(apps))
            roles = sub.string_list("roles", required=True, choices=ROLES)
            raw = rule.get("resources") if isinstance(rule, dict) else None
            if raw is None:
                sub.fail("resources", "is required")
            resources = _resources(sub, "resources", raw)
            for detail in sub.details:
                check.fail(f"accessRules[{i}].{detail['parameter']}", detail["message"], detail.get("value"))
            if rule_id and roles and resources:
                requested.append((rule_id, roles, resources))
    else:
        known = set(apps) | set(apps.values())
        applications = check.string_list("applications", choices=tuple(sorted(known)))
        roles = check.string_list("roles", choices=ROLES)
        resources = _resources(check, "resources", body.get("resources"))
        if applications is None and roles is None and resources is None:
            check.fail("body", "must give accessRules, or at least one of applications, roles, resources")
        wanted = set(applications or known)
        requested = [(rid, roles, resources) for rid, app in apps.items() if rid in wanted or app in wanted]
    check.done()
    return requested


async def narrow_down(request: web.Request) -> web.Response:
    """POST /users/current/narrow-down-auth-token[?validity-in-hours=h]: ``{token}``, never above the caller's."""
    server, who = sandbox(request), principal(request)
    who.require(PROFILE_API)  # reader is enough: a narrowed token never gains anything
    query = Checker(request.query, query=True)
    hours = query.number("validity-in-hours", default=DEFAULT_VALIDITY_HOURS, positive=True,
                         maximum=MAX_VALIDITY_HOURS)  # fmt: skip
    query.done()
    rules = narrow_rules(who.rules, _requested_rules(await read_json(request)))
    if not rules:
        raise ValidationError(
            "The narrowed token would grant nothing: the request does not overlap the rights of the token",
            [{"parameter": "body", "message": "does not overlap the caller's access rules"}],
        )
    validity = hours * 3600
    if who.expires_at is not None:
        validity = min(validity, who.expires_at - time.time())
    token = server.tokens.issue(who.user_id, rules, validity_seconds=max(validity, 1))
    return json_response({"token": token})


def setup(app: web.Application) -> None:
    """Register the token-management routes."""
    app.router.add_get("/access-rule-manifest", access_rule_manifest)
    app.router.add_post("/users/current/narrow-down-auth-token", narrow_down)
