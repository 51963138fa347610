"""The ``region`` option (protocol §1.1): connections keep to that region, through the account's replica there,
and an account with no presence in it is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_streaming_helpers import eventually, rpc_connection, streaming_connection

from mtdata.client import MetaApi
from mtdata.client.connections.route import Route, route
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle

FAST_WAIT = {"timeout_in_seconds": 30, "interval_in_milliseconds": 20}


async def replica_in(api: MetaApi, account_id: str, region: str) -> str:
    """The id of a new deployed and connected replica of the account in ``region``."""
    account = await api.metatrader_account_api.get_account(account_id)
    replica = await account.create_replica({"region": region, "magic": 7})
    await replica.wait_deployed(**FAST_WAIT)
    await replica.wait_connected(**FAST_WAIT)
    return replica.id


async def test_a_pinned_region_streams_and_trades_through_the_replica_there(
    make_api: Callable[..., MetaApi], sandbox: SandboxHandle
) -> None:
    replica_id = await replica_in(make_api(), sandbox.account_id, "london")
    api = make_api(region="london")
    connection = await streaming_connection(api, sandbox.account_id)
    assert connection.route == Route(replica_id, "london")
    client = api.websocket_client
    assert client.connected_instances(replica_id) and not client.connected_instances(sandbox.account_id)
    assert connection.terminal_state.specification("EURUSD")["symbol"] == "EURUSD"
    await connection.subscribe_to_market_data("EURUSD")
    await eventually(lambda: connection.terminal_state.price("EURUSD") is not None, what="a EURUSD price")

    trade = await connection.create_market_buy_order("EURUSD", 0.1)
    await eventually(lambda: any(p["id"] == trade["positionId"] for p in connection.terminal_state.positions))
    primary = await rpc_connection(make_api(), sandbox.account_id)  # the same account, seen in its own region
    assert trade["positionId"] in {p["id"] for p in await primary.get_positions()}

    rpc = await rpc_connection(api, sandbox.account_id)
    assert rpc.route == Route(replica_id, "london")
    assert trade["positionId"] in {p["id"] for p in await rpc.get_positions()}


async def test_the_accounts_own_region_pinned_is_the_primary(
    make_api: Callable[..., MetaApi], sandbox: SandboxHandle
) -> None:
    account = await make_api().metatrader_account_api.get_account(sandbox.account_id)
    api = make_api(region=account.region)
    connection = await streaming_connection(api, sandbox.account_id)
    assert connection.route == Route(sandbox.account_id, account.region)


async def test_a_region_without_the_account_is_refused_and_nothing_is_subscribed(
    make_api: Callable[..., MetaApi], sandbox: SandboxHandle
) -> None:
    await replica_in(make_api(), sandbox.account_id, "london")
    api = make_api(region="singapore")
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    for open_connection in (account.get_streaming_connection, account.get_rpc_connection):
        with pytest.raises(ValidationException, match=r"^region is not a region of account") as refused:
            open_connection()
        assert refused.value.details[0]["parameter"] == "region"
        assert "london" in str(refused.value) and account.region in str(refused.value)
    assert not api.websocket_client.connected_instances(sandbox.account_id)


def test_route_without_a_pinned_region_is_the_account_itself() -> None:
    class Account:
        id, region, account_replicas = "a1", "new-york", [{"_id": "r1", "region": "london"}]

    assert route(Account()) == Route("a1", "new-york")  # type: ignore[arg-type]
    assert route(Account(), "london") == Route("r1", "london")  # type: ignore[arg-type]
    with pytest.raises(ValidationException, match="it is in london, new-york"):
        route(Account(), "singapore")  # type: ignore[arg-type]
