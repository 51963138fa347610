"""PacketProcessor: synchronization packets in, listener calls out (protocol §7.1-§7.6), without a socket."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_transport_helpers import Recorder

from mtdata.client.listeners import LatencyListener
from mtdata.client.options import ThrottlerOpts
from mtdata.client.transport.packets import PacketProcessor
from mtdata.client.transport.subscriptions import SubscriptionManager, Timers
from mtdata.client.transport.throttle import SynchronizationThrottler

ACC = "acc"
II = "vint-hill:0:ps-mpa-0"
TIMERS = Timers(subscribe_retry_start=10, status_timeout=0.1, disconnected_resubscribe=(0.0, 0.01))


class Latency(LatencyListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def on_symbol_price(self, account_id: str, symbol: str, timestamps: dict[str, Any]) -> None:
        self.calls.append(("price", dict(timestamps)))

    async def on_update(self, account_id: str, timestamps: dict[str, Any]) -> None:
        self.calls.append(("update", dict(timestamps)))


class Harness:
    """A processor for account ``acc`` (region vint-hill, instances 0 and 1) with a recorder and latency listener."""

    def __init__(self, session: str = "sess", timers: Timers = TIMERS) -> None:
        self.subscribes: list[tuple[str, int]] = []
        self.subscriptions = SubscriptionManager(self._send, timers)
        self.latency = Latency()
        self.throttler = SynchronizationThrottler(ThrottlerOpts())
        self.processor = PacketProcessor(self.subscriptions, timers, 0.1, lambda a, i: session, self.throttler,
                                         self.latency)  # fmt: skip
        self.processor.track(ACC, "vint-hill", (0, 1))
        self.recorder = Recorder()
        self.processor.listeners.add(ACC, self.recorder)
        self.number = 0
        self.stamp = 1000
        self.session = False  # numbered packets only after a synchronizationStarted, as servers do

    async def _send(self, account_id: str, instance_number: int) -> None:
        self.subscribes.append((account_id, instance_number))

    async def feed(self, kind: str, numbered: bool | None = None, **fields: Any) -> None:
        """Receive one packet of stream ``acc:0:ps-mpa-0`` (numbered once a synchronization started)."""
        packet = {"type": kind, "accountId": ACC, "instanceIndex": 0, "host": "ps-mpa-0", **fields}
        self.session = self.session or kind == "synchronizationStarted"
        if self.session if numbered is None else numbered:
            self.number += 1
            self.stamp += 1
            packet.update(sequenceNumber=self.number, sequenceTimestamp=self.stamp)
        await self.processor.receive(packet)

    async def synchronize(self, sync_id: str = "s1", **hashes: list[str]) -> None:
        self.processor.start_synchronization(ACC, 0, "ps-mpa-0", {"requestId": sync_id, **hashes})

    async def close(self) -> None:
        self.throttler.close()
        await self.subscriptions.close()
        await self.processor.close()


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    await harness.feed("authenticated", numbered=False, replicas=1, sessionId="sess")
    yield harness
    await harness.close()


def deal(ticket: str) -> dict[str, Any]:
    return {"id": ticket, "type": "DEAL_TYPE_BUY", "time": "2026-11-18T09:00:00.000Z"}


async def full_sync(h: Harness, sync_id: str = "s1", update_inside: dict[str, Any] | None = None) -> None:
    await h.synchronize(sync_id)
    await h.feed("synchronizationStarted", synchronizationId=sync_id)
    await h.feed("accountInformation", synchronizationId=sync_id, accountInformation={"balance": 100})
    await h.feed("specifications", synchronizationId=sync_id, specifications=[{"symbol": "EURUSD"}],
                 removedSymbols=["OLD"])  # fmt: skip
    await h.feed("positions", synchronizationId=sync_id, positions=[{"id": "1", "time": "2026-11-18T09:00:00Z"}])
    if update_inside:
        await h.feed("update", **update_inside)
    await h.feed("orders", synchronizationId=sync_id, orders=[])
    await h.feed(
        "historyOrders", synchronizationId=sync_id, historyOrders=[{"id": "7", "doneTime": "2026-11-18T08:00:00Z"}]
    )
    await h.feed("orderSynchronizationFinished", synchronizationId=sync_id)
    await h.feed("deals", synchronizationId=sync_id, deals=[deal("8"), deal("9")])
    await h.feed("dealSynchronizationFinished", synchronizationId=sync_id)


async def test_authenticated_connects_and_stops_subscribing(h: Harness) -> None:
    assert h.recorder.of("on_connected") == [(II, 1)]
    assert h.processor.connected == {ACC: {II: 0}}


async def test_authenticated_with_another_session_only_resets_the_timer() -> None:
    harness = Harness(session="current")
    await harness.feed("authenticated", numbered=False, replicas=1, sessionId="old")
    assert harness.recorder.of("on_connected") == [] and not harness.processor.connected.get(ACC)
    await harness.close()


async def test_full_synchronization_sequence(h: Harness) -> None:
    await full_sync(h)
    expected = [
        ("on_synchronization_started", (II, None, None, None, "s1")),
        ("on_account_information_updated", (II, {"balance": 100})),
        ("on_symbol_specifications_updated", (II, [{"symbol": "EURUSD"}], ["OLD"])),
        ("on_symbol_specification_updated", (II, {"symbol": "EURUSD"})),
        ("on_symbol_specification_removed", (II, "OLD")),
        ("on_positions_replaced", (II, [h.recorder.of("on_positions_replaced")[0][1][0]])),
        ("on_positions_synchronized", (II, "s1")),
        ("on_pending_orders_replaced", (II, [])),
        ("on_pending_orders_synchronized", (II, "s1")),
        ("on_history_order_added", (II, h.recorder.of("on_history_order_added")[0][1])),
        ("on_history_orders_synchronized", (II, "s1")),
        ("on_deal_added", (II, h.recorder.of("on_deal_added")[0][1])),
        ("on_deal_added", (II, h.recorder.of("on_deal_added")[1][1])),
        ("on_deals_synchronized", (II, "s1")),
    ]
    assert h.recorder.events[1:] == expected
    position = h.recorder.of("on_positions_replaced")[0][1][0]
    assert position["time"].year == 2026  # dates converted before listeners run


async def test_hash_indexes_complete_phases_with_account_information(h: Harness) -> None:
    await h.synchronize("s1", specificationsHashes=["a", "b"], positionsHashes=["p"], ordersHashes=["o0", "o1"])
    await h.feed("synchronizationStarted", synchronizationId="s1", specificationsHashIndex=1, positionsHashIndex=0,
                 ordersHashIndex=1)  # fmt: skip
    await h.feed("accountInformation", synchronizationId="s1", accountInformation={"balance": 1})
    names = h.recorder.names()
    assert h.recorder.of("on_synchronization_started") == [(II, "b", "p", "o1", "s1")]
    assert names[-3:] == ["on_account_information_updated", "on_positions_synchronized",
                          "on_pending_orders_synchronized"]  # fmt: skip


async def test_positions_hash_only_completes_positions(h: Harness) -> None:
    await h.synchronize("s1", positionsHashes=["p"])
    await h.feed("synchronizationStarted", synchronizationId="s1", positionsHashIndex=0)
    await h.feed("accountInformation", synchronizationId="s1", accountInformation={"balance": 1})
    assert h.recorder.names()[-1] == "on_positions_synchronized"
    await h.feed("orders", synchronizationId="s1", orders=[])
    assert h.recorder.names()[-2:] == ["on_pending_orders_replaced", "on_pending_orders_synchronized"]


async def test_packets_of_an_inactive_synchronization_are_ignored(h: Harness) -> None:
    await full_sync(h, "s1")
    before = len(h.recorder.events)
    await h.feed("deals", synchronizationId="s1", deals=[deal("10")])  # s1 finished: inactive
    await h.feed("positions", synchronizationId="never-sent", positions=[])
    assert len(h.recorder.events) == before
    await h.feed("deals", deals=[deal("11")])  # no id: a real-time packet
    assert h.recorder.of("on_deal_added")[-1][1]["id"] == "11"


async def test_newer_synchronize_supersedes_the_previous_one(h: Harness) -> None:
    await h.synchronize("s1")
    await h.feed("synchronizationStarted", synchronizationId="s1")
    await h.synchronize("s2")
    await h.feed("positions", synchronizationId="s1", positions=[])
    assert "on_positions_replaced" not in h.recorder.names()


async def test_updates_during_synchronization_are_replayed_after_it(h: Harness) -> None:
    update = {"updatedPositions": [{"id": "5"}], "deals": [deal("20")],
              "timestamps": {"eventGenerated": "2026-11-18T09:00:00Z"}}  # fmt: skip
    await full_sync(h, update_inside=update)
    names = h.recorder.names()
    assert [a[1]["id"] for a in h.recorder.of("on_position_updated")] == ["5", "5"]
    assert names.index("on_deals_synchronized") < len(names) - 1 - names[::-1].index("on_position_updated")
    assert [c[0] for c in h.latency.calls] == ["update"]  # latency once, not on the replay
    await h.feed("update", updatedPositions=[{"id": "6"}])
    assert [a[1]["id"] for a in h.recorder.of("on_position_updated")] == ["5", "5", "6"]


async def test_update_events_in_spec_order(h: Harness) -> None:
    await h.feed("update", accountInformation={"balance": 2}, updatedPositions=[{"id": "1"}], removedPositionIds=["2"],
                 updatedOrders=[{"id": "3"}], completedOrderIds=["4"], historyOrders=[{"id": "5"}],
                 deals=[deal("6")])  # fmt: skip
    assert h.recorder.names()[1:] == [
        "on_account_information_updated", "on_positions_updated", "on_position_updated", "on_position_removed",
        "on_pending_orders_updated", "on_pending_order_updated", "on_pending_order_completed",
        "on_history_order_added", "on_deal_added",
    ]  # fmt: skip
    await h.feed("update")
    assert h.recorder.names()[-1] == "on_positions_updated"  # always, even empty
    assert h.recorder.of("on_positions_updated")[-1] == (II, [], [])


async def test_stale_deal_synchronization_finished_clears_the_mapping(h: Harness) -> None:
    h.processor.start_synchronization(ACC, 0, "other-host", {"requestId": "s1"})  # active, for another stream
    await h.synchronize("s2")
    await h.feed("synchronizationStarted", synchronizationId="s2")
    await h.feed("dealSynchronizationFinished", synchronizationId="s1")  # stale for this stream
    await h.feed("positions", synchronizationId="s2", positions=[])
    assert "on_deals_synchronized" not in h.recorder.names()
    assert "on_positions_replaced" not in h.recorder.names()  # the stream's current id was cleared


async def test_prices_candles_ticks_books_and_latency(h: Harness) -> None:
    when = "2026-11-18T09:00:00Z"
    price = {"symbol": "EURUSD", "bid": 1.1, "ask": 1.2, "time": when,
             "timestamps": {"eventGenerated": when, "serverProcessingFinished": when}}  # fmt: skip
    await h.feed("prices", prices=[price], candles=[{"symbol": "EURUSD"}], ticks=[{"symbol": "EURUSD"}],
                 books=[{"symbol": "EURUSD"}], equity=10.0, margin=1.0, freeMargin=9.0, marginLevel=1000.0)  # fmt: skip
    assert h.recorder.names()[1:] == ["on_symbol_prices_updated", "on_candles_updated", "on_ticks_updated",
                                      "on_books_updated", "on_symbol_price_updated"]  # fmt: skip
    assert h.recorder.of("on_symbol_prices_updated")[0][2:] == (10.0, 1.0, 9.0, 1000.0, None)
    ((kind, stamps),) = h.latency.calls
    assert kind == "price" and "clientProcessingFinished" in stamps and stamps["eventGenerated"].year == 2026


async def test_status_drives_broker_state_and_health(h: Harness) -> None:
    await h.feed("status", numbered=False, connected=False, authenticated=True, healthStatus={"rpcApiHealthy": True})
    assert h.recorder.names()[-2:] == ["on_broker_connection_status_changed", "on_health_status"]
    assert h.recorder.of("on_broker_connection_status_changed") == [(II, False)]


async def test_status_silence_counts_as_disconnection(h: Harness) -> None:
    await h.recorder.wait_for("on_disconnected", timeout=5)
    assert h.recorder.names()[-2:] == ["on_disconnected", "on_stream_closed"]
    assert not h.processor.connected[ACC]
    assert h.subscriptions.is_disconnected_retry_mode(ACC, 0)
    await h.recorder.until(lambda: (ACC, 0) in h.subscribes, timeout=5)


async def test_status_keeps_the_stream_alive() -> None:
    # statuses every 0.1 s for twice the status timeout: the stream outlives the timeout only if each status
    # restarts it. A timeout of 0.5 s (not the harness's 0.1 s) leaves 0.4 s for a loaded machine to stall
    # between two statuses (a 0.1 s timeout and 0.04 s steps failed on any stall over 60 ms)
    h = Harness(timers=dataclasses.replace(TIMERS, status_timeout=0.5))
    try:
        await h.feed("authenticated", numbered=False, replicas=1, sessionId="sess")
        for _ in range(10):
            await asyncio.sleep(0.1)
            await h.feed("status", numbered=False, connected=True, authenticated=True)
        assert h.recorder.of("on_connected") and "on_disconnected" not in h.recorder.names()
    finally:
        await h.close()


async def test_disconnected_packet_closes_the_stream_and_resubscribes(h: Harness) -> None:
    await full_sync(h)
    await h.feed("disconnected", numbered=False)
    assert h.recorder.names()[-2:] == ["on_disconnected", "on_stream_closed"]
    assert h.processor.connected[ACC] == {}
    await h.recorder.until(lambda: {(ACC, 0), (ACC, 1)} <= set(h.subscribes), timeout=5)
    # the stream's ordering state was reset: numbered packets now wait for a new synchronizationStarted
    await h.feed("deals", deals=[deal("30")])
    assert h.recorder.of("on_deal_added")[-1][1]["id"] != "30"


async def test_status_of_a_lost_stream_restarts_subscribing(h: Harness) -> None:
    await h.feed("disconnected", numbered=False)
    h.subscriptions.cancel_account(ACC)
    h.subscribes.clear()
    await h.feed("status", numbered=False, connected=True, authenticated=True)
    await h.recorder.until(lambda: (ACC, 0) in h.subscribes, timeout=5)


async def test_downgrade_subscription(h: Harness) -> None:
    await h.feed("downgradeSubscription", symbol="EURUSD", updates=[{"type": "quotes", "intervalInMilliseconds": 5000}],
                 unsubscriptions=[{"type": "books"}])  # fmt: skip
    assert h.recorder.of("on_subscription_downgraded") == [
        (II, "EURUSD", [{"type": "quotes", "intervalInMilliseconds": 5000}], [{"type": "books"}])
    ]


async def test_out_of_order_timeout_resubscribes(h: Harness) -> None:
    await full_sync(h)
    h.number += 1  # a packet lost on the wire
    await h.feed("deals", deals=[deal("40")])
    assert "40" not in [a[1]["id"] for a in h.recorder.of("on_deal_added")]
    await h.recorder.until(lambda: (ACC, 0) in h.subscribes, timeout=5)


async def test_untracked_accounts_and_removed_listeners_get_nothing(h: Harness) -> None:
    other = Recorder()
    h.processor.listeners.add("other", other)
    await h.processor.receive({"type": "deals", "accountId": "other", "deals": [deal("1")]})
    assert other.events == []
    h.processor.listeners.remove(ACC, h.recorder)
    await h.feed("deals", deals=[deal("2")])
    assert "on_deal_added" not in h.recorder.names()


async def test_listeners_only_get_what_they_override(h: Harness) -> None:
    class OnlyDeals:
        def __init__(self) -> None:
            self.deals: list[str] = []

        async def on_deal_added(self, instance_index: str, deal: dict[str, Any]) -> None:
            self.deals.append(deal["id"])

    only = OnlyDeals()
    h.processor.listeners.add(ACC, only)  # duck-typed listeners work too
    await full_sync(h)
    assert only.deals == ["8", "9"]
