"""TerminalState against the sandbox: the collection hashes the client computes are the ones the sandbox uses, so a
resynchronization skips unchanged collections; refresh_terminal_state over a real streaming connection."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from mtdata.client import MetaApi
from mtdata.client.dates import convert_dates
from mtdata.client.state.hash_manager import TerminalHashManager
from mtdata.client.state.terminal import TerminalState
from mtdata.errors import ValidationException
from mtdata.hashing import IGNORED_FIELDS, collection_hash, generation_of
from mtdata.sandbox import SandboxHandle

sys.path.insert(0, str(Path(__file__).parents[1] / "sandbox"))
from test_realtime_helpers import Wire

KINDS = {"specifications": "specification", "positions": "position", "orders": "order"}


async def trade(wire: Wire, **fields: Any) -> None:
    response = (await wire.ok("trade", trade=fields))["response"]
    assert response["stringCode"] in ("TRADE_RETCODE_DONE", "TRADE_RETCODE_PLACED"), response


async def feed(state: TerminalState, stream: str, packets: list[dict[str, Any]], offered: dict[str, list[str]]) -> None:
    """Hand a synchronization's packets to the terminal state as the client's packet layer would (dates converted)."""
    for packet in map(convert_dates, copy.deepcopy(packets)):
        kind, sync_id = packet["type"], packet.get("synchronizationId", "")
        if kind == "synchronizationStarted":
            reused = [
                offered[f"{name}Hashes"][packet[f"{name}HashIndex"]] if f"{name}HashIndex" in packet else None
                for name in KINDS
            ]
            await state.on_synchronization_started(stream, *reused, sync_id)
        elif kind == "accountInformation":
            await state.on_account_information_updated(stream, packet["accountInformation"])
        elif kind == "specifications":
            await state.on_symbol_specifications_updated(stream, packet["specifications"], packet["removedSymbols"])
        elif kind == "positions":
            await state.on_positions_replaced(stream, packet["positions"])
            await state.on_positions_synchronized(stream, sync_id)
        elif kind == "orders":
            await state.on_pending_orders_replaced(stream, packet["orders"])
            await state.on_pending_orders_synchronized(stream, sync_id)
    # collections matched by hash come with no packet: their phases complete with the account information
    if not any(p["type"] == "orders" for p in packets):
        await state.on_positions_synchronized(stream, sync_id)
        await state.on_pending_orders_synchronized(stream, sync_id)


async def test_client_hashes_equal_the_sandbox_hashes_so_a_resync_skips_unchanged_collections(
    sandbox: SandboxHandle, api: MetaApi, sio_connect
) -> None:
    # no price freeze: the fields that move with the price are in the ignored lists on both sides
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    wire = await Wire.connect(sio_connect, sandbox)
    authenticated = await wire.subscribe()
    await wire.synchronize()
    await trade(wire, actionType="ORDER_TYPE_BUY", symbol="EURUSD", volume=0.1, comment="élan")
    await trade(wire, actionType="ORDER_TYPE_SELL", symbol="GBPUSD", volume=0.2, stopLoss=2.0, magic=7)
    await trade(wire, actionType="ORDER_TYPE_BUY_LIMIT", symbol="EURUSD", volume=0.3, openPrice=0.9)

    manager = TerminalHashManager(api.context)
    await manager.refresh_ignored_field_lists(account.region)
    state = TerminalState(account.id, account.type, account.server, manager)
    stream = f"{account.region}:0:{authenticated['host']}"
    _, first = await wire.synchronize()
    await feed(state, stream, first, {})
    sent = {name: next(p for p in first if p["type"] == name)[name] for name in KINDS}
    assert len(sent["positions"]) == 2 and len(sent["orders"]) == 1 and len(sent["specifications"]) > 3
    generation = generation_of(account.type)
    offered = state.get_hashes()
    for name, kind in KINDS.items():
        ignored = IGNORED_FIELDS[generation][kind]
        assert offered[f"{name}Hashes"] == [collection_hash(sent[name], kind, generation, ignored)], name  # type: ignore[arg-type]
    before = (state.specifications, state.positions, state.orders)

    _, second = await wire.synchronize(**offered)
    started = second[0]
    assert [started.get(f"{name}HashIndex") for name in KINDS] == [0, 0, 0]
    assert not {"specifications", "positions", "orders"} & {p["type"] for p in second}
    await feed(state, stream, second, offered)
    assert (state.specifications, state.positions, state.orders) == before
    assert (
        state.account_information["balance"]
        == next(p for p in second if p["type"] == "accountInformation")["accountInformation"]["balance"]
    )


async def test_refresh_terminal_state_waits_for_the_streamed_symbols(sandbox: SandboxHandle, api: MetaApi) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    connection = account.get_streaming_connection()
    await connection.connect()
    try:
        await connection.wait_synchronized({"timeoutInSeconds": 60})
        terminal = connection.terminal_state
        await terminal.refresh_terminal_state()  # nothing streamed yet: the server names no symbol
        await connection.subscribe_to_market_data("GBPUSD")
        first = terminal.price("GBPUSD")
        assert first is not None
        await terminal.refresh_terminal_state({"timeoutInSeconds": 30})
        assert terminal.price("GBPUSD") is not first and terminal.price("GBPUSD")["time"] >= first["time"]
        with pytest.raises(ValidationException):
            await terminal.refresh_terminal_state({"timeout": 1})
        with pytest.raises(ValidationException):
            await terminal.refresh_terminal_state({"timeoutInSeconds": -1})
        positions = terminal.positions
        assert positions == [] and terminal.account_information["balance"] > 0
    finally:
        await connection.close()
