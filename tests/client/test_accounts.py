"""MetatraderAccountApi, MetatraderAccount and MetatraderAccountReplica against the sandbox (protocol §2.1)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from mtdata.client import MetaApi, MetatraderAccount, MetatraderAccountList
from mtdata.errors import NotFoundException, TimeoutException, ValidationException
from mtdata.sandbox import SandboxHandle

NEW_ACCOUNT = {"name": "Trader", "server": "Sandbox-Demo", "login": "123456", "password": "secret",
               "platform": "mt5", "magic": 7}  # fmt: skip
FAST_WAIT = {"timeout_in_seconds": 30, "interval_in_milliseconds": 20}


async def create(api: MetaApi, **overrides: object) -> MetatraderAccount:
    return await api.metatrader_account_api.create_account({**NEW_ACCOUNT, **overrides})


async def test_get_account_reads_every_property(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    assert account.id == sandbox.account_id and account.state == "DEPLOYED"
    assert account.connection_status == "CONNECTED" and account.region == "vint-hill"
    assert (account.type, account.version, account.reliability) == ("cloud-g2", 5, "regular")
    assert isinstance(account.magic, int) and account.name and account.login and account.server
    assert isinstance(account.created_at, datetime) and account.created_at.tzinfo is not None
    assert account.data["_id"] == account.id and account.replicas == []
    assert account.id in repr(account)


async def test_create_account_waits_through_broker_detection_202(api: MetaApi) -> None:
    started = time.monotonic()
    account = await create(api)  # no provisioningProfileId: the sandbox answers 202 + Retry-After: 1 first
    assert time.monotonic() - started >= 0.9
    assert account.name == "Trader" and account.magic == 7 and account.state in ("DEPLOYING", "DEPLOYED")
    await account.wait_deployed(**FAST_WAIT)
    await account.wait_connected(**FAST_WAIT)
    assert account.state == "DEPLOYED" and account.connection_status == "CONNECTED"


async def test_state_actions_and_waits(api: MetaApi) -> None:
    account = await create(api)
    await account.wait_deployed(**FAST_WAIT)
    await account.undeploy()
    assert account.state in ("UNDEPLOYING", "UNDEPLOYED")
    await account.wait_undeployed(**FAST_WAIT)
    await account.deploy()
    await account.wait_deployed(**FAST_WAIT)
    await account.redeploy()
    await account.wait_connected(**FAST_WAIT)
    await account.update({"name": "Renamed", "server": "Sandbox-Demo", "magic": 9, "tags": ["x"]})
    assert (account.name, account.magic, account.tags) == ("Renamed", 9, ["x"])
    await account.enable_risk_management_api()
    await account.enable_metastats_api()
    assert account.risk_management_api_enabled is True and account.metastats_api_enabled is True
    await account.increase_reliability()
    assert account.reliability == "high"
    link = await account.create_configuration_link(3)
    assert "ttlInDays=3" in link
    await account.remove()
    await account.wait_removed(**FAST_WAIT)
    with pytest.raises(NotFoundException):
        await account.reload()


async def test_wait_times_out(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    with pytest.raises(TimeoutException, match="UNDEPLOYED"):
        await account.wait_undeployed(timeout_in_seconds=0.1, interval_in_milliseconds=20)


async def test_lists_with_filters_and_both_pagination_styles(api: MetaApi, sandbox: SandboxHandle) -> None:
    accounts_api = api.metatrader_account_api
    second = await create(api, name="Second")
    everything = await accounts_api.get_accounts_with_infinite_scroll_pagination()
    assert {a.id for a in everything} == {sandbox.account_id, second.id}
    page = await accounts_api.get_accounts_with_infinite_scroll_pagination({"limit": 1, "offset": 1})
    assert len(page) == 1
    found = await accounts_api.get_accounts_with_infinite_scroll_pagination({"query": "Second", "version": [5]})
    assert [a.id for a in found] == [second.id]
    states = {"limit": 1, "state": ["DEPLOYED", "DEPLOYING"]}
    classic = await accounts_api.get_accounts_with_classic_scroll_pagination(states)
    assert isinstance(classic, MetatraderAccountList) and classic.count == 2 and len(classic.items) == 1


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda a: a.get_account(""), "account_id"),
        (lambda a: a.get_account(42), "account_id"),
        (lambda a: a.get_accounts_with_infinite_scroll_pagination({"state": "BROKEN"}), "accounts_filter.state"),
        (lambda a: a.get_accounts_with_infinite_scroll_pagination({"limit": 0}), "accounts_filter.limit"),
        (lambda a: a.get_accounts_with_classic_scroll_pagination({"colour": "red"}), "accounts_filter.colour"),
        (lambda a: a.get_accounts_with_classic_scroll_pagination("all"), "accounts_filter"),
        (lambda a: a.create_account({**NEW_ACCOUNT, "platform": "mt6"}), "account.platform"),
        (lambda a: a.create_account({**NEW_ACCOUNT, "magic": "7"}), "account.magic"),
        (lambda a: a.create_account({"server": "x"}), "account.name"),
        (lambda a: a.get_account_replica("x", ""), "replica_id"),
    ],
)
async def test_bad_input_fails_before_sending(api: MetaApi, call, argument: str) -> None:
    with pytest.raises(ValidationException) as caught:
        await call(api.metatrader_account_api)
    assert caught.value.message.startswith(argument) and caught.value.details[0]["parameter"] == argument


async def test_replicas(api: MetaApi) -> None:
    account = await create(api)
    await account.wait_deployed(**FAST_WAIT)
    replica = await account.create_replica({"region": "new-york", "magic": 3})
    assert replica.region == "new-york" and replica.magic == 3 and replica.primary_account is account
    await replica.wait_deployed(**FAST_WAIT)
    await replica.wait_connected(**FAST_WAIT)
    assert [r.id for r in account.replicas] == [replica.id]
    fetched = await api.metatrader_account_api.get_account_replica(account.id, replica.id)
    assert fetched.id == replica.id and fetched.state == "DEPLOYED"
    assert [r.id for r in await api.metatrader_account_api.get_account_replicas(account.id)] == [replica.id]
    assert (await account.get_replica(replica.id)).magic == 3

    await replica.update({"magic": 11, "tags": ["r"]})
    assert (replica.magic, replica.tags) == (11, ["r"])
    await replica.increase_reliability()
    assert replica.reliability == "high"
    await replica.undeploy()
    await replica.wait_undeployed(**FAST_WAIT)
    await replica.deploy()
    await replica.redeploy()
    await replica.wait_connected(**FAST_WAIT)
    await account.wait_connected(**FAST_WAIT)
    await replica.remove()
    await replica.wait_removed(**FAST_WAIT)
    assert account.replicas == []
    with pytest.raises(ValidationException, match=r"replica\.region"):
        await account.create_replica({"magic": 1})


async def test_historical_market_data(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    end = datetime(2026, 11, 18, 8, tzinfo=UTC)
    candles = await account.get_historical_candles("EURUSD", "1h", end, limit=5)
    assert len(candles) == 5 and all(c["time"] <= end for c in candles)
    assert [c["time"] for c in candles] == sorted(c["time"] for c in candles)
    assert isinstance(candles[0]["brokerTime"], str)
    ticks = await account.get_historical_ticks("EURUSD", end, offset=0, limit=10)
    assert len(ticks) == 10 and all(t["time"] >= end for t in ticks)
    skipped = await account.get_historical_ticks("EURUSD", end, offset=3, limit=7)
    assert skipped == ticks[3:]
    with pytest.raises(ValidationException, match="limit"):
        await account.get_historical_candles("EURUSD", "1h", limit=1001)
    with pytest.raises(ValidationException, match="timeframe"):
        await account.get_historical_candles("EURUSD", "7m")
    with pytest.raises(ValidationException, match="start_time"):
        await account.get_historical_ticks("EURUSD", "2026-11-18")


async def test_connections_are_handed_out_without_sending_anything(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    assert type(account.get_streaming_connection()).__name__ == "StreamingMetaApiConnectionInstance"
    assert type(account.get_rpc_connection()).__name__ == "RpcMetaApiConnectionInstance"
    assert api.websocket_client.socket_count() == 0
