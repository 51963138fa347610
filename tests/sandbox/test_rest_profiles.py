"""Provisioning profiles, expert advisors and the demo-account generator over REST (protocol §2.2-§2.4)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from mtdata.sandbox import SandboxHandle

PROFILES = "/users/current/provisioning-profiles"
ACCOUNTS = "/users/current/accounts"
ZONES = {"brokerTimezone": "EET", "brokerDSTSwitchTimezone": "EET"}


def make_profile(rest: httpx.Client, name: str = "Broker", version: int = 5) -> str:
    response = rest.post(PROFILES, json={"name": name, "version": version, **ZONES})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def upload(rest: httpx.Client, path: str, content: bytes = b"\x00servers", field: str = "file") -> httpx.Response:
    """A multipart upload as the SDK sends it (field ``file``, filename ``upload``)."""
    return rest.put(path, files={field: ("upload", content, "application/octet-stream")})


# provisioning profiles -----------------------------------------------------------------------


def test_profile_lifecycle(rest: httpx.Client) -> None:
    profile_id = make_profile(rest)
    doc = rest.get(f"{PROFILES}/{profile_id}").json()
    assert doc == {"_id": profile_id, "name": "Broker", "version": 5, "status": "new", "type": "mkTerminal", **ZONES}
    assert upload(rest, f"{PROFILES}/{profile_id}/servers.dat").status_code == 204
    assert rest.get(f"{PROFILES}/{profile_id}").json()["status"] == "active"
    assert rest.put(f"{PROFILES}/{profile_id}", json={"name": "Renamed"}).status_code == 204
    assert rest.get(f"{PROFILES}/{profile_id}").json()["name"] == "Renamed"
    assert rest.delete(f"{PROFILES}/{profile_id}").status_code == 204
    assert rest.get(f"{PROFILES}/{profile_id}").status_code == 404


def test_profile_uploads_are_validated(rest: httpx.Client) -> None:
    mt5, mt4 = make_profile(rest), make_profile(rest, version=4)
    assert upload(rest, f"{PROFILES}/{mt5}/broker.srv").status_code == 400
    assert upload(rest, f"{PROFILES}/{mt4}/servers.dat").status_code == 400
    assert upload(rest, f"{PROFILES}/{mt4}/broker.srv").status_code == 204
    missing = upload(rest, f"{PROFILES}/{mt5}/servers.dat", field="other")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "file"
    assert upload(rest, f"{PROFILES}/{mt5}/servers.dat", content=b"").status_code == 400
    plain = rest.put(f"{PROFILES}/{mt5}/servers.dat", content=b"raw", headers={"content-type": "text/plain"})
    assert plain.status_code == 400
    assert upload(rest, f"{PROFILES}/nope/servers.dat").status_code == 404


def test_profile_creation_is_validated(rest: httpx.Client) -> None:
    response = rest.post(PROFILES, json={"version": 6, "brokerTimezone": "Mars/Olympus", "type": "x"})
    assert response.status_code == 400
    named = {d["parameter"] for d in response.json()["details"]}
    assert named == {"name", "version", "brokerTimezone", "brokerDSTSwitchTimezone", "type"}


def test_profile_list_filters_and_pagination(rest: httpx.Client) -> None:
    a = make_profile(rest, "Alpha", 5)
    b = make_profile(rest, "Beta", 4)
    upload(rest, f"{PROFILES}/{b}/broker.srv")

    def query(**params: Any) -> list[str]:
        response = rest.get(PROFILES, params=params, headers={"api-version": "1"})
        assert response.status_code == 200, response.text
        return [d["_id"] for d in response.json()]

    assert query() == [a, b]
    assert query(version=4) == [b]
    assert query(status="new") == [a]
    assert query(status="active") == [b]
    assert query(type="mkTerminal") == [a, b]
    assert query(type="managerApi") == []
    assert query(query="alp") == [a]
    assert query(offset=1, limit=1) == [b]
    assert [d["_id"] for d in rest.get(PROFILES, headers={"api-version": "2"}).json()] == [a, b]
    classic = rest.get(PROFILES, headers={"api-version": "2", "mtdata-pagination": "count-items"}).json()
    assert classic["count"] == 2
    assert rest.get(PROFILES, params={"limit": 0}).status_code == 400
    assert rest.get(PROFILES, params={"status": "old"}).status_code == 400


def test_account_with_a_profile_skips_broker_detection(rest: httpx.Client) -> None:
    profile_id = make_profile(rest, version=4)
    body = {"name": "G1", "server": "AnyBroker-Live", "login": "77", "password": "pw", "magic": 0,
            "provisioningProfileId": profile_id, "type": "cloud-g1"}  # fmt: skip
    created = rest.post(ACCOUNTS, json=body, headers={"transaction-id": "t" * 32})
    assert created.status_code == 201
    doc = rest.get(f"{ACCOUNTS}/{created.json()['id']}").json()
    assert (doc["platform"], doc["version"], doc["provisioningProfileId"]) == ("mt4", 4, profile_id)
    unknown = rest.post(ACCOUNTS, json={**body, "provisioningProfileId": "nope"})
    assert unknown.status_code == 400 and unknown.json()["details"][0]["parameter"] == "provisioningProfileId"


# expert advisors -----------------------------------------------------------------------------


@pytest.fixture
def g1_account(rest: httpx.Client) -> str:
    body = {"name": "EA host", "server": "AnyBroker-Live", "login": "88", "password": "pw", "magic": 0,
            "provisioningProfileId": make_profile(rest, version=4), "type": "cloud-g1"}  # fmt: skip
    return rest.post(ACCOUNTS, json=body).json()["id"]


def test_expert_advisor_lifecycle(rest: httpx.Client, g1_account: str) -> None:
    experts = f"{ACCOUNTS}/{g1_account}/expert-advisors"
    preset = base64.b64encode(b"Lots=0.1\n").decode()
    assert (
        rest.put(f"{experts}/scalper", json={"period": "1h", "symbol": "EURUSD", "preset": preset}).status_code == 204
    )
    expected = {"expertId": "scalper", "period": "1h", "symbol": "EURUSD", "fileUploaded": False}
    assert rest.get(f"{experts}/scalper").json() == expected
    assert upload(rest, f"{experts}/scalper/file", b"MZ binary").status_code == 204
    assert rest.get(f"{experts}/scalper").json()["fileUploaded"] is True
    assert rest.put(f"{experts}/scalper", json={"period": "4h", "symbol": "EURUSD"}).status_code == 204
    assert rest.get(experts).json() == [{**expected, "period": "4h", "fileUploaded": True}]
    assert rest.delete(f"{experts}/scalper").status_code == 204
    assert rest.get(f"{experts}/scalper").status_code == 404
    assert upload(rest, f"{experts}/scalper/file").status_code == 404


def test_expert_advisor_fields_are_validated(rest: httpx.Client, g1_account: str) -> None:
    response = rest.put(f"{ACCOUNTS}/{g1_account}/expert-advisors/x",
                        json={"period": "2m", "symbol": "NOPE", "preset": "***"})  # fmt: skip
    assert response.status_code == 400
    assert {d["parameter"] for d in response.json()["details"]} == {"period", "symbol", "preset"}


def test_expert_advisors_need_an_mt4_g1_account(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    response = rest.get(f"{ACCOUNTS}/{sandbox.account_id}/expert-advisors")
    assert response.status_code == 400 and response.json()["error"] == "ValidationError"


# demo-account generator ----------------------------------------------------------------------


DEMO = {"balance": 25000, "email": "me@example.com", "leverage": 50, "serverName": "Sandbox-Demo2"}


def test_demo_account_generator(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    url = f"{PROFILES}/default/mt5-demo-accounts"
    headers = {"transaction-id": "d" * 32}
    first = rest.post(url, json=DEMO, headers=headers)
    assert first.status_code == 202 and float(first.headers["Retry-After"]) > 0
    credentials = rest.post(url, json=DEMO, headers=headers)
    assert credentials.status_code == 200
    creds = credentials.json()
    assert set(creds) == {"login", "password", "serverName", "investorPassword"}
    assert creds["serverName"] == "Sandbox-Demo2"
    assert rest.post(url, json=DEMO, headers=headers).json() == creds

    body = {"name": "Demo", "server": creds["serverName"], "login": creds["login"], "password": creds["password"],
            "platform": "mt5", "magic": 0}  # fmt: skip
    wrong = rest.post(ACCOUNTS, json={**body, "password": "wrong"}, headers={"transaction-id": "w" * 32})
    assert wrong.status_code == 400 and wrong.json()["details"] == ["E_AUTH"]
    create_headers = {"transaction-id": "c" * 32}
    assert rest.post(ACCOUNTS, json=body, headers=create_headers).status_code == 202
    account_id = rest.post(ACCOUNTS, json=body, headers=create_headers).json()["id"]
    trading = sandbox.server.accounts.get(account_id)["_trading"]
    assert (trading["balance"], trading["leverage"]) == (25000, 50)


def test_demo_generator_validates(rest: httpx.Client) -> None:
    response = rest.post(f"{PROFILES}/default/mt4-demo-accounts", json={"balance": -1, "email": "nope"})
    assert response.status_code == 400
    assert {d["parameter"] for d in response.json()["details"]} == {"balance", "email", "leverage", "serverName"}
    mt5_profile = make_profile(rest, version=5)
    wrong_version = rest.post(f"{PROFILES}/{mt5_profile}/mt4-demo-accounts", json=DEMO)
    assert wrong_version.status_code == 400
    assert rest.post(f"{PROFILES}/nope/mt4-demo-accounts", json=DEMO).status_code == 404
    immediate = rest.post(f"{PROFILES}/{make_profile(rest, version=4)}/mt4-demo-accounts", json=DEMO)
    assert immediate.status_code == 200 and immediate.json()["login"].isdigit()
