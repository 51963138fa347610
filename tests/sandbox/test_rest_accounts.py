"""Trading accounts and replicas over REST (protocol §2.1): creation with broker detection, filters, state machine."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.accounts import resolve

ACCOUNTS = "/users/current/accounts"
BODY = {"name": "Trader", "server": "Sandbox-Demo", "login": "123456", "password": "secret", "platform": "mt5",
        "magic": 7}  # fmt: skip


def tx() -> str:
    """A fresh transaction id like the SDK's (32 lowercase letters)."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(32))


def create(rest: httpx.Client, **overrides: Any) -> str:
    """Create an account the way the SDK does (repeating on 202) and return its id."""
    headers = {"transaction-id": tx()}
    for _ in range(5):
        response = rest.post(ACCOUNTS, json={**BODY, **overrides}, headers=headers)
        if response.status_code != 202:
            break
    assert response.status_code == 201, response.text
    return response.json()["id"]


def wait_until(read: Callable[[], dict[str, Any]], condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll ``read`` until ``condition`` holds (generous timeout; no timing assertions)."""
    deadline = time.monotonic() + 20
    while True:
        value = read()
        if condition(value):
            return value
        assert time.monotonic() < deadline, f"condition never held; last value {value}"
        time.sleep(0.05)


@pytest.fixture
def quick(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox whose deployments take 0.2 s."""
    return mtdata_sandbox_factory(deploy_delay=0.2)


@pytest.fixture
def api(quick: SandboxHandle) -> httpx.Client:
    with httpx.Client(base_url=quick.url, headers={"auth-token": quick.token}, timeout=30) as client:
        yield client


def account(api: httpx.Client, account_id: str) -> dict[str, Any]:
    response = api.get(f"{ACCOUNTS}/{account_id}")
    assert response.status_code == 200, response.text
    return response.json()


# creation ------------------------------------------------------------------------------------


def test_broker_detection_answers_202_then_the_same_201(rest: httpx.Client) -> None:
    headers = {"transaction-id": tx()}
    first = rest.post(ACCOUNTS, json=BODY, headers=headers)
    assert first.status_code == 202
    assert float(first.headers["Retry-After"]) > 0
    assert "detection" in first.json()["message"]
    second = rest.post(ACCOUNTS, json=BODY, headers=headers)
    assert second.status_code == 201
    assert set(second.json()) == {"id", "state"}
    third = rest.post(ACCOUNTS, json=BODY, headers=headers)
    assert third.json() == second.json()
    doc = rest.get(f"{ACCOUNTS}/{second.json()['id']}").json()
    assert doc["name"] == "Trader" and doc["login"] == "123456" and doc["magic"] == 7
    assert doc["type"] == "cloud-g2" and doc["reliability"] == "high" and doc["accountReplicas"] == []
    assert not any(key.startswith("_") and key != "_id" for key in doc)


def test_pending_transaction_survives_a_restart(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    headers = {"transaction-id": tx()}
    assert rest.post(ACCOUNTS, json=BODY, headers=headers).status_code == 202
    sandbox.restart()
    done = rest.post(ACCOUNTS, json=BODY, headers=headers)
    assert done.status_code == 201
    sandbox.restart()
    assert rest.post(ACCOUNTS, json=BODY, headers=headers).json() == done.json()


def test_unknown_server_is_E_SRV_NOT_FOUND(rest: httpx.Client) -> None:
    response = rest.post(ACCOUNTS, json={**BODY, "server": "Nowhere-Demo"}, headers={"transaction-id": tx()})
    assert response.status_code == 400
    assert response.json()["error"] == "ValidationError"
    assert response.json()["details"] == ["E_SRV_NOT_FOUND"]


def test_invalid_fields_are_reported_together(rest: httpx.Client) -> None:
    body = {"name": 5, "magic": -1, "login": "abc", "region": "mars", "metadata": {"x": "y" * 2000},
            "tags": "one", "reliability": "max"}  # fmt: skip
    response = rest.post(ACCOUNTS, json=body, headers={"transaction-id": tx()})
    assert response.status_code == 400
    named = {d["parameter"] for d in response.json()["details"]}
    assert named >= {"name", "server", "magic", "login", "region", "metadata", "tags", "reliability"}


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"", b'"text"'])
def test_bodies_that_are_not_objects_are_400(rest: httpx.Client, content: bytes) -> None:
    response = rest.post(ACCOUNTS, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == "body"


def test_account_without_password_is_a_draft_that_cannot_deploy(rest: httpx.Client) -> None:
    account_id = create(rest, password=None, login=None)
    assert rest.get(f"{ACCOUNTS}/{account_id}").json()["state"] == "DRAFT"
    assert rest.post(f"{ACCOUNTS}/{account_id}/deploy").status_code == 400
    assert rest.put(f"{ACCOUNTS}/{account_id}", json={"login": "42", "password": "pw"}).status_code == 204
    assert rest.get(f"{ACCOUNTS}/{account_id}").json()["state"] == "UNDEPLOYED"


# state machine -------------------------------------------------------------------------------


def test_deploy_undeploy_redeploy_remove(api: httpx.Client) -> None:
    account_id = create(api)
    deployed = wait_until(lambda: account(api, account_id), lambda d: d["state"] == "DEPLOYED")
    assert deployed["connectionStatus"] == "CONNECTED"

    assert api.post(f"{ACCOUNTS}/{account_id}/undeploy").status_code == 204
    assert account(api, account_id)["state"] in ("UNDEPLOYING", "UNDEPLOYED")
    undeployed = wait_until(lambda: account(api, account_id), lambda d: d["state"] == "UNDEPLOYED")
    assert undeployed["connectionStatus"] == "DISCONNECTED"

    assert api.post(f"{ACCOUNTS}/{account_id}/deploy").status_code == 204
    wait_until(lambda: account(api, account_id), lambda d: d["connectionStatus"] == "CONNECTED")
    assert api.post(f"{ACCOUNTS}/{account_id}/redeploy").status_code == 204
    wait_until(
        lambda: account(api, account_id), lambda d: d["state"] == "DEPLOYED" and d["connectionStatus"] == "CONNECTED"
    )

    assert api.delete(f"{ACCOUNTS}/{account_id}").status_code == 204
    assert api.post(f"{ACCOUNTS}/{account_id}/deploy").status_code in (400, 404)
    assert api.delete(f"{ACCOUNTS}/{account_id}").status_code in (204, 404)
    wait_until(lambda: api.get(f"{ACCOUNTS}/{account_id}").json(), lambda d: d.get("error") == "NotFoundError")
    assert api.post(f"{ACCOUNTS}/{account_id}/deploy").status_code == 404


def test_pending_transition_survives_a_restart(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> None:
    sandbox = mtdata_sandbox_factory(deploy_delay=3600)
    with httpx.Client(base_url=sandbox.url, headers={"auth-token": sandbox.token}) as api:
        account_id = create(api)
        sandbox.restart()
        assert account(api, account_id)["state"] == "DEPLOYING"
    stored = sandbox.server.store.get("accounts", account_id)
    due = stored["_transition"]["at"]
    assert resolve(stored, at_ms=due - 1)[0]["state"] == "DEPLOYING"
    after = resolve(stored, at_ms=due)[0]
    assert (after["state"], after["connectionStatus"]) == ("DEPLOYED", "CONNECTED")


def test_update_and_flags(rest: httpx.Client) -> None:
    account_id = create(rest)
    update = {"name": "Renamed", "metadata": {"desk": "fx"}, "tags": ["a"], "magic": 9, "manualTrades": True}
    assert rest.put(f"{ACCOUNTS}/{account_id}", json=update).status_code == 204
    for action in ("increase-reliability", "enable-risk-management-api", "enable-metastats-api"):
        assert rest.post(f"{ACCOUNTS}/{account_id}/{action}").status_code == 204
    doc = rest.get(f"{ACCOUNTS}/{account_id}").json()
    assert {k: doc[k] for k in update} == update
    assert doc["reliability"] == "high" and doc["riskManagementApiEnabled"] and doc["metastatsApiEnabled"]
    bad = rest.put(f"{ACCOUNTS}/{account_id}", json={"metadata": {"x": "y" * 1100}, "slippage": "lots"})
    assert {d["parameter"] for d in bad.json()["details"]} == {"metadata", "slippage"}
    link = rest.put(f"{ACCOUNTS}/{account_id}/configuration-link", params={"ttlInDays": 3})
    assert link.status_code == 200 and link.json()["configurationLink"].startswith("http")
    assert rest.put(f"{ACCOUNTS}/{account_id}/configuration-link", params={"ttlInDays": 0}).status_code == 400


def test_unknown_account_is_404(rest: httpx.Client) -> None:
    response = rest.get(f"{ACCOUNTS}/nope")
    assert response.status_code == 404 and response.json()["error"] == "NotFoundError"


# list and filters ----------------------------------------------------------------------------


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [doc["_id"] for doc in response.json()]


def test_list_filters(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    profile = rest.post("/users/current/provisioning-profiles",
                        json={"name": "mt4 broker", "version": 4, "brokerTimezone": "EET",
                              "brokerDSTSwitchTimezone": "EET"}).json()["id"]  # fmt: skip
    mt4 = create(rest, name="Alpha four", login="444", provisioningProfileId=profile, platform="mt4",
                 type="cloud-g1", region="london", copyFactoryRoles=["PROVIDER"])  # fmt: skip
    draft = create(rest, name="Beta draft", login=None, password=None, region="new-york")
    demo = sandbox.account_id
    listing = {"api-version": "1"}

    def query(**params: Any) -> list[str]:
        return ids(rest.get(ACCOUNTS, params=params, headers=listing))

    assert query() == [demo, mt4, draft]
    assert query(version=4) == [mt4]
    assert query(version=[4, 5]) == [demo, mt4, draft]
    assert query(type="cloud-g1") == [mt4]
    assert query(type="cloud") == [demo, mt4, draft]
    assert query(type="self-hosted") == []
    assert query(state="DRAFT") == [draft]
    assert set(query(state=["DRAFT", "DEPLOYED"])) >= {draft, demo}
    assert query(connectionStatus="CONNECTED") == [demo]
    assert query(query="alpha") == [mt4]
    assert query(query="444") == [mt4]
    assert query(provisioningProfileId=profile) == [mt4]
    assert query(region="london") == [mt4]
    assert query(region=["london", "new-york"]) == [mt4, draft]
    assert query(copyFactoryRoles="PROVIDER") == [mt4]
    assert query(offset=1, limit=1) == [mt4]
    assert query(offset=5) == []
    ascending = query(sortOrder="asc")
    assert query(sortOrder="desc") == ascending[::-1]


def test_pagination_styles(rest: httpx.Client) -> None:
    v1 = rest.get(ACCOUNTS, headers={"api-version": "1"}).json()
    v2 = rest.get(ACCOUNTS, headers={"api-version": "2"}).json()
    assert isinstance(v2, list) and v2 == v1
    classic = rest.get(ACCOUNTS, params={"limit": 1}, headers={"api-version": "2", "mtdata-pagination": "count-items"})
    assert classic.json()["count"] == len(v1) and classic.json()["items"] == v1[:1]
    assert rest.get(ACCOUNTS, headers={"api-version": "3"}).status_code == 400


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "x"}, "limit"), ({"offset": -1}, "offset"),
     ({"state": "SLEEPING"}, "state"), ({"version": 6}, "version"), ({"sortOrder": "up"}, "sortOrder"),
     ({"region": "mars"}, "region"), ({"copyFactoryRoles": "BOSS"}, "copyFactoryRoles")],
)  # fmt: skip
def test_bad_list_filters_are_400(rest: httpx.Client, params: dict[str, Any], parameter: str) -> None:
    response = rest.get(ACCOUNTS, params=params)
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == parameter


