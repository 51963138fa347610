"""The fault control API (/sandbox/faults), observed from outside with httpx and bare socket.io clients."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest

from mtdata.cli import RawStream, RequestFailed
from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.auth import PROVISIONING_API

FAULTS = "/sandbox/faults"
#: Any authenticated REST call works as a probe: faults apply before routing.
PROBE = "/users/current/accounts"


def test_control_api_needs_a_writer_token(sandbox: SandboxHandle) -> None:
    assert httpx.get(sandbox.url + FAULTS).status_code == 401
    rules = [{"id": PROVISIONING_API, "methods": ["*"], "roles": ["reader"], "resources": ["*:$USER_ID$:*"]}]
    reader = sandbox.server.tokens.issue(sandbox.server.user_id, rules)
    answer = httpx.post(sandbox.url + FAULTS + "/delay", json={"seconds": 1}, headers={"auth-token": reader})
    assert answer.status_code == 403
    assert answer.json()["error"] == "ForbiddenError"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/delay", {"seconds": -1}, "seconds"),
        ("/delay", {"seconds": "1"}, "seconds"),
        ("/delay", {"seconds": 1, "scope": "udp"}, "scope"),
        ("/delay", {"seconds": 1, "count": 0}, "count"),
        ("/delay", {"seconds": 1, "requestType": 5}, "requestType"),
        ("/delay", [1, 2], "body"),
        ("/rate-limit", {"retryAfterSeconds": 1}, "count"),
        ("/rate-limit", {"count": 1, "retryAfterSeconds": True}, "retryAfterSeconds"),
        ("/rate-limit", {"count": 1, "retryAfterSeconds": 1, "type": 5}, "type"),
        ("/broker", {"connected": False}, "accountId"),
        ("/broker", {"accountId": "x", "connected": "no"}, "connected"),
        ("/downgrade", {"accountId": "x", "symbol": "EURUSD", "updates": "quotes"}, "updates"),
        ("/downgrade", {"accountId": "x"}, "symbol"),
        ("/drop-sockets", {"accountId": 7}, "accountId"),
    ],
)
def test_bad_bodies_are_validation_errors(rest: httpx.Client, path: str, body: object, field: str) -> None:
    answer = rest.post(FAULTS + path, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "ValidationError"
    assert answer.json()["details"][0]["parameter"] == field


def test_malformed_json_is_a_validation_error(rest: httpx.Client) -> None:
    answer = rest.post(FAULTS + "/delay", content=b"{nope", headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["details"][0]["parameter"] == "body"


def test_delay_applies_to_the_next_rest_requests_only(rest: httpx.Client) -> None:
    assert rest.post(FAULTS + "/delay", json={"seconds": 0.3, "scope": "rest", "count": 1}).status_code == 201
    assert rest.get(FAULTS).json()["delays"] == [{"seconds": 0.3, "scope": "rest", "count": 1, "requestType": None}]
    started = time.perf_counter()
    rest.get(PROBE)
    assert time.perf_counter() - started >= 0.3
    assert rest.get(FAULTS).json()["delays"] == []


def test_socket_scoped_faults_leave_rest_alone(rest: httpx.Client) -> None:
    rest.post(FAULTS + "/rate-limit", json={"count": 5, "retryAfterSeconds": 1, "scope": "socket"})
    assert rest.get(PROBE).status_code != 429


def test_rate_limit_answers_429_with_a_retry_time(rest: httpx.Client) -> None:
    body = {"count": 2, "retryAfterSeconds": 30, "scope": "rest", "type": "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER"}
    assert rest.post(FAULTS + "/rate-limit", json=body).status_code == 201
    for _ in range(2):
        answer = rest.get(PROBE)
        assert answer.status_code == 429
        error = answer.json()
        assert error["error"] == "TooManyRequestsError"
        assert error["metadata"]["type"] == "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER"
        retry = datetime.fromisoformat(error["metadata"]["recommendedRetryTime"].replace("Z", "+00:00"))
        assert (retry - datetime.now(UTC)).total_seconds() > 20
    assert rest.get(PROBE).status_code != 429


def test_delete_clears_every_fault(rest: httpx.Client) -> None:
    rest.post(FAULTS + "/rate-limit", json={"count": 100, "retryAfterSeconds": 1})
    rest.post(FAULTS + "/delay", json={"seconds": 100, "scope": "socket"})
    assert rest.get(PROBE).status_code == 429
    assert rest.delete(FAULTS).status_code == 204
    assert rest.get(FAULTS).json() == {"delays": [], "rateLimits": [], "brokerDisconnected": [],
                                       "restartAvailable": True}  # fmt: skip
    assert rest.get(PROBE).status_code != 429


def test_broker_outage_shows_on_the_account_and_survives_a_restart(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    faults = sandbox.server.faults
    assert rest.post(FAULTS + "/broker", json={"accountId": "nope", "connected": False}).status_code == 404
    answer = rest.post(FAULTS + "/broker", json={"accountId": sandbox.account_id, "connected": False})
    assert answer.status_code == 200
    assert not faults.broker_connected(sandbox.account_id)
    assert rest.get(FAULTS).json()["brokerDisconnected"] == [sandbox.account_id]
    assert sandbox.server.accounts.get(sandbox.account_id)["connectionStatus"] == "DISCONNECTED_FROM_BROKER"
    account = rest.get(f"/users/current/accounts/{sandbox.account_id}")
    if account.status_code == 200:
        assert account.json()["connectionStatus"] == "DISCONNECTED_FROM_BROKER"
    sandbox.restart()
    assert not sandbox.server.faults.broker_connected(sandbox.account_id)
    assert rest.delete(FAULTS).status_code == 204
    assert sandbox.server.faults.broker_connected(sandbox.account_id)
    assert sandbox.server.accounts.get(sandbox.account_id)["connectionStatus"] == "CONNECTED"


def test_restart_over_rest_answers_then_restarts(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    old = sandbox.server
    clock = old.market.now_ms()
    answer = rest.post(FAULTS + "/restart")
    assert answer.status_code == 202
    assert answer.json() == {"restarting": True}
    deadline = time.monotonic() + 30
    while sandbox.server is old and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.server is not old
    assert httpx.get(sandbox.url + "/").status_code == 200
    assert sandbox.server.market.now_ms() >= clock  # the market clock runs on across the restart


def test_restart_without_a_hook_is_501(sandbox: SandboxHandle, rest: httpx.Client) -> None:
    sandbox.server.faults.restart_hook = None
    answer = rest.post(FAULTS + "/restart")
    assert answer.status_code == 501
    assert answer.json()["error"] == "NotImplementedError"


# -- socket faults (need the hub) ---------------------------------------------------------------


async def _stream(sandbox: SandboxHandle, packets: list[dict] | None = None) -> RawStream:
    stream = RawStream(sandbox.url, sandbox.token, sandbox.account_id,
                       on_packet=packets.append if packets is not None else None)  # fmt: skip
    await stream.open()
    return stream


async def test_dropped_sockets_get_a_disconnect(sandbox: SandboxHandle) -> None:
    stream = await _stream(sandbox)
    gone = asyncio.Event()
    stream.sio.on("disconnect", gone.set)
    async with httpx.AsyncClient(base_url=sandbox.url, headers={"auth-token": sandbox.token}) as rest:
        answer = await rest.post(FAULTS + "/drop-sockets", json={"accountId": sandbox.account_id})
    assert answer.status_code == 200
    assert answer.json()["dropped"] >= 1
    await asyncio.wait_for(gone.wait(), 10)


async def test_socket_delay_and_429(sandbox: SandboxHandle) -> None:
    stream = await _stream(sandbox)
    try:
        sandbox.server.faults.add_delay(0.3, scope="socket", count=1)
        started = time.perf_counter()
        await stream.request("getServerTime", application="RPC")
        assert time.perf_counter() - started >= 0.3
        trades = sandbox.server.faults.add_delay(60, scope="socket", count=1, request_type="trade")
        await stream.request("getServerTime", application="RPC")  # another type: not held, the rule kept for a trade
        assert trades.count == 1
        trades.count = 0
        sandbox.server.faults.add_rate_limit(1, 10, scope="socket", request_type="getServerTime")
        with pytest.raises(RequestFailed, match="TooManyRequestsError") as failure:
            await stream.request("getServerTime", application="RPC")
        assert "recommendedRetryTime" in failure.value.body["metadata"]
        await stream.request("getServerTime", application="RPC")
        limit = "LIMIT_ACCOUNT_SUBSCRIPTIONS_PER_USER"
        sandbox.server.faults.add_rate_limit(1, 60, scope="socket", type=limit, request_type="subscribe")
        with pytest.raises(RequestFailed) as failure:
            await stream.request("subscribe", sessionId="s" * 32)
        assert failure.value.body["metadata"]["type"] == limit
    finally:
        await stream.close()


async def test_broker_outage_shows_in_status_packets(sandbox: SandboxHandle) -> None:
    packets: list[dict] = []
    stream = await _stream(sandbox, packets)
    try:
        status = stream.expect("status")
        sandbox.call(sandbox.server.faults.set_broker(sandbox.account_id, False))
        packet = await asyncio.wait_for(status, 15)
        assert packet["connected"] is False
        status = stream.expect("status")
        sandbox.call(sandbox.server.faults.set_broker(sandbox.account_id, True))
        assert (await asyncio.wait_for(status, 15))["connected"] is True
    finally:
        await stream.close()


async def test_downgrade_arrives_as_a_synchronization_packet(sandbox: SandboxHandle) -> None:
    stream = await _stream(sandbox)
    try:
        await stream.subscribe("EURUSD", [{"type": "quotes"}, {"type": "ticks"}])
        downgrade = stream.expect("downgradeSubscription")
        body = {"accountId": sandbox.account_id, "symbol": "EURUSD", "updates": [{"type": "quotes",
                "intervalInMilliseconds": 5000}], "unsubscriptions": [{"type": "ticks"}]}  # fmt: skip
        async with httpx.AsyncClient(base_url=sandbox.url, headers={"auth-token": sandbox.token}) as rest:
            assert (await rest.post(FAULTS + "/downgrade", json=body)).status_code == 200
        packet = await asyncio.wait_for(downgrade, 10)
        assert packet["symbol"] == "EURUSD"
        assert packet["updates"] == body["updates"]
        assert packet["unsubscriptions"] == [{"type": "ticks"}]
    finally:
        await stream.close()
