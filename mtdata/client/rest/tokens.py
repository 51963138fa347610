"""Token management (protocol §2.5): the access-rule manifest, narrowed-down tokens, and a local claims check."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ...redaction import protect
from .. import checks
from ..models import AccessRuleResource, ManifestAccessRule, NarrowDownAccessRules, NarrowDownSimplifiedAccessRules
from .context import ClientContext

_FULL_RESOURCE = re.compile(r"^\*:\S*:\*$")


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (its second segment, base64url JSON), decoded locally without verifying it."""
    parts = checks.text("token", token).split(".")
    if len(parts) != 3:
        raise checks.fail("token", "must be an API token (a JWT with three dot-separated parts)", "<redacted>")
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment))
    except ValueError as exc:
        raise checks.fail("token", "has a payload that is not base64 JSON", "<redacted>") from exc
    if not isinstance(claims, dict):
        raise checks.fail("token", "has a payload that is not a JSON object", "<redacted>")
    return claims


class TokenManagementApi:
    """Narrows down API tokens (``MetaApi.token_management_api``); every method needs an API token."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context

    async def get_access_rules(self) -> list[ManifestAccessRule]:
        """The manifest of applications, services, method groups and roles a token can be narrowed to."""
        self._context.require_api_token("get_access_rules")
        return await self._context.http.request("GET", f"{self._context.hosts.profile}/access-rule-manifest")

    async def narrow_down_token(
        self,
        narrow_down_payload: NarrowDownAccessRules | NarrowDownSimplifiedAccessRules,
        validity_in_hours: float | None = None,
    ) -> str:
        """A new token with fewer rights: ``{accessRules: [...]}`` or ``{applications?, roles?, resources?}``."""
        self._context.require_api_token("narrow_down_token")
        payload = checks.mapping("narrow_down_payload", narrow_down_payload)
        if "accessRules" in payload:
            rules = payload["accessRules"]
            if not isinstance(rules, list) or not rules or not all(isinstance(rule, dict) for rule in rules):
                raise checks.fail("narrow_down_payload.accessRules", "must be a non-empty list of dicts", rules)
        else:
            checks.known_keys("narrow_down_payload", payload, ("applications", "roles", "resources"))
            if not payload:
                raise checks.fail("narrow_down_payload", "must give accessRules or applications/roles/resources", {})
            for key in ("applications", "roles"):
                if key in payload:
                    self._strings(f"narrow_down_payload.{key}", payload[key])
            if "resources" in payload:
                self._resources(payload["resources"])
        params = {}
        if checks.number("validity_in_hours", validity_in_hours, minimum=0, optional=True) is not None:
            params["validity-in-hours"] = validity_in_hours
        url = f"{self._context.hosts.profile}/users/current/narrow-down-auth-token"
        answer = await self._context.http.request("POST", url, json=payload, params=params)
        protect(answer["token"])
        return answer["token"]

    async def narrow_down_token_resources(
        self, resources: list[AccessRuleResource], validity_in_hours: float | None = None
    ) -> str:
        """A token limited to ``[{entity, id}]`` resources (e.g. one account)."""
        return await self.narrow_down_token({"resources": self._resources(resources)}, validity_in_hours)

    async def narrow_down_token_roles(self, roles: list[str], validity_in_hours: float | None = None) -> str:
        """A token limited to ``roles`` (``reader``, ``writer``)."""
        return await self.narrow_down_token({"roles": self._strings("roles", roles)}, validity_in_hours)

    async def narrow_down_token_applications(
        self, applications: list[str], validity_in_hours: float | None = None
    ) -> str:
        """A token limited to ``applications`` (e.g. ``metaapi-api``)."""
        return await self.narrow_down_token(
            {"applications": self._strings("applications", applications)}, validity_in_hours
        )

    def are_token_resources_narrowed_down(self, token: str) -> bool:
        """True if any access rule of ``token`` names resources narrower than ``*:<user>:*`` (no request)."""
        claims = token_claims(token)
        for rule in claims.get("accessRules") or ():
            for resource in rule.get("resources") or ():
                if isinstance(resource, str) and not _FULL_RESOURCE.match(resource):
                    return True
        return False

    @staticmethod
    def _strings(name: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise checks.fail(name, "must be a non-empty list of strings", value)
        return value

    @staticmethod
    def _resources(value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list) or not value:
            raise checks.fail("resources", "must be a non-empty list of {entity, id}", value)
        for i, item in enumerate(value):
            item = checks.mapping(f"resources[{i}]", item)
            checks.text(f"resources[{i}].entity", item.get("entity"))
            checks.text(f"resources[{i}].id", item.get("id"))
        return value
