"""The models describe what the client really returns: every key the sandbox sends is a field of its model."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Any

from test_streaming_helpers import rpc_connection, streaming_connection

import mtdata.client
from mtdata.client import MetaApi, models
from mtdata.sandbox import SandboxHandle

#: Keys the sandbox sends that are not protocol fields (the broker connection state in account information).
SANDBOX_EXTRAS = {"MetatraderAccountInformation": {"connected"}}


def assert_fields(model: Any, records: list[dict[str, Any]]) -> None:
    """Every key of every record is declared by ``model`` (at least one record is checked)."""
    assert records, f"no {model.__name__} to check"
    declared = set(typing.get_type_hints(model))
    for record in records:
        extra = set(record) - declared - SANDBOX_EXTRAS.get(model.__name__, set())
        assert not extra, f"{model.__name__} lacks {sorted(extra)}"


def test_models_are_exported_from_both_modules() -> None:
    for name in models.__all__:
        if name != "SEED_TYPE_DIFFERENCES":
            assert getattr(mtdata.client, name) is getattr(models, name), name
            assert typing.is_typeddict(getattr(models, name)), name
    assert typing.get_type_hints(models.MetatraderSession) == {"from": str, "to": str}


async def test_records_from_the_sandbox_match_their_models(api: MetaApi, sandbox: SandboxHandle) -> None:
    streaming = await streaming_connection(api, sandbox.account_id)
    rpc = await rpc_connection(api, sandbox.account_id)
    await streaming.create_market_buy_order("EURUSD", 0.1, stop_loss={"value": 500, "units": "RELATIVE_POINTS"})
    price = await rpc.get_symbol_price("EURUSD")
    result = await rpc.create_limit_buy_order("EURUSD", 0.1, round(price["bid"] * 0.98, 5))
    assert_fields(models.MetatraderTradeResponse, [result])
    assert_fields(models.MetatraderAccountInformation, [await rpc.get_account_information()])
    assert_fields(models.MetatraderPosition, await rpc.get_positions())
    assert_fields(models.MetatraderOrder, await rpc.get_orders())
    since, now = datetime(2000, 1, 1), datetime.now(UTC)
    assert_fields(models.MetatraderDeal, (await rpc.get_deals_by_time_range(since, now))["deals"])
    assert_fields(models.MetatraderOrder, (await rpc.get_history_orders_by_time_range(since, now))["historyOrders"])
    assert_fields(models.MetatraderSymbolSpecification, [await rpc.get_symbol_specification("EURUSD")])
    assert_fields(models.MetatraderSymbolPrice, [price])
    assert_fields(models.MetatraderCandle, [await rpc.get_candle("EURUSD", "1m")])
    assert_fields(models.MetatraderTick, [await rpc.get_tick("EURUSD")])
    book = await rpc.get_book("EURUSD")
    assert_fields(models.MetatraderBook, [book])
    assert_fields(models.MetatraderBookEntry, book["book"])
    assert_fields(models.ServerTime, [await rpc.get_server_time()])
    assert_fields(models.MetatraderCandle, await rpc.get_historical_candles("EURUSD", "1h", limit=5))
    assert_fields(models.MetatraderTick, await rpc.get_historical_ticks("EURUSD", limit=5))
    state = streaming.terminal_state
    assert_fields(models.MetatraderPosition, state.positions)
    assert_fields(models.MetatraderOrder, state.orders)
    assert_fields(models.MetatraderAccountInformation, [state.account_information])
    assert_fields(models.ConnectionHealthStatus, [streaming.health_monitor.health_status])
    assert_fields(models.MetatraderDeal, streaming.history_storage.deals)
    sessions = state.specification("EURUSD")["tradeSessions"]
    assert_fields(models.MetatraderSessions, [sessions])
    assert_fields(models.MetatraderSession, [entry for day in sessions.values() for entry in day])
