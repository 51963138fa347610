"""Property test: random packets on the ``request`` event are each answered, and nothing breaks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_realtime_helpers import Wire, request_id

from mtdata.sandbox.realtime.calls import ROUTES

FIELD_NAMES = ["symbol", "subscriptions", "instanceIndex", "sessionId", "positionId", "orderId", "ticket",
               "startTime", "endTime", "offset", "limit", "timeframe", "trade", "order", "symbols", "uptime",
               "startingHistoryOrderTime", "startingDealTime", "specificationsHashes", "positionsHashes",
               "ordersHashes", "application", "host", "keepSubscription", "refreshTerminalState"]  # fmt: skip

WORDS = ["EURUSD", "GBPUSD", "1m", "1h", "quotes", "2024-01-01T00:00:00.000Z", "0001-01-01T00:00:00Z",
         "ORDER_TYPE_BUY", "12345"]  # fmt: skip
KEYS = ["type", "symbol", "timeframe", "volume", "actionType"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
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
#: Envelopes (answered by request id) or garbage without a request id (answered anonymously).
requests = st.one_of(
    envelopes.map(lambda e: ("with_id", e)),
    envelopes.map(lambda e: ("with_id", e)),
    st.one_of(json_scalars, st.lists(json_scalars, max_size=3), envelopes).map(lambda g: ("anonymous", g)),
)


@pytest.fixture
async def wires(sandbox, sio_connect) -> tuple[Wire, Wire]:
    fuzzed, healthy = await Wire.connect(sio_connect, sandbox), await Wire.connect(sio_connect, sandbox)
    await healthy.subscribe()
    await healthy.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    return fuzzed, healthy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(requests, min_size=1, max_size=8))
async def test_random_requests_are_answered(wires: tuple[Wire, Wire], sandbox, batch: list) -> None:
    fuzzed, healthy = wires
    anonymous = len(fuzzed.unmatched)
    expected_ids = []
    for kind, payload in batch:
        if isinstance(payload, dict):
            payload = {k: sandbox.account_id if v == ACCOUNT else v for k, v in payload.items()}
        if kind == "with_id":
            payload["requestId"] = request_id()
            expected_ids.append(payload["requestId"])
        else:
            anonymous += 1
        await fuzzed.send(payload)
    await fuzzed.until(
        lambda: all(rid in fuzzed.answers for rid in expected_ids) and len(fuzzed.unmatched) >= anonymous
    )
    for rid in expected_ids:
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
