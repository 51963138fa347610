"""Provisioning profiles, expert advisors, the demo generator and token management against the sandbox."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mtdata.client import MetaApi
from mtdata.errors import ForbiddenException, MethodAccessException, NotFoundException, ValidationException
from mtdata.sandbox import SandboxHandle

ZONES = {"brokerTimezone": "EET", "brokerDSTSwitchTimezone": "EET"}
DEMO = {"balance": 25000, "email": "me@example.com", "leverage": 50, "serverName": "Sandbox-Demo2"}


async def test_provisioning_profile_lifecycle(api: MetaApi, tmp_path: Path) -> None:
    profiles = api.provisioning_profile_api
    profile = await profiles.create_provisioning_profile({"name": "Broker", "version": 5, **ZONES})
    assert (profile.name, profile.version, profile.status) == ("Broker", 5, "new")
    servers = tmp_path / "servers.dat"
    servers.write_bytes(b"\x00servers")
    await profile.upload_file("servers.dat", str(servers))
    await profile.reload()
    assert profile.status == "active"
    await profile.update({"name": "Renamed"})
    await profile.reload()
    assert profile.name == "Renamed"
    second = await profiles.create_provisioning_profile({"name": "MT4 broker", "version": 4, **ZONES})
    await second.upload_file("broker.srv", b"\x00srv")
    listed = await profiles.get_provisioning_profiles_with_infinite_scroll_pagination({"version": 4})
    assert [p.id for p in listed] == [second.id]
    page = await profiles.get_provisioning_profiles_with_classic_pagination({"limit": 1})
    assert page["count"] == 2 and len(page["items"]) == 1
    assert (await profiles.get_provisioning_profile(profile.id)).name == "Renamed"
    await profile.remove()
    with pytest.raises(NotFoundException):
        await profiles.get_provisioning_profile(profile.id)
    with pytest.raises(ValidationException, match="file_name"):
        await second.upload_file("servers.txt", b"x")
    with pytest.raises(ValidationException, match="file"):
        await second.upload_file("broker.srv", 42)
    with pytest.raises(ValidationException, match=r"profile\.version"):
        await profiles.create_provisioning_profile({"name": "x", "version": 6, **ZONES})
    with pytest.raises(ValidationException, match=r"filter\.status"):
        await profiles.get_provisioning_profiles_with_infinite_scroll_pagination({"status": "old"})


async def test_expert_advisors(api: MetaApi, sandbox: SandboxHandle, tmp_path: Path) -> None:
    profile = await api.provisioning_profile_api.create_provisioning_profile({"name": "B", "version": 4, **ZONES})
    account = await api.metatrader_account_api.create_account(
        {
            "name": "EA host",
            "server": "AnyBroker-Live",
            "login": "88",
            "password": "pw",
            "magic": 0,
            "provisioningProfileId": profile.id,
            "type": "cloud-g1",
        }
    )
    preset = base64.b64encode(b"Lots=0.1\n").decode()
    expert = await account.create_expert_advisor("scalper", {"period": "1h", "symbol": "EURUSD", "preset": preset})
    assert (expert.expert_id, expert.period, expert.symbol, expert.file_uploaded) == ("scalper", "1h", "EURUSD", False)
    ex4 = tmp_path / "scalper.ex4"
    ex4.write_bytes(b"MZ binary")
    await expert.upload_file(ex4)
    assert expert.file_uploaded is True
    await expert.update({"period": "4h", "symbol": "EURUSD"})
    assert expert.period == "4h"
    assert [e.expert_id for e in await account.get_expert_advisors()] == ["scalper"]
    assert (await account.get_expert_advisor("scalper")).period == "4h"
    await expert.upload_file(b"MZ again")
    await expert.remove()
    with pytest.raises(NotFoundException):
        await expert.reload()
    with pytest.raises(ValidationException, match=r"expert\.period"):
        await account.create_expert_advisor("x", {"period": "7m", "symbol": "EURUSD"})
    mt5 = await api.metatrader_account_api.get_account(sandbox.account_id)
    with pytest.raises(ValidationException, match="MT4 cloud-g1"):
        await mt5.get_expert_advisors()


async def test_demo_account_generator_then_an_account_with_its_credentials(api: MetaApi) -> None:
    credentials = await api.metatrader_account_generator_api.create_mt5_demo_account(DEMO)  # 202 first, then 200
    assert set(credentials) == {"login", "password", "serverName", "investorPassword"}
    account = await api.metatrader_account_api.create_account(
        {
            "name": "Demo",
            "server": credentials["serverName"],
            "login": credentials["login"],
            "password": credentials["password"],
            "platform": "mt5",
            "magic": 0,
        }
    )
    assert account.login == credentials["login"]
    profile = await api.provisioning_profile_api.create_provisioning_profile({"name": "B", "version": 4, **ZONES})
    mt4 = await api.metatrader_account_generator_api.create_mt4_demo_account(DEMO, profile.id)
    assert mt4["serverName"] == "Sandbox-Demo2"
    with pytest.raises(ValidationException, match=r"account\.email"):
        await api.metatrader_account_generator_api.create_mt4_demo_account({**DEMO, "email": ""})


async def test_token_management(api: MetaApi, make_api: Callable[..., MetaApi], sandbox: SandboxHandle) -> None:
    tokens = api.token_management_api
    manifest = await tokens.get_access_rules()
    assert {"id", "application", "roles"} <= set(manifest[0])
    assert tokens.are_token_resources_narrowed_down(sandbox.token) is False

    resources = [{"entity": "account", "id": sandbox.account_id}]
    one_account = await tokens.narrow_down_token_resources(resources, 2)
    assert tokens.are_token_resources_narrowed_down(one_account) is True
    other = await api.metatrader_account_api.create_account(
        {"name": "Other", "server": "Sandbox-Demo", "platform": "mt5", "magic": 0}
    )
    narrowed = make_api(one_account).metatrader_account_api
    assert (await narrowed.get_account(sandbox.account_id)).id == sandbox.account_id
    with pytest.raises((ForbiddenException, NotFoundException)):
        await narrowed.get_account(other.id)

    apps = await tokens.narrow_down_token_applications(["trading-account-management-api"])
    assert tokens.are_token_resources_narrowed_down(apps) is False
    detailed = await tokens.narrow_down_token(
        {"accessRules": [{"id": "trading-account-management-api", "application": "trading-account-management-api",
                          "service": "rest", "methodGroups": [], "roles": ["reader"], "resources": resources}]}
    )  # fmt: skip
    assert tokens.are_token_resources_narrowed_down(detailed) is True
    simplified = await tokens.narrow_down_token({"roles": ["reader"], "resources": resources}, 1)
    reader = make_api(await tokens.narrow_down_token_roles(["reader"]))
    with pytest.raises(ForbiddenException):
        await reader.metatrader_account_api.create_account({"name": "x", "server": "Sandbox-Demo", "platform": "mt5"})
    assert simplified.count(".") == 2
    with pytest.raises(ValidationException, match="roles"):
        await tokens.narrow_down_token_roles([])
    with pytest.raises(ValidationException, match=r"narrow_down_payload\.scopes"):
        await tokens.narrow_down_token({"scopes": ["x"]})
    with pytest.raises(ValidationException, match="token"):
        tokens.are_token_resources_narrowed_down("not-a-jwt")


async def test_account_tokens_may_not_call_api_token_methods_and_nothing_is_sent() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    async with MetaApi("account-token", transport=httpx.MockTransport(record)) as api:
        calls = [
            api.metatrader_account_api.get_accounts_with_infinite_scroll_pagination(),
            api.metatrader_account_api.create_account({"name": "x", "server": "y"}),
            api.provisioning_profile_api.get_provisioning_profile("p"),
            api.metatrader_account_generator_api.create_mt5_demo_account(DEMO),
            api.token_management_api.get_access_rules(),
            api.token_management_api.narrow_down_token_roles(["reader"]),
        ]
        for call in calls:
            with pytest.raises(MethodAccessException, match="account access token"):
                await call
    assert sent == []
