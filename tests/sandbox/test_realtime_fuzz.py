"""Property test: random packets on the ``request`` event, under socket.io's reserved event names and as raw
event packets are each answered (or dropped), nothing raises in the server, and nothing breaks; a socket whose
token expired gets UnauthorizedError for anything it sends and no more packets."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_realtime_helpers import Wire, request_id

from mtdata.sandbox.auth import full_access_rules
from mtdata.sandbox.realtime.calls import ROUTES
from mtdata.socketio_compat import RESERVED_EVENTS

FIELD_NAMES = ["symbol", "subscriptions", "instanceIndex", "sessionId", "positionId", "orderId", "ticket",
               "startTime", "endTime", "offset", "limit", "timeframe", "trade", "order", "symbols", "uptime",
               "startingHistoryOrderTime", "startingDealTime", "specificationsHashes", "positionsHashes",
               "ordersHashes", "application", "host", "keepSubscription", "refreshTerminalState"]  # fmt: skip

WORDS = ["EURUSD", "GBPUSD", "1m", "1h", "quotes", "2024-01-01T00:00:00.000Z", "0001-01-01T00:00:00Z",
         "ORDER_TYPE_BUY", "12345"]  # fmt: skip
KEYS = ["type", "symbol", "timeframe", "volume", "actionType"]

#: Numbers no field takes: what a JavaScript or Python client can still put on the wire.
ODD_NUMBERS = [float("nan"), float("inf"), float("-inf"), 2**64, -(2**64), 2**63, 10**30]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(ODD_NUMBERS),
    st.text(max_size=20),
    st.sampled_from(WORDS),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=8,
)


#: Stands for the sandbox's account id (unknown when strategies are built).
ACCOUNT = "<account>"

envelopes = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(sorted(ROUTES)), st.text(max_size=12), json_scalars)},
    optional={"accountId": st.one_of(st.just(ACCOUNT), st.just(ACCOUNT), json_scalars),
              **{name: json_values for name in FIELD_NAMES}},
)  # fmt: skip
#: ``(how it is answered, event name, payload)``: envelopes on ``request`` (answered by request id), garbage
#: without a request id (answered anonymously), the same under a reserved name, and raw event packets.
requests = st.one_of(
    envelopes.map(lambda e: ("with_id", "request", e)),
    envelopes.map(lambda e: ("with_id", "request", e)),
    st.one_of(json_scalars, st.lists(json_scalars, max_size=3), envelopes).map(lambda g: ("anonymous", "request", g)),
    st.tuples(st.sampled_from(sorted(RESERVED_EVENTS)), envelopes).map(lambda p: ("with_id", *p)),
    st.tuples(st.sampled_from(sorted(RESERVED_EVENTS)), json_scalars).map(lambda p: ("anonymous", *p)),
    json_values.map(lambda raw: ("raw", None, raw)),
)


async def send_batch(wire: Wire, batch: list) -> dict[str, str]:
    """Send a drawn batch, then wait for its answers; returns each request id sent and the event it went under.

    Raw payloads go as the data of a socket.io event packet (NaN and Infinity as python-socketio writes them).
    """
    anonymous = len(wire.unmatched)
    sent = {}
    for kind, event, payload in batch:
        if isinstance(payload, dict):
            payload = {k: wire.account_id if v == ACCOUNT else v for k, v in payload.items()}
        if kind == "with_id":
            payload["requestId"] = request_id()
            sent[payload["requestId"]] = event
        elif kind == "anonymous":
            anonymous += 1
        if event is None:
            await wire.client.eio.send("2" + json.dumps(payload))
        else:
            await wire.client.emit(event, payload)
    await wire.until(lambda: all(rid in wire.answers for rid in sent) and len(wire.unmatched) >= anonymous)
    return sent


@pytest.fixture
async def wires(sandbox, sio_connect, caplog) -> tuple[Wire, Wire]:
    """A wire to fuzz and a healthy subscribed one; afterwards no log record of the process may be an error."""
    caplog.set_level(logging.INFO)
    fuzzed, healthy = await Wire.connect(sio_connect, sandbox), await Wire.connect(sio_connect, sandbox)
    await healthy.subscribe()
    await healthy.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    yield fuzzed, healthy
    gc.collect()  # an unretrieved task exception is logged when the task is collected
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(requests, min_size=1, max_size=8))
async def test_random_requests_are_answered(wires: tuple[Wire, Wire], batch: list) -> None:
    fuzzed, healthy = wires
    for rid in await send_batch(fuzzed, batch):
        kind, answer = fuzzed.answers[rid]
        assert answer["requestId"] == rid
        if kind == "processingError":
            assert {"id", "error", "message"} <= set(answer) and answer["error"] != "InternalError", answer
    for kind, answer in fuzzed.unmatched:
        assert kind == "processingError" and answer["error"] == "ValidationError", answer

    assert fuzzed.client.connected and healthy.client.connected
    assert (await fuzzed.ok("getServerTime", application="RPC"))["serverTime"]
    seen = len(healthy.of_type("prices"))
    assert (await healthy.ok("getSymbols", application="RPC"))["symbols"]
    await healthy.ok("refreshTerminalState", application="RPC")
    await healthy.until(lambda: len(healthy.of_type("prices")) > seen)


@pytest.fixture
async def expired(mtdata_sandbox_factory, sio_connect) -> tuple[Wire, int]:
    """A subscribed wire whose token expired after it connected, and how many packets it had heard by then."""
    box = mtdata_sandbox_factory(status_interval=0.2)
    server = box.server
    # valid 4 to 5 s (whole seconds): the subscriptions below must succeed before it expires, on a slow machine too
    token = server.tokens.issue(server.user_id, full_access_rules(), validity_seconds=5)
    wire, healthy = await Wire.connect(sio_connect, box, token=token), await Wire.connect(sio_connect, box)
    for each in (wire, healthy):
        await each.subscribe()
        await each.ok("subscribeToMarketData", symbol="BTCUSD", subscriptions=[{"type": "quotes"}])
    await asyncio.sleep(max(0.0, server.tokens.verify(token).expires_at - time.time()) + 0.05)
    # what was sent before expiry is in once a second status pass is heard (the first may precede expiry, and
    # the two sockets keep no order between them)
    passes = len(healthy.of_type("status"))
    await healthy.until(lambda: len(healthy.of_type("status")) > passes + 1)
    return wire, len(wire.packets)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(requests, min_size=1, max_size=6))
async def test_an_expired_socket_is_refused_everything(expired: tuple[Wire, int], batch: list) -> None:
    wire, heard = expired
    for rid, event in (await send_batch(wire, batch)).items():
        kind, answer = wire.answers[rid]
        assert kind == "processingError", answer
        assert answer["error"] == ("UnauthorizedError" if event == "request" else "ValidationError"), answer
    assert len(wire.packets) == heard and wire.client.connected
