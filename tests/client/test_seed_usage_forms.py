"""The call forms of the seed's usage document: awaited connections, ``timeout=``, options dicts for history,
``is_connected()`` with and without ``await``, and the document's market-data subscription shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mtdata.client import MetaApi
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle

START = datetime(2026, 11, 17, 12)  # naive: UTC


async def test_connections_can_be_awaited_or_not(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(account_id=sandbox.account_id)
    awaited = await account.get_streaming_connection()
    plain = account.get_streaming_connection()
    assert type(awaited) is type(plain) and awaited.connection is plain.connection
    assert await awaited is awaited
    rpc = await account.get_rpc_connection()
    await rpc.connect()
    await rpc.wait_synchronized(timeout=60)
    assert await rpc.is_connected() and rpc.is_connected()
    await awaited.connect()
    await awaited.wait_synchronized(timeout=60)
    await awaited.wait_connected(timeout=60)
    assert await awaited.is_connected() is True and await awaited.is_synchronized() is True
    assert awaited.is_connected() and awaited.is_synchronized() == True  # noqa: E712 - without await, as the document
    with pytest.raises(ValidationException, match=r"timeout repeats options\.timeoutInSeconds"):
        await awaited.wait_synchronized({"timeoutInSeconds": 5}, timeout=6)
    with pytest.raises(ValidationException, match="timeout repeats timeout_in_seconds"):
        await awaited.wait_connected(5, timeout=6)
    with pytest.raises(ValidationException, match="timeout repeats timeout_in_seconds"):
        await rpc.wait_synchronized(10, timeout=20)
    await rpc.wait_synchronized(300, timeout=300)  # the same value under both names
    with pytest.raises(ValidationException, match="timeout_in_seconds must be >= 0"):
        await rpc.wait_synchronized(timeout=-1)
    await awaited.close()
    await rpc.close()
    assert not rpc.is_connected()


async def test_history_options_dicts_equal_the_positional_form(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = await account.get_rpc_connection()
    await connection.connect()
    aware = START.replace(tzinfo=UTC)
    for source in (account, connection):
        candles = await source.get_historical_candles("EURUSD", {"timeframe": "1h", "start": START, "limit": 10})
        assert candles == await source.get_historical_candles("EURUSD", "1h", aware, 10)
        assert len(candles) == 10 and candles[-1]["time"] <= aware
        ticks = await source.get_historical_ticks("EURUSD", {"start": START, "offset": 5, "limit": 20})
        assert ticks == await source.get_historical_ticks("EURUSD", aware, 5, 20)
        assert len(ticks) == 20 and ticks[0]["time"] >= aware
        assert ticks[:15] == (await source.get_historical_ticks("EURUSD", {"startTime": START, "limit": 20}))[5:]
    await connection.close()


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda a: a.get_historical_candles("EURUSD", {"timeframe": "1h", "from": START}), "options.from is not"),
        (lambda a: a.get_historical_candles("EURUSD", {"timeframe": "7h"}), "options.timeframe must be one of"),
        (lambda a: a.get_historical_candles("EURUSD", {"timeframe": "1h", "limit": 1001}), "options.limit must be <="),
        (lambda a: a.get_historical_candles("EURUSD", {"timeframe": "1h", "start": "2023"}), "options.start must be"),
        (lambda a: a.get_historical_candles("EURUSD", {"timeframe": "1h"}, START), "options already holds"),
        (lambda a: a.get_historical_ticks("EURUSD", {"start": START}, 0, 10), "options already holds"),
        (lambda a: a.get_historical_ticks("EURUSD", {"start": START, "startTime": START + timedelta(hours=1)}),
         "options.startTime repeats options.start"),
        (lambda a: a.get_historical_ticks("EURUSD", {"start": START, "offset": -1}), "options.offset must be >= 0"),
    ],
)
async def test_bad_history_options_are_refused(api: MetaApi, sandbox: SandboxHandle, call, error: str) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    with pytest.raises(ValidationException, match=error):
        await call(account)


async def test_the_documents_subscription_shapes(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = await account.get_streaming_connection()
    await connection.connect()
    await connection.wait_synchronized()
    await connection.subscribe_to_market_data("EURUSD", {"type": "candles", "timeframe": "1m"})
    await connection.subscribe_to_market_data("EURUSD", {"type": "ticks"})
    await connection.subscribe_to_market_data("EURUSD", {"type": "books"})
    assert connection.subscriptions("EURUSD") == [
        {"type": "candles", "timeframe": "1m"}, {"type": "ticks"}, {"type": "marketDepth"}
    ]
    every = {"type": ["ticks", "candles", "books"], "timeframes": ["1m", "5m"]}
    await connection.subscribe_to_market_data("GBPUSD", every)
    assert connection.subscriptions("GBPUSD") == [
        {"type": "ticks"}, {"type": "candles", "timeframe": "1m"}, {"type": "candles", "timeframe": "5m"},
        {"type": "marketDepth"},
    ]
    await connection.subscribe_to_market_data("USDJPY", [{"type": "quotes"}, {"type": "books"}])
    assert connection.subscriptions("USDJPY") == [{"type": "quotes"}, {"type": "marketDepth"}]
    await connection.unsubscribe_from_market_data("EURUSD")
    await connection.refresh_market_data_subscriptions()
    await connection.unsubscribe_from_all_market_data()
    assert connection.subscribed_symbols() == []
    await connection.close()
