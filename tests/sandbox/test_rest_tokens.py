"""Token management over REST (protocol §2.5): manifest, narrowed tokens enforced everywhere, expiry."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import orjson
import pytest

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.auth import full_access_rules

ACCOUNTS = "/users/current/accounts"
NARROW = "/users/current/narrow-down-auth-token"
BODY = {"name": "Other", "server": "Sandbox-Demo", "login": "99", "password": "pw", "platform": "mt5", "magic": 0}


def payload(token: str) -> dict[str, Any]:
    """The JWT payload, decoded as the SDK's ``are_token_resources_narrowed_down`` does."""
    body = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def narrow(client: httpx.Client, body: dict[str, Any], **params: Any) -> str:
    response = client.post(NARROW, json=body, params=params)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def as_token(sandbox: SandboxHandle, token: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers={"auth-token": token}, timeout=30)


@pytest.fixture
def other_account(rest: httpx.Client) -> str:
    headers = {"transaction-id": "a" * 32}
    assert rest.post(ACCOUNTS, json=BODY, headers=headers).status_code == 202
    return rest.post(ACCOUNTS, json=BODY, headers=headers).json()["id"]


def test_manifest_lists_every_api(rest: httpx.Client) -> None:
    manifest = rest.get("/access-rule-manifest").json()
    ids = {entry["id"] for entry in manifest}
    assert {"trading-account-management-api", "metaapi-rest-api", "metaapi-rpc-api"} <= ids
    for entry in manifest:
        assert {"id", "application", "description", "entities", "services", "methodGroups", "roles"} <= set(entry)


def test_token_narrowed_to_one_account(sandbox: SandboxHandle, rest: httpx.Client, other_account: str) -> None:
    token = narrow(rest, {"resources": [{"entity": "account", "id": sandbox.account_id}]})
    rules = payload(token)["accessRules"]
    assert all(rule["resources"] == [f"account:$USER_ID$:{sandbox.account_id}"] for rule in rules)
    with as_token(sandbox, token) as client:
        assert client.get(f"{ACCOUNTS}/{sandbox.account_id}").status_code == 200
        denied = client.get(f"{ACCOUNTS}/{other_account}")
        assert denied.status_code == 403 and denied.json()["error"] == "ForbiddenError"
        assert client.post(f"{ACCOUNTS}/{other_account}/undeploy").status_code == 403
        assert [d["_id"] for d in client.get(ACCOUNTS).json()] == [sandbox.account_id]
        history = f"{ACCOUNTS}/{{}}/historical-market-data/symbols/EURUSD/timeframes/1m/candles?limit=1"
        assert client.get(history.format(sandbox.account_id)).status_code == 200
        assert client.get(history.format(other_account)).status_code == 403
        # narrowing again can never widen: asking for the other account leaves nothing
        assert client.post(NARROW, json={"resources": [{"entity": "account", "id": other_account}]}).status_code == 400
        again = narrow(client, {"resources": [{"entity": "*", "id": "*"}]})
    assert {r for rule in payload(again)["accessRules"] for r in rule["resources"]} == {
        f"account:$USER_ID$:{sandbox.account_id}"
    }


