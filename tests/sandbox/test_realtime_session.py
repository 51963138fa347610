"""Socket connection, subscription, status and synchronization (protocol §4, §7) against a live sandbox."""

from __future__ import annotations

import socketio
from test_realtime_helpers import Wire, add_account, freeze

from mtdata.hashing import IGNORED_FIELDS, collection_hash
from mtdata.sandbox.auth import RPC_API, STREAMING_API


async def test_bad_and_expired_tokens_are_refused(sandbox, sio_connect) -> None:
    expired = sandbox.server.tokens.issue(sandbox.server.user_id, [], validity_seconds=-5)
    for token in ("not-a-token", "a.b.c", expired):
        try:
            await sio_connect(sandbox.url, token)
        except socketio.exceptions.ConnectionError:
            continue
        raise AssertionError(f"token {token[:10]} was accepted")


async def test_latency_probe_without_client_id_connects(sandbox, sio_connect) -> None:
    client = await sio_connect(sandbox.url, sandbox.token, client_id=None)
    assert client.connected


async def test_narrowed_token_for_another_account_is_forbidden(sandbox, sio_connect) -> None:
    other = add_account(sandbox)
    rules = [{"id": api, "methods": ["metaapi-api:ws:public:*:*"], "roles": ["reader", "writer"],
              "resources": [f"account:$USER_ID$:{other}"]} for api in (RPC_API, STREAMING_API)]  # fmt: skip
    token = sandbox.server.tokens.issue(sandbox.server.user_id, rules)
    wire = await Wire.connect(sio_connect, sandbox, token=token)
    answer = await wire.error("getAccountInformation", application="RPC")
    assert answer["error"] == "ForbiddenError" and answer["id"] == 4
    wire.account_id = other
    assert (await wire.ok("getAccountInformation", application="RPC"))["accountInformation"]["balance"] > 0


