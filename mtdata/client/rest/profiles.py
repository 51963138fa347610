"""Provisioning profiles (protocol §2.2): ``ProvisioningProfileApi`` and the ``ProvisioningProfile`` model."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import checks
from ..models import NewProvisioningProfileDto, ProvisioningProfilesFilter
from .account_dtos import profiles_filter
from .context import ClientContext
from .http import CLASSIC_PAGINATION
from .wire_model import WireModel, upload_files, wire

PROFILES_PATH = "/users/current/provisioning-profiles"


class ProvisioningProfile(WireModel):
    """A provisioning profile (DTO of protocol §9.12): broker settings for accounts without broker detection."""

    def __init__(self, data: dict[str, Any], context: ClientContext) -> None:
        self._data = data
        self._context = context

    def __repr__(self) -> str:
        return f"ProvisioningProfile(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    id = wire("_id", "Profile id.")
    name = wire("name", "The profile's name.")
    version = wire("version", "MetaTrader version, 4 or 5.")
    status = wire("status", "``new`` until the server file is uploaded, then ``active``.")
    type = wire("type", "The profile type, e.g. ``mkTerminal`` or ``managerApi`` (None if not set).")
    broker_timezone = wire("brokerTimezone", "The broker server's time zone (an IANA name, e.g. EET).")
    broker_dst_switch_timezone = wire(
        "brokerDSTSwitchTimezone", "The time zone whose daylight-saving switches the broker follows (an IANA name)."
    )

    @property
    def _url(self) -> str:
        return f"{self._context.hosts.provisioning}{PROFILES_PATH}/{quote(self.id)}"

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        self._context.require_api_token(f"ProvisioningProfile {method}")
        return await self._context.http.request(method, url, **kwargs)

    async def reload(self) -> None:
        """Fetch the profile again."""
        self._data = await self._request("GET", self._url)

    async def upload_file(self, file_name: str, file: str | bytes | Any) -> None:
        """Upload ``servers.dat`` (MT5) or ``broker.srv`` (MT4) from a path or bytes."""
        checks.choice("file_name", file_name, ("servers.dat", "broker.srv"))
        await self._request("PUT", f"{self._url}/{file_name}", files=upload_files(file))

    async def update(self, profile: dict[str, Any]) -> None:
        """Rename the profile (``{name}``)."""
        dto = checks.mapping("profile", profile)
        checks.text("profile.name", dto.get("name"))
        await self._request("PUT", self._url, json=dto)

    async def remove(self) -> None:
        """Delete the profile."""
        await self._request("DELETE", self._url)


class ProvisioningProfileApi:
    """Lists, fetches and creates provisioning profiles (``MetaApi.provisioning_profile_api``)."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context

    @property
    def _base(self) -> str:
        return self._context.hosts.provisioning + PROFILES_PATH

    async def _list(self, method: str, filter: Any, headers: dict[str, str]) -> Any:
        self._context.require_api_token(method)
        return await self._context.http.request("GET", self._base, params=profiles_filter(filter), headers=headers)

    async def get_provisioning_profiles_with_infinite_scroll_pagination(
        self, filter: ProvisioningProfilesFilter | None = None
    ) -> list[ProvisioningProfile]:
        """Profiles matching ``{offset, limit, version, type, status, query}``."""
        items = await self._list(
            "get_provisioning_profiles_with_infinite_scroll_pagination", filter, {"api-version": "1"}
        )
        return [ProvisioningProfile(item, self._context) for item in items]

    async def get_provisioning_profiles_with_classic_pagination(
        self, filter: ProvisioningProfilesFilter | None = None
    ) -> dict[str, Any]:
        """``{"count": total matches, "items": [ProvisioningProfile, ...]}`` for one page."""
        answer = await self._list("get_provisioning_profiles_with_classic_pagination", filter, CLASSIC_PAGINATION)
        items = answer if isinstance(answer, list) else answer["items"]
        count = len(answer) if isinstance(answer, list) else answer["count"]
        return {"count": count, "items": [ProvisioningProfile(item, self._context) for item in items]}

    async def get_provisioning_profile(self, provisioning_profile_id: str) -> ProvisioningProfile:
        """One profile by id."""
        self._context.require_api_token("get_provisioning_profile")
        url = f"{self._base}/{quote(checks.text('provisioning_profile_id', provisioning_profile_id))}"
        return ProvisioningProfile(await self._context.http.request("GET", url), self._context)

    async def create_provisioning_profile(self, profile: NewProvisioningProfileDto) -> ProvisioningProfile:
        """Create a profile (``{name, version, brokerTimezone, brokerDSTSwitchTimezone}``); status ``new``."""
        self._context.require_api_token("create_provisioning_profile")
        dto = checks.mapping("profile", profile)
        checks.text("profile.name", dto.get("name"))
        checks.choice("profile.version", dto.get("version"), (4, 5))
        checks.text("profile.brokerTimezone", dto.get("brokerTimezone"))
        checks.text("profile.brokerDSTSwitchTimezone", dto.get("brokerDSTSwitchTimezone"))
        created = await self._context.http.request("POST", self._base, json=dto)
        return ProvisioningProfile({**dto, "_id": created["id"], "status": "new"}, self._context)