# replicas ------------------------------------------------------------------------------------


def test_replicas(quick: SandboxHandle, api: httpx.Client) -> None:
    account_id = create(api)
    wait_until(lambda: account(api, account_id), lambda d: d["state"] == "DEPLOYED")
    replicas = f"{ACCOUNTS}/{account_id}/replicas"
    headers = {"transaction-id": tx()}
    created = api.post(replicas, json={"region": "new-york", "magic": 3}, headers=headers)
    assert created.status_code == 201
    assert api.post(replicas, json={"region": "new-york", "magic": 3}, headers=headers).json() == created.json()
    replica_id = created.json()["id"]
    assert api.post(replicas, json={"region": "new-york"}).status_code == 400
    assert api.post(replicas, json={"region": "vint-hill"}).status_code == 400
    assert api.post(replicas, json={"magic": 1}).json()["details"][0]["parameter"] == "region"

    primary = wait_until(lambda: account(api, account_id), lambda d: d["accountReplicas"][0]["state"] == "DEPLOYED")
    entry = primary["accountReplicas"][0]
    assert entry["_id"] == replica_id and entry["region"] == "new-york" and entry["primaryAccountId"] == account_id
    listed = api.get(replicas).json()
    assert [r["_id"] for r in listed] == [replica_id] and listed[0]["primaryAccount"]["_id"] == account_id
    assert api.get(f"{replicas}/{replica_id}").json()["magic"] == 3
    assert api.get(f"{replicas}/other").status_code == 404

    found_primary, found_replica = quick.server.accounts.primary_of(replica_id)
    assert found_primary["_id"] == account_id and found_replica["_id"] == replica_id

    assert api.put(f"{replicas}/{replica_id}", json={"magic": 11, "tags": ["r"]}).status_code == 204
    assert api.post(f"{ACCOUNTS}/{replica_id}/increase-reliability").status_code == 204
    doc = api.get(f"{replicas}/{replica_id}").json()
    assert (doc["magic"], doc["tags"], doc["reliability"]) == (11, ["r"], "high")

    assert api.post(f"{replicas}/{replica_id}/undeploy").status_code == 204
    wait_until(lambda: api.get(f"{replicas}/{replica_id}").json(), lambda d: d["state"] == "UNDEPLOYED")
    assert api.post(f"{replicas}/{replica_id}/deploy").status_code == 204
    assert api.post(f"{replicas}/{replica_id}/redeploy").status_code == 204
    wait_until(lambda: api.get(f"{replicas}/{replica_id}").json(), lambda d: d["connectionStatus"] == "CONNECTED")

    quick.restart()
    assert account(api, account_id)["accountReplicas"][0]["_id"] == replica_id
    assert api.delete(f"{replicas}/{replica_id}").status_code == 204
    wait_until(lambda: account(api, account_id), lambda d: d["accountReplicas"] == [])
