"""Shared fixtures: the sandbox fixtures come from the ``mtdata`` pytest plugin; helpers for raw clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import socketio

from mtdata.sandbox import SandboxHandle
from mtdata.socketio_compat import disable_client_sigint_handler

disable_client_sigint_handler()


@pytest.fixture
def sandbox(mtdata_sandbox: SandboxHandle) -> SandboxHandle:
    """A fresh sandbox on a loopback port (short name for the plugin's fixture)."""
    return mtdata_sandbox


@pytest.fixture
def rest(sandbox: SandboxHandle) -> httpx.Client:
    """An httpx client on the sandbox with its root token."""
    with httpx.Client(base_url=sandbox.url, headers={"auth-token": sandbox.token}, timeout=30) as client:
        yield client


@pytest.fixture
async def sio_connect() -> AsyncIterator[Callable[..., Any]]:
    """Connect plain python-socketio 4.x clients (as the official SDK does); all disconnect after the test."""
    clients: list[socketio.AsyncClient] = []

    async def connect(url: str, token: str, client_id: str | None = "0.1234567890", **kwargs: Any):
        client = socketio.AsyncClient(reconnection=False)
        query = f"?auth-token={token}&protocol=3" + (f"&clientId={client_id}" if client_id else "")
        headers = {"Client-Id": client_id} if client_id else {}
        await client.connect(url + query, socketio_path="ws", headers=headers, **kwargs)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        if client.connected:
            await client.disconnect()
