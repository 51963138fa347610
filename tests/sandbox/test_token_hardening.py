"""Tokens at the edges: a non-ASCII token is a 401 on REST and on the socket handshake, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
import socketio

from mtdata.sandbox import SandboxHandle

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
