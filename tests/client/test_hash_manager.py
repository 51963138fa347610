"""TerminalHashManager: ignored field lists fetched from the sandbox and cached, item hashes with them."""

from __future__ import annotations

import asyncio

import pytest

from mtdata.client import MetaApi
from mtdata.client.state.hash_manager import IGNORED_FIELDS_TTL_SECONDS, TerminalHashManager
from mtdata.errors import NotFoundException
from mtdata.hashing import IGNORED_FIELDS, item_hash
from mtdata.sandbox.rest import client_api

II = "vint-hill:0:ps-mpa-1"
POSITION = {"id": "1", "type": "POSITION_TYPE_BUY", "symbol": "EURUSD", "magic": 0, "volume": 0.1, "profit": 3.5}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_ignored_field_lists_come_from_the_sandbox_and_are_cached_for_an_hour(api: MetaApi, monkeypatch) -> None:
    clock = Clock()
    manager = TerminalHashManager(api.context, clock=clock)
    assert manager.ignored_fields("vint-hill", "g2", "position") == frozenset()
    monkeypatch.setitem(client_api.IGNORED_FIELDS, "g2", {"specification": [], "position": ["profit"], "order": []})
    await asyncio.gather(*(manager.refresh_ignored_field_lists("vint-hill") for _ in range(3)))
    assert manager.ignored_fields("vint-hill", "g2", "position") == {"profit"}
    assert manager.ignored_fields("vint-hill", "g1", "position") == set(IGNORED_FIELDS["g1"]["position"])
    without_profit = {k: v for k, v in POSITION.items() if k != "profit"}
    assert manager.get_item_hash(POSITION, "position", "cloud-g2", "vint-hill") == item_hash(without_profit, "position")
    assert manager.get_item_hash(POSITION, "position", "cloud-g1", "vint-hill") == item_hash(
        POSITION, "position", "g1", IGNORED_FIELDS["g1"]["position"]
    )
    assert manager.get_item_hash(POSITION, "position", "cloud-g2", "new-york") == item_hash(POSITION, "position")
    # recorded collections are hashed with the lists of the stream's region
    assert manager.record_positions("acc", "cloud-g2", "h", II, [POSITION]) == item_hash(without_profit, "position")

    monkeypatch.setitem(client_api.IGNORED_FIELDS, "g2", {"specification": [], "position": ["volume"], "order": []})
    clock.now += IGNORED_FIELDS_TTL_SECONDS - 1
    await manager.refresh_ignored_field_lists("vint-hill")  # cached: no request
    assert manager.ignored_fields("vint-hill", "g2", "position") == {"profit"}
    clock.now += 2
    await manager.refresh_ignored_field_lists("vint-hill")
    assert manager.ignored_fields("vint-hill", "g2", "position") == {"volume"}


async def test_a_failed_refresh_raises_without_earlier_lists_and_keeps_them_otherwise(api: MetaApi, sandbox) -> None:
    lost = MetaApi.sandbox(sandbox.url + "/nowhere", sandbox.token)
    try:
        with pytest.raises(NotFoundException):
            await TerminalHashManager(lost.context).refresh_ignored_field_lists("vint-hill")
    finally:
        await lost.close()
    clock = Clock()
    manager = TerminalHashManager(api.context, clock=clock)
    await manager.refresh_ignored_field_lists("vint-hill")
    sandbox.stop()
    clock.now += IGNORED_FIELDS_TTL_SECONDS + 1
    await manager.refresh_ignored_field_lists("vint-hill")  # fails, logged: the earlier lists stay in use
    assert manager.ignored_fields("vint-hill", "g2", "order") == set(IGNORED_FIELDS["g2"]["order"])


async def test_collections_by_kind_and_by_seed_names() -> None:
    api = MetaApi.sandbox("http://127.0.0.1:9", "token")
    try:
        manager = TerminalHashManager(api.context)
        spec = {"symbol": "EURUSD", "digits": 5}
        spec_hash = manager.record_specifications("Broker-Demo", "cloud-g2", "h", II, [spec])
        assert manager.get_specifications_by_hash(spec_hash) == {"EURUSD": spec}
        assert manager.get_specifications_hashes_by_hash(spec_hash) == {"EURUSD": item_hash(spec, "specification")}
        assert manager.get_last_used_specification_hashes("Broker-Demo2") == [spec_hash]
        order = {"id": "7", "symbol": "EURUSD", "magic": 1}
        orders_hash = manager.record_orders("acc", "cloud-g2", "h", II, [order])
        assert manager.get_orders_by_hash(orders_hash) == {"7": order}
        assert manager.get_orders_hashes_by_hash(orders_hash) == {"7": item_hash(order, "order")}
        assert manager.get_last_used_order_hashes("acc") == [orders_hash]
        positions_hash = manager.record_positions("acc", "cloud-g2", "h", II, [POSITION])
        updated = manager.update("positions", "acc", "cloud-g2", "h", II, [], ["1"], positions_hash)
        assert updated is None and manager.get_positions_by_hash(positions_hash) == {"1": POSITION}
        assert manager.get_positions_hashes_by_hash(positions_hash) == {"1": item_hash(POSITION, "position")}
        assert manager.get_last_used_position_hashes("acc") == [positions_hash]
        manager.remove_connection_references("h")
        assert manager.prune() == 0  # unreferenced, but not 10 minutes old yet
    finally:
        await api.close()
