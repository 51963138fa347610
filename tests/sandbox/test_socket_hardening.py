"""Odd client input against a live sandbox socket: reserved event names are refused, never dispatched to the
server's own connect/disconnect handlers; malformed packets raise nothing; NaN, ±Infinity and integers past
64 bits in a number field are ValidationErrors naming the field; the socket and its streams live on."""

from __future__ import annotations

import copy
import gc
import json
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


#: Values no number field may take; the socket's JSON carries each of them (NaN and Infinity as tokens).
NOT_NUMBERS = [float("nan"), float("inf"), float("-inf"), 2**64, -(2**64), 10**30]
RANGE = {"startTime": "2020-01-01T00:00:00.000Z", "endTime": "2030-01-01T00:00:00.000Z"}
BUY = {"actionType": "ORDER_TYPE_BUY", "symbol": "BTCUSD", "volume": 0.01}
#: (request type, its sound fields, the path of one number field in them).
NUMBER_FIELDS = [
    ("getServerTime", {}, ("instanceIndex",)),
    ("getDealsByTimeRange", RANGE, ("offset",)),
    ("getHistoryOrdersByTimeRange", RANGE, ("limit",)),
    ("subscribeToMarketData", {"symbol": "BTCUSD", "subscriptions": [{"type": "quotes"}]},
     ("subscriptions", 0, "intervalInMilliseconds")),
    ("trade", {"trade": BUY}, ("trade", "volume")),
    ("trade", {"trade": BUY}, ("trade", "magic")),
    ("trade", {"trade": {**BUY, "actionType": "ORDER_TYPE_BUY_LIMIT", "openPrice": 1.0}}, ("trade", "openPrice")),
    ("trade", {"trade": BUY}, ("trade", "stopLoss")),
    ("calculateMargin", {"order": {"symbol": "BTCUSD", "type": "ORDER_TYPE_BUY", "volume": 0.1, "openPrice": 1.0}},
     ("order", "volume")),
    ("saveUptime", {"uptime": {"1h": 100}}, ("uptime", "1h")),
]  # fmt: skip


def _spoiled(fields: dict, path: tuple, value: object) -> dict:
    """A deep copy of ``fields`` with ``value`` at ``path``."""
    out = copy.deepcopy(fields)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@pytest.mark.parametrize(("request_type", "fields", "path"), NUMBER_FIELDS,
                         ids=[f"{t}:{'.'.join(map(str, p))}" for t, _, p in NUMBER_FIELDS])  # fmt: skip
async def test_non_finite_and_huge_numbers_are_validation_errors(
    wire: Wire, request_type: str, fields: dict, path: tuple
) -> None:
    name = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in path).replace(".[", "[")
    for value in NOT_NUMBERS:
        answer = await wire.error(request_type, application="RPC", **_spoiled(fields, path, value))
        assert answer["error"] == "ValidationError", (value, answer)
        assert answer["details"][0]["parameter"] == name, (value, answer)
        echoed = answer["details"][0].get("value")
        assert echoed is None or json.dumps(echoed, allow_nan=False)  # valid JSON for any client
    assert (await wire.ok("getPositions", application="RPC"))["positions"] == []


async def test_a_second_connect_packet_keeps_the_connection(wire: Wire, box: SandboxHandle) -> None:
    """A CONNECT packet on a live socket does not re-run authentication (which replaced the connection's streams)."""
    connection = box.server.hub.connections[wire.client.sid]
    await wire.client.eio.send("0")
    await still_alive(wire, box)
    assert box.server.hub.connections[wire.client.sid] is connection


async def test_a_disconnect_packet_closes_the_socket(wire: Wire, box: SandboxHandle) -> None:
    """A client leaving the default namespace is disconnected, not left on an open socket whose events go unanswered."""
    await wire.client.eio.send("1")
    await wire.until(lambda: not wire.client.connected)
    assert box.server.hub.connections == {}
