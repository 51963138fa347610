"""The python-socketio 4.6.1 workarounds: they must still be needed and must still work."""

from __future__ import annotations

import asyncio

import engineio.asyncio_client
import pytest
import socketio
from aiohttp import web

from mtdata.socketio_compat import (
    GatherManager,
    GuardedServer,
    disable_client_sigint_handler,
    disconnect_all,
    owned_service_task,
)

#: How long a test waits for what must arrive over loopback: long enough for a loaded 2-core machine (a round trip
#: takes milliseconds, so a pass is as quick as ever; only a failure waits it out). The stock manager's lost emit
#: is awaited 0.5 s only: it never arrives, however long the wait.
ARRIVES = 30


async def _serve(
    manager: socketio.AsyncManager | None, server: type[socketio.AsyncServer] = socketio.AsyncServer
) -> tuple[socketio.AsyncServer, web.AppRunner, str]:
    sio = server(async_mode="aiohttp", client_manager=manager)
    app = web.Application()
    sio.attach(app, socketio_path="ws")

    @sio.on("ping_me")
    async def ping_me(sid: str, data: object) -> None:
        await sio.emit("pong", data, room=sid)

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return sio, runner, f"http://127.0.0.1:{port}"


async def _round_trip(url: str, timeout: float, before: tuple[str, object] | None = None) -> object:
    """Emit ``ping_me`` (after the event ``before``, if given) and return the server's ``pong``."""
    client = socketio.AsyncClient(reconnection=False)
    got: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("pong", lambda data: got.done() or got.set_result(data))
    await client.connect(url, socketio_path="ws", transports=["websocket"])
    try:
        if before is not None:
            await client.emit(*before)
        await client.emit("ping_me", {"n": 1})
        return await asyncio.wait_for(got, timeout)
    finally:
        await client.disconnect()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_stock_manager_still_loses_room_emits() -> None:
    """If this fails, python-socketio fixed the bug and GatherManager can go."""
    _sio, runner, url = await _serve(None)
    try:
        with pytest.raises(asyncio.TimeoutError):
            await _round_trip(url, timeout=0.5)
    finally:
        await runner.cleanup()


async def test_gather_manager_delivers_room_emits() -> None:
    _sio, runner, url = await _serve(GatherManager())
    try:
        assert await _round_trip(url, timeout=ARRIVES) == {"n": 1}
    finally:
        await runner.cleanup()


async def test_disconnect_all_closes_every_socket() -> None:
    sio, runner, url = await _serve(GatherManager())
    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    client.on("disconnect", gone.set)
    try:
        await client.connect(url, socketio_path="ws", transports=["websocket"])
        await disconnect_all(sio.eio)
        await asyncio.wait_for(gone.wait(), ARRIVES)
        assert sio.eio.sockets == {}
    finally:
        await runner.cleanup()


async def test_owned_service_task_replaces_the_lazy_one() -> None:
    sio, runner, url = await _serve(GatherManager())
    task = owned_service_task(sio.eio)
    try:
        assert await _round_trip(url, timeout=ARRIVES) == {"n": 1}
        assert sio.eio.start_service_task is False  # engineio did not start a second, unowned monitor
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runner.cleanup()
    assert task.cancelled()


async def _disconnect_events(server: type[socketio.AsyncServer]) -> tuple[list[tuple], list[object]]:
    """Send a client event named ``disconnect``: what reached the disconnect handler, and what was refused."""
    sio, runner, url = await _serve(GatherManager(), server)
    handled: list[tuple] = []
    refused: list[object] = []
    sio.on("disconnect", lambda sid, *args: handled.append(args))
    if isinstance(sio, GuardedServer):
        sio.on_refused = lambda sid, data: asyncio.sleep(0, refused.append(data))
    try:
        assert await _round_trip(url, timeout=ARRIVES, before=("disconnect", {"n": 0})) == {"n": 1}
    finally:
        await runner.cleanup()
    return handled, refused


async def test_stock_server_still_dispatches_a_client_disconnect_event() -> None:
    """If this fails, python-socketio stopped dispatching reserved client events and GuardedServer can go."""
    handled, _ = await _disconnect_events(socketio.AsyncServer)
    assert ({"n": 0},) in handled


async def test_guarded_server_refuses_reserved_client_events() -> None:
    handled, refused = await _disconnect_events(GuardedServer)
    assert ({"n": 0},) not in handled and refused == [["disconnect", {"n": 0}]]


def test_client_sigint_handler_is_disabled() -> None:
    disable_client_sigint_handler()
    assert engineio.asyncio_client.async_signal_handler_set is True
