"""Tokens at the edges: a non-ASCII token is a 401 on REST and on the socket handshake, never a 500; an open
socket's token is checked on every request, and at its expiry the socket's streams end; the token routes
follow the access rules as every other route does."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import httpx
import pytest
import socketio
from test_realtime_helpers import WEEKDAY, Wire

from mtdata.sandbox import SandboxHandle
from mtdata.sandbox.auth import full_access_rules

ACCOUNTS = "/users/current/accounts"
#: How a token copied out of a word processor arrives: wrapped in typographic quotes.
SMART = "\u201c{}\u201d"


def refused(response: httpx.Response) -> dict:
    """The body of a 401 in the cloud's error shape."""
    assert response.status_code == 401, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == "UnauthorizedError" and body["id"] == 1
    return body


@pytest.mark.parametrize("shape", [SMART, "{}\u00e9"])
def test_non_ascii_rest_token_is_401(sandbox: SandboxHandle, shape: str) -> None:
    token = shape.format(sandbox.token).encode()
    refused(httpx.get(sandbox.url + ACCOUNTS, headers={"auth-token": token}))
    assert httpx.get(sandbox.url + ACCOUNTS, headers={"auth-token": sandbox.token}).status_code == 200


@pytest.mark.parametrize("shape", [SMART, "{}\u00e9"])
async def test_non_ascii_socket_token_is_refused_with_401(sandbox: SandboxHandle, sio_connect, shape: str) -> None:
    token = shape.format(sandbox.token)
    handshake = f"{sandbox.url}/ws/?EIO=3&transport=polling&auth-token={quote(token)}"
    assert refused(httpx.get(handshake))["message"] == "Authorization token invalid"
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio_connect(sandbox.url, quote(token))
    assert (await sio_connect(sandbox.url, sandbox.token)).connected


async def test_open_socket_is_refused_once_its_token_expires(mtdata_sandbox_factory, sio_connect) -> None:
    box = mtdata_sandbox_factory(start=WEEKDAY, status_interval=0.2)
    server = box.server
    # valid 4 to 5 s (a token's times are whole seconds): the setup below must end before it expires, also when a
    # loaded machine is slow (with 2 s, i.e. 1 to 2 s, the getPositions could come too late and be refused)
    token = server.tokens.issue(server.user_id, full_access_rules(), validity_seconds=5)
    expires_at = server.tokens.verify(token).expires_at
    doomed, healthy = await Wire.connect(sio_connect, box, token=token), await Wire.connect(sio_connect, box)
    for wire in (doomed, healthy):
        await wire.subscribe()
        await wire.ok("subscribeToMarketData", symbol="BTCUSD", subscriptions=[{"type": "quotes"}])
    await doomed.until(lambda: doomed.of_type("status") and doomed.of_type("prices"))
    assert (await doomed.ok("getPositions", application="RPC"))["positions"] == []

    await asyncio.sleep(max(0.0, expires_at - time.time()) + 0.05)
    # it sent no request since: its streams end at expiry all the same (four status passes of the server). Counted
    # from the second pass heard after expiry: the first may have been sent just before it, and a packet the doomed
    # socket got before expiry may then arrive after that status (two sockets keep no order between them)
    passes = len(healthy.of_type("status"))
    await healthy.until(lambda: len(healthy.of_type("status")) > passes + 1)
    heard = len(doomed.packets)
    await healthy.until(lambda: len(healthy.of_type("status")) > passes + 3)
    assert len(doomed.packets) == heard

    buy = {"actionType": "ORDER_TYPE_BUY", "symbol": "BTCUSD", "volume": 0.01}
    for request_type, fields in (("trade", {"trade": buy}), ("getPositions", {"application": "RPC"}),
                                 ("subscribe", {"instanceIndex": 0}), ("getServerTime", {})):  # fmt: skip
        answer = await doomed.error(request_type, **fields)
        assert (answer["error"], answer["id"], answer["message"]) == (
            "UnauthorizedError", 1, "Authorization token expired"), answer  # fmt: skip
    assert (await healthy.ok("getPositions", application="RPC"))["positions"] == []
    assert doomed.client.connected and len(doomed.packets) == heard


def test_token_routes_need_a_profile_api_rule(sandbox: SandboxHandle) -> None:
    root = {"auth-token": sandbox.token}
    narrow = f"{sandbox.url}/users/current/narrow-down-auth-token"
    reader = httpx.post(narrow, headers=root, json={"roles": ["reader"]}).json()["token"]
    no_profile = httpx.post(narrow, headers=root, json={"applications": ["trading-account-management-api"]})
    cut = {"auth-token": no_profile.json()["token"]}
    assert httpx.get(sandbox.url + ACCOUNTS, headers=cut).status_code == 200  # its own API still works
    for response in (httpx.get(f"{sandbox.url}/access-rule-manifest", headers=cut),
                     httpx.post(narrow, headers=cut, json={"roles": ["reader"]})):  # fmt: skip
        assert response.status_code == 403, response.text
        assert response.json() | {"error": "ForbiddenError", "id": 4} == response.json()
        assert "profile-api" in response.json()["message"]
    assert httpx.get(f"{sandbox.url}/access-rule-manifest", headers={"auth-token": reader}).status_code == 200
    assert httpx.post(narrow, headers={"auth-token": reader}, json={"roles": ["reader"]}).status_code == 200
