"""The seed's parameter names work as keywords and positionally; the official SDK's names still work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mtdata.client import MemoryHistoryStorage, MetaApi, ReferenceTree, TerminalHashManager
from mtdata.errors import ValidationException
from mtdata.sandbox import SandboxHandle

II = "vint-hill:1:ps-mpa-1"
SPEC = {"symbol": "EURUSD", "digits": 5}
T = datetime(2026, 3, 2, 12, tzinfo=UTC)


async def test_history_storage_times_take_instance_index_or_instance_number() -> None:
    storage = MemoryHistoryStorage()
    await storage.initialize("acc", "MetaApi")
    await storage.on_deal_added(II, {"id": "1", "type": "DEAL_TYPE_BUY", "time": T, "positionId": "7"})
    await storage.on_history_order_added(II, {"id": "2", "type": "ORDER_TYPE_BUY", "doneTime": T})
    for ask in (storage.last_deal_time, storage.last_history_order_time):
        assert await ask(II) == T and await ask(instance_index=II) == T and await ask(instance_index=1) == T
        assert await ask(instance_number=1) == T and await ask(instance_number=0) is None
        assert await ask(II, instance_number=1) == T  # the same instance under both names
        with pytest.raises(ValidationException, match="instance_number repeats instance_index"):
            await ask(II, instance_number=0)
        with pytest.raises(ValidationException, match="instance_number must be"):
            await ask(instance_number=1.5)  # type: ignore[arg-type]


def test_specifications_by_hash_under_the_seed_and_official_names(api: MetaApi) -> None:
    manager = TerminalHashManager(api.context)
    recorded = manager.record_specifications("server", "cloud-g2", "connection-1", II, [SPEC])
    assert recorded is not None
    expected = {"EURUSD": SPEC}
    assert manager.get_specifications_by_hash(recorded) == expected
    assert manager.get_specifications_by_hash(specification_hash=recorded) == expected
    assert manager.get_specifications_by_hash(specifications_hash=recorded) == expected
    with pytest.raises(ValidationException, match="specifications_hash"):
        manager.get_specifications_by_hash(recorded, specifications_hash="0" * 32)


def test_record_items_takes_connection_id() -> None:
    tree = ReferenceTree(lambda item, account_type, region: f"{int(item['id']):032x}", "id")
    recorded = tree.record_items(category_name="acc", account_type=None, connection_id="c1", instance_index=II,
                                 items=[{"id": "5"}])  # fmt: skip
    assert tree.get_items_by_hash(recorded) == {"5": {"id": "5"}}
    tree.remove_reference("c1")  # the reference was held under the connection id


async def test_registry_removes_connections_by_account(api: MetaApi, sandbox: SandboxHandle) -> None:
    account = await api.metatrader_account_api.get_account(sandbox.account_id)
    registry = api.connection_registry
    streaming, rpc = account.get_streaming_connection(), account.get_rpc_connection()
    await streaming.connect()
    await rpc.connect()
    await registry.remove_streaming(account)
    assert api.websocket_client.is_subscribed(account.id)  # the RPC connection still needs the account
    await registry.remove_rpc(account=account)
    assert not api.websocket_client.is_subscribed(account.id)
    # both were forgotten: the account gets new connections
    assert account.get_streaming_connection().connection is not streaming.connection
    assert account.get_rpc_connection().connection is not rpc.connection
    with pytest.raises(ValidationException, match="account must be"):
        await registry.remove_rpc("not an account")  # type: ignore[arg-type]
    await streaming.close()
    await rpc.close()
