"""Packet ordering end to end: the sandbox swaps, duplicates or skips sequence numbers; the client copes (§7.6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_transport_helpers import Recorder, make_client_fixture, subscribed, synchronize  # noqa: F401

from mtdata.client.transport.websocket import WebsocketClient
from mtdata.sandbox import SandboxHandle

QUOTES = {"type": "subscribeToMarketData", "symbol": "EURUSD", "subscriptions": [{"type": "quotes"}]}


@pytest.fixture
def sandbox(mtdata_sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox with a fast market (a prices packet every streaming step) on a weekday."""
    return mtdata_sandbox_factory(speed=200, start="2026-11-18T09:00:00Z", deploy_delay=0.05)


async def streaming(client: WebsocketClient, box: SandboxHandle) -> Recorder:
    """Subscribe, synchronize and stream EURUSD quotes; returns the recorder once prices flow."""
    recorder = await subscribed(client, box.account_id)
    await synchronize(client, box.account_id, recorder)
    await client.request(box.account_id, QUOTES, instance_number=0)
    await recorder.wait_for("on_symbol_price_updated", 3)
    return recorder


def price_times(recorder: Recorder) -> list:
    return [args[1]["time"] for args in recorder.of("on_symbol_price_updated")]


async def test_swapped_packets_reach_listeners_in_order(make_client: Callable[..., WebsocketClient],
                                                        sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client(packetOrderingTimeout=30)
    recorder = await streaming(client, sandbox)
    seen = len(recorder.of("on_symbol_price_updated"))
    assert sandbox.server.faults.add_packet_fault(sandbox.account_id, "swap", 10) == 1
    await recorder.wait_for("on_symbol_price_updated", seen + 30)
    times = price_times(recorder)
    assert times == sorted(times)  # the orderer undid every swap
    assert len(recorder.of("on_connected")) == 1  # and no resynchronization was needed


async def test_duplicates_pass_and_the_stream_goes_on(make_client: Callable[..., WebsocketClient],
                                                      sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client(packetOrderingTimeout=30)
    recorder = await streaming(client, sandbox)
    seen = len(recorder.of("on_symbol_price_updated"))
    sandbox.server.faults.add_packet_fault(sandbox.account_id, "duplicate", 5)
    await recorder.wait_for("on_symbol_price_updated", seen + 30)
    times = price_times(recorder)
    assert times == sorted(times) and len(recorder.of("on_connected")) == 1


async def test_gap_forces_a_resubscription_and_no_state_is_lost(make_client: Callable[..., WebsocketClient],
                                                               sandbox: SandboxHandle) -> None:  # fmt: skip
    client = make_client(packetOrderingTimeout=0.5)
    recorder = await streaming(client, sandbox)
    sandbox.server.faults.add_packet_fault(sandbox.account_id, "skip", 1)
    # a trade during the gap: its update packet waits behind the missing number
    buy = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.01}
    result = await client.trade(sandbox.account_id, buy)
    await recorder.wait_for("on_connected", 2)  # the ordering timeout re-subscribed the stream
    assert not [a for a in recorder.of("on_position_updated") if a[1]["id"] == result["positionId"]]
    # the connection resynchronizes (what the streaming connection does on each on_connected)
    recorder.events.clear()
    await synchronize(client, sandbox.account_id, recorder)
    (positions,) = [args[1] for args in recorder.of("on_positions_replaced")]
    assert [p["id"] for p in positions] == [result["positionId"]]
    await recorder.wait_for("on_symbol_price_updated", 3)  # prices flow again after the new session
    times = price_times(recorder)
    assert times == sorted(times)