def test_reader_token_cannot_change_anything(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    token = narrow(rest, {"roles": ["reader"]})
    with as_token(sandbox, token) as client:
        assert client.get(f"{ACCOUNTS}/{sandbox.account_id}").status_code == 200
        assert client.get("/users/current/provisioning-profiles").status_code == 200
        for response in (
            client.post(f"{ACCOUNTS}/{sandbox.account_id}/undeploy"),
            client.put(f"{ACCOUNTS}/{sandbox.account_id}", json={"name": "x"}),
            client.delete(f"{ACCOUNTS}/{sandbox.account_id}"),
            client.post(ACCOUNTS, json=BODY),
            client.post("/users/current/provisioning-profiles", json={"name": "p"}),
        ):
            assert response.status_code == 403, response.text
        assert client.post(NARROW, json={"roles": ["writer"]}).status_code == 400
    assert rest.get(f"{ACCOUNTS}/{sandbox.account_id}").json()["state"] == "DEPLOYED"


def test_token_narrowed_to_applications(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    token = narrow(rest, {"applications": ["metaapi-api"]})
    assert {rule["id"] for rule in payload(token)["accessRules"]} == {
        "metaapi-rest-api", "metaapi-rpc-api", "metaapi-real-time-streaming-api"}  # fmt: skip
    with as_token(sandbox, token) as client:
        assert client.get(ACCOUNTS).status_code == 403
        candles = f"{ACCOUNTS}/{sandbox.account_id}/historical-market-data/symbols/EURUSD/timeframes/1m/candles"
        assert client.get(candles, params={"limit": 2}).status_code == 200
    provisioning = narrow(rest, {"applications": ["trading-account-management-api"]})
    with as_token(sandbox, provisioning) as client:
        assert client.get(ACCOUNTS).status_code == 200
        assert client.get(candles).status_code == 403


def test_detailed_access_rules(sandbox: SandboxHandle, rest: httpx.Client, other_account: str) -> None:
    rule = {"id": "trading-account-management-api", "application": "trading-account-management-api",
            "service": "rest", "methodGroups": [{"group": "account-management", "methods": [{"method": "*"}]}],
            "resources": [{"entity": "account", "id": other_account}], "roles": ["reader"]}  # fmt: skip
    token = narrow(rest, {"accessRules": [rule]})
    with as_token(sandbox, token) as client:
        assert client.get(f"{ACCOUNTS}/{other_account}").status_code == 200
        assert client.get(f"{ACCOUNTS}/{sandbox.account_id}").status_code == 403
        assert client.post(f"{ACCOUNTS}/{other_account}/deploy").status_code == 403
    bad = rest.post(NARROW, json={"accessRules": [{"id": "nope", "roles": ["boss"], "resources": [{"entity": 1}]}]})
    assert bad.status_code == 400
    assert {d["parameter"] for d in bad.json()["details"]} >= {"accessRules[0].id", "accessRules[0].roles"}


@pytest.mark.parametrize(
    "body", [{}, {"roles": ["owner"]}, {"applications": ["nope"]}, {"resources": [{"entity": "account"}]},
             {"resources": "all"}, {"accessRules": []}, {"accessRules": "x"}],
)  # fmt: skip
def test_bad_narrowing_bodies_are_400(rest: httpx.Client, body: dict[str, Any]) -> None:
    response = rest.post(NARROW, json=body)
    assert response.status_code == 400 and response.json()["error"] == "ValidationError"


@pytest.mark.parametrize("hours", ["0", "-1", "abc", "1e9", "nan"])
def test_bad_validity_is_400(rest: httpx.Client, hours: str) -> None:
    response = rest.post(NARROW, json={"roles": ["reader"]}, params={"validity-in-hours": hours})
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == "validity-in-hours"


def test_validity_and_expiry(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    default = payload(narrow(rest, {"roles": ["reader"]}))
    assert default["exp"] - default["iat"] == 24 * 3600
    two_hours = payload(narrow(rest, {"roles": ["reader"]}, **{"validity-in-hours": 2}))
    assert two_hours["exp"] - two_hours["iat"] == 7200

    server = sandbox.server
    short = server.tokens.issue(server.user_id, full_access_rules(), validity_seconds=100)
    with as_token(sandbox, short) as client:
        capped = payload(narrow(client, {"roles": ["reader"]}, **{"validity-in-hours": 48}))
    assert capped["exp"] <= payload(short)["exp"]

    expiring = server.tokens.issue(server.user_id, full_access_rules(), validity_seconds=1)
    with as_token(sandbox, expiring) as client:
        deadline = time.monotonic() + 20
        while (response := client.get(ACCOUNTS)).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert response.status_code == 401
    assert response.json()["error"] == "UnauthorizedError" and "expired" in response.json()["message"]


@pytest.mark.parametrize("token", [None, "", "aaa.bbb.ccc", "garbage"])
def test_missing_or_forged_tokens_are_401(sandbox: SandboxHandle, token: str | None) -> None:
    headers = {} if token is None else {"auth-token": token}
    response = httpx.get(f"{sandbox.url}{ACCOUNTS}", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "UnauthorizedError"
