"""Odd client events against a live sandbox socket: reserved event names are refused, never dispatched to the
server's own connect/disconnect handlers; malformed packets raise nothing; the socket and its streams live on."""

from __future__ import annotations

import gc
import logging

import pytest
from test_realtime_helpers import Wire, request_id

from mtdata.sandbox import SandboxHandle

RESERVED = ["connect", "disconnect", "connect_error", "disconnecting", "newListener", "removeListener"]


@pytest.fixture
def box(mtdata_sandbox_factory) -> SandboxHandle:
    """A sandbox sending ``status`` every 0.2 s, so a test can see a stream still alive."""
    return mtdata_sandbox_factory(status_interval=0.2)


@pytest.fixture
async def wire(box: SandboxHandle, sio_connect, caplog: pytest.LogCaptureFixture) -> Wire:
    """A subscribed wire; after the test, no log record of the process may be an error."""
    caplog.set_level(logging.INFO)
    wire = await Wire.connect(sio_connect, box)
    await wire.subscribe()
    yield wire
    gc.collect()  # an unretrieved task exception is logged when the task is collected
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def still_alive(wire: Wire, box: SandboxHandle) -> None:
    """The socket answers, the server still knows it, and its stream still gets ``status`` packets."""
    assert (await wire.ok("getServerTime"))["serverTime"]
    assert len(box.server.hub.connections) == 1
    seen = len(wire.of_type("status"))
    await wire.until(lambda: len(wire.of_type("status")) > seen)


@pytest.mark.parametrize("event", RESERVED)
@pytest.mark.parametrize("args", [(), ({},), ({"QUERY_STRING": "auth-token=x"}, "extra")])
async def test_reserved_event_names_are_refused(wire: Wire, box: SandboxHandle, event: str, args: tuple) -> None:
    rid = request_id()
    payload = ({**args[0], "requestId": rid}, *args[1:]) if args else ()
    await wire.client.emit(event, payload[0] if len(payload) == 1 else payload or None)
    if args:
        kind, answer = await wire.until(lambda: wire.answers.get(rid))
    else:
        kind, answer = (await wire.until(lambda: wire.unmatched))[-1]
    assert kind == "processingError" and answer["error"] == "ValidationError", answer
    assert answer["details"] == [{"parameter": "event", "message": "is reserved by socket.io", "value": event}]
    await still_alive(wire, box)


#: Socket.io EVENT packets (type 2) no well-behaved client sends; ``None``: the packet is refused and answered.
ODD_EVENTS = {'[]': True, '{}': True, '"request"': True, '[1]': True, '[null]': True, '[{"a":1}]': True,
              '[["request"]]': True, '["request"]': True, '["request",1,2]': True, '["nothing-listens"]': False,
              '[': False, '["request",': False, '': True}  # fmt: skip


@pytest.mark.parametrize("raw", ODD_EVENTS)
async def test_odd_event_packets_raise_nothing(wire: Wire, box: SandboxHandle, raw: str) -> None:
    await wire.client.eio.send("2" + raw)
    if ODD_EVENTS[raw]:
        kind, answer = (await wire.until(lambda: wire.unmatched))[-1]
        assert kind == "processingError" and answer["error"] == "ValidationError", answer
    await still_alive(wire, box)
    assert not wire.unmatched[1:]