async def test_reader_token_cannot_trade(sandbox, sio_connect) -> None:
    rules = [{"id": api, "methods": ["metaapi-api:ws:public:*:*"], "roles": ["reader"],
              "resources": ["*:$USER_ID$:*"]} for api in (RPC_API, STREAMING_API)]  # fmt: skip
    wire = await Wire.connect(sio_connect, sandbox, token=sandbox.server.tokens.issue(sandbox.server.user_id, rules))
    answer = await wire.error("trade", trade={"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1})
    assert answer["error"] == "ForbiddenError"


async def test_unknown_account_is_not_found(sandbox, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, sandbox)
    answer = await wire.error("getPositions", application="RPC", accountId="nope")
    assert answer["error"] == "NotFoundError" and answer["requestId"]


async def test_subscribe_authenticates_and_sends_status(mtdata_sandbox_factory, sio_connect) -> None:
    sandbox = mtdata_sandbox_factory(status_interval=0.2)
    wire = await Wire.connect(sio_connect, sandbox)
    authenticated = await wire.subscribe()
    assert authenticated | {"accountId": sandbox.account_id, "instanceIndex": 0, "host": "ps-mpa-0", "replicas": 1} == (
        authenticated
    )
    await wire.until(lambda: len(wire.of_type("status")) >= 3)
    status = wire.of_type("status")[-1]
    assert status["connected"] is True and status["authenticated"] is True
    assert status["healthStatus"] == {"rpcApiHealthy": True, "restApiHealthy": True}
    assert status["host"] == "ps-mpa-0" and "sequenceNumber" not in status
    # instance 1 of a regular account gets an answer and nothing else
    await wire.ok("subscribe", instanceIndex=1, sessionId="s1")
    assert not wire.of_type("authenticated", instanceIndex=1)


async def test_high_reliability_authenticates_instance_one(sandbox, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, sandbox)
    wire.account_id = add_account(sandbox, reliability="high")
    assert (await wire.subscribe(instance_index=1))["host"] == "ps-mpa-1"


async def test_undeployed_account_cannot_subscribe(sandbox, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, sandbox)
    wire.account_id = add_account(sandbox, state="UNDEPLOYED")
    answer = await wire.error("subscribe", instanceIndex=0, sessionId="x")
    assert answer["error"] == "NotFoundError"


async def test_synchronization_sequence(sandbox, sio_connect) -> None:
    wire = await Wire.connect(sio_connect, sandbox)
    await wire.subscribe()
    _, packets = await wire.synchronize()
    types = [p["type"] for p in packets]
    assert types == ["synchronizationStarted", "accountInformation", "specifications", "positions", "orders",
                     "orderSynchronizationFinished", "deals", "dealSynchronizationFinished"]  # fmt: skip
    numbers = [p["sequenceNumber"] for p in packets]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    stamps = [p["sequenceTimestamp"] for p in packets]
    assert stamps == sorted(stamps) and all(isinstance(s, int) for s in stamps)
    assert all(p["host"] == "ps-mpa-0" and p["instanceIndex"] == 0 for p in packets)
    info = packets[1]["accountInformation"]
    assert info["balance"] == 10000 and info["equity"] == 10000 and info["margin"] == 0 and info["marginLevel"] is None
    assert "EURUSD" in {s["symbol"] for s in packets[2]["specifications"]}
    deposit = packets[6]["deals"][0]
    assert deposit["type"] == "DEAL_TYPE_BALANCE" and deposit["profit"] == 10000 and deposit["id"].isdigit()

    # a second synchronization continues the numbering and starts strictly later
    _, again = await wire.synchronize()
    assert again[0]["sequenceNumber"] == numbers[-1] + 1
    assert again[0]["sequenceTimestamp"] > stamps[-1]
    assert again[-1]["type"] == "dealSynchronizationFinished"
    # history after the newest deal: no deals packet, the finish markers still come
    _, later = await wire.synchronize(startingDealTime="2999-01-01T00:00:00.000Z")
    assert "deals" not in [p["type"] for p in later]


def server_hash(items: list[dict], kind: str) -> str | None:
    """The collection hash as the sandbox computes it for a cloud-g2 account (with the ignored fields it serves)."""
    return collection_hash(items, kind, "g2", IGNORED_FIELDS["g2"][kind])  # type: ignore[arg-type]


async def test_hash_indexes_skip_unchanged_collections(sandbox, sio_connect) -> None:
    freeze(sandbox, ("EURUSD",))  # positions and orders are reported at the live price, which hashes change with
    sandbox.server.store.put("positions", "5001", {
        "id": "5001", "platform": "mt5", "type": "POSITION_TYPE_BUY", "symbol": "EURUSD", "magic": 0,
        "time": "2026-01-01T00:00:00.000Z", "brokerTime": "2026-01-01 02:00:00.000", "openPrice": 1.1,
        "volume": 0.1, "profit": 1.5, "unrealizedProfit": 1.5, "swap": 0}, account_id=sandbox.account_id)  # fmt: skip
    wire = await Wire.connect(sio_connect, sandbox)
    await wire.subscribe()
    _, first = await wire.synchronize()
    specs = next(p for p in first if p["type"] == "specifications")["specifications"]
    positions = next(p for p in first if p["type"] == "positions")["positions"]
    assert len(positions) == 1
    spec_hash = server_hash(specs, "specification")
    position_hash = server_hash(positions, "position")
    _, second = await wire.synchronize(specificationsHashes=["0" * 32, spec_hash], positionsHashes=[position_hash])
    started = second[0]
    assert started["specificationsHashIndex"] == 1 and started["positionsHashIndex"] == 0
    assert "ordersHashIndex" not in started
    types = [p["type"] for p in second]
    assert "specifications" not in types and "positions" not in types and "orders" in types


async def test_specifications_precede_account_information_when_positions_and_orders_match(sandbox, sio_connect):
    freeze(sandbox, ("GBPUSD",))  # the pending order is reported at the live price: hold it still between syncs
    store = sandbox.server.store
    store.put("positions", "5101", {"id": "5101", "type": "POSITION_TYPE_SELL", "symbol": "GBPUSD", "magic": 7,
                                    "volume": 0.2, "openPrice": 1.3}, account_id=sandbox.account_id)  # fmt: skip
    store.put("orders", "5102", {"id": "5102", "type": "ORDER_TYPE_BUY_LIMIT", "symbol": "GBPUSD", "magic": 7,
                                 "volume": 0.2, "openPrice": 1.2}, account_id=sandbox.account_id)  # fmt: skip
    wire = await Wire.connect(sio_connect, sandbox)
    await wire.subscribe()
    _, first = await wire.synchronize()
    hashes = {kind: server_hash(next(p for p in first if p["type"] == f"{kind}s")[f"{kind}s"], kind)
              for kind in ("position", "order")}  # fmt: skip
    _, second = await wire.synchronize(positionsHashes=[hashes["position"]], ordersHashes=[hashes["order"]])
    assert [p["type"] for p in second][:3] == ["synchronizationStarted", "specifications", "accountInformation"]
    assert second[0]["positionsHashIndex"] == 0 and second[0]["ordersHashIndex"] == 0
