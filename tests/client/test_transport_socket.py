"""The socket.io client's short event path: same results as the library's path, for every frame shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mtdata.client.transport.socket import _SocketIOClient, random_id


async def test_plain_events_reach_sync_and_async_handlers() -> None:
    client = _SocketIOClient(reconnection=False)
    got: list[tuple[str, Any]] = []

    async def on_packet(data: Any) -> None:
        got.append(("synchronization", data))

    client.on("synchronization", on_packet)
    client.on("response", lambda data: got.append(("response", data)))
    await client._handle_eio_message("2" + json.dumps(["synchronization", {"type": "prices", "time": "x"}]))
    await client._handle_eio_message("2" + json.dumps(["response", {"requestId": "r"}]))
    await client._handle_eio_message("2" + json.dumps(["unknown", {}]))  # no handler: ignored
    assert got == [("synchronization", {"type": "prices", "time": "x"}), ("response", {"requestId": "r"})]


async def test_other_frames_take_the_library_path() -> None:
    client = _SocketIOClient(reconnection=False)
    got: list[Any] = []
    client.on("response", got.append)
    client.on("response", lambda data: got.append(("ns", data)), namespace="/other")
    await client._handle_eio_message("2/other," + json.dumps(["response", 1]))  # a namespace
    with pytest.raises(ValueError):  # malformed: as the library does (its message task logs it)
        await client._handle_eio_message("2[not json")
    await client._handle_eio_message("2" + json.dumps([1, 2]))  # not an event name
    assert got == [("ns", 1)]


def test_random_ids_look_like_the_sdk_ones() -> None:
    ids = {random_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) == 32 and i.isalpha() and i.islower() for i in ids)
