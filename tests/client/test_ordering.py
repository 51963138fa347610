"""The packet orderer, one test per row of the protocol's §7.6 table (plus resets and limits)."""

from __future__ import annotations

import asyncio
from typing import Any

from mtdata.client.transport.ordering import WAIT_LIST_LIMIT, PacketOrderer


def packet(number: int | None, stamp: int = 1000, kind: str = "prices", sync: str | None = None,
           account: str = "acc", instance: int = 0, host: str = "ps-mpa-0") -> dict[str, Any]:  # fmt: skip
    """A synchronization packet of the stream (account, instance, host)."""
    out: dict[str, Any] = {"type": kind, "accountId": account, "instanceIndex": instance, "host": host, "n": number}
    if number is not None:
        out.update(sequenceNumber=number, sequenceTimestamp=stamp)
    if sync:
        out["synchronizationId"] = sync
    return out


def numbers(packets: list[dict[str, Any]]) -> list[int | None]:
    return [p["n"] for p in packets]


class Events:
    """Collects out-of-order callbacks."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int, int]] = []

    def __call__(self, account: str, instance: int, expected: int, actual: int, packet: dict[str, Any]) -> None:
        self.calls.append((account, instance, expected, actual))


def started(orderer: PacketOrderer, number: int = 1, stamp: int = 1000, sync: str = "s1") -> list[Any]:
    return numbers(orderer.restore_order(packet(number, stamp, "synchronizationStarted", sync)))


async def test_unnumbered_packets_pass_through() -> None:
    orderer = PacketOrderer(Events())
    assert numbers(orderer.restore_order(packet(None))) == [None]


async def test_synchronization_started_with_newer_timestamp_starts_a_session() -> None:
    orderer = PacketOrderer(Events())
    assert started(orderer, 10, 1000) == [10]
    assert numbers(orderer.restore_order(packet(11, 1001))) == [11]
    # a new session: expected number reset to its number, even lower than before
    assert started(orderer, 3, 2000, "s2") == [3]
    assert numbers(orderer.restore_order(packet(4, 2000))) == [4]


async def test_new_session_discards_older_waiting_packets_and_releases_following_ones() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    assert orderer.restore_order(packet(5, 1500)) == []  # gap of the old session: waits
    assert orderer.restore_order(packet(8, 2000)) == []  # newer than the next session start: waits
    assert orderer.restore_order(packet(9, 2001)) == []
    assert started(orderer, 7, 2000, "s2") == [7, 8, 9]
    assert orderer.waiting(("acc", 0, "ps-mpa-0")) == 0


async def test_synchronization_started_with_equal_timestamp_is_not_a_new_session() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    assert started(orderer, 5, 1000, "s2") == []  # not newer: an ordinary packet with a gap, so it waits
    assert numbers(orderer.restore_order(packet(2, 1000))) == [2]


async def test_packets_older_than_the_session_are_dropped() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    assert orderer.restore_order(packet(2, 999)) == []
    assert orderer.waiting(("acc", 0, "ps-mpa-0")) == 0


async def test_duplicate_of_the_last_number_is_released_again() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    assert numbers(orderer.restore_order(packet(2, 1001))) == [2]
    assert numbers(orderer.restore_order(packet(2, 1001))) == [2]
    assert numbers(orderer.restore_order(packet(3, 1002))) == [3]


async def test_next_number_releases_waiting_successors() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    assert orderer.restore_order(packet(4, 1003)) == []
    assert orderer.restore_order(packet(3, 1002)) == []
    assert orderer.restore_order(packet(3, 1002)) == []  # a duplicate waits too
    assert numbers(orderer.restore_order(packet(2, 1001))) == [2, 3, 3, 4]
    assert numbers(orderer.restore_order(packet(5, 1004))) == [5]


async def test_recorded_timestamp_follows_released_packets() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    orderer.restore_order(packet(2, 1500))
    assert orderer.restore_order(packet(3, 1400)) == []  # older than the last released packet: dropped


async def test_numbered_packets_before_the_first_session_wait() -> None:
    events = Events()
    orderer = PacketOrderer(events, timeout=60)
    assert orderer.restore_order(packet(1, 900)) == []
    assert orderer.restore_order(packet(2, 950)) == []
    assert started(orderer, 3, 1000) == [3]
    assert orderer.waiting(("acc", 0, "ps-mpa-0")) == 0  # older than the session: discarded
    orderer.close()


async def test_wait_list_keeps_the_newest_hundred() -> None:
    orderer = PacketOrderer(Events(), timeout=60)
    started(orderer, 1, 1000)
    for number in range(3, 3 + WAIT_LIST_LIMIT + 10):
        orderer.restore_order(packet(number, 1001))
    key = ("acc", 0, "ps-mpa-0")
    assert orderer.waiting(key) == WAIT_LIST_LIMIT
    # the oldest were dropped: the missing packet 2 no longer closes the gap up to them
    assert numbers(orderer.restore_order(packet(2, 1001))) == [2]
    orderer.close()


async def test_streams_are_independent() -> None:
    orderer = PacketOrderer(Events())
    started(orderer, 1, 1000)
    other = packet(1, 1000, "synchronizationStarted", "x", host="ps-mpa-1")
    assert numbers(orderer.restore_order(other)) == [1]
    assert orderer.restore_order(packet(3, 1000, host="ps-mpa-1")) == []
    assert numbers(orderer.restore_order(packet(2, 1000))) == [2]


async def test_gap_older_than_the_timeout_is_reported_once_per_session() -> None:
    events = Events()
    orderer = PacketOrderer(events, timeout=0.05)
    started(orderer, 1, 1000)
    orderer.restore_order(packet(3, 1001))
    orderer.restore_order(packet(4, 1001))
    await asyncio.sleep(0.2)
    assert events.calls == [("acc", 0, 2, 3)]
    orderer.restore_order(packet(6, 1001))
    await asyncio.sleep(0.2)
    assert len(events.calls) == 1  # once per session
    started(orderer, 10, 2000, "s2")
    orderer.restore_order(packet(12, 2001))
    await asyncio.sleep(0.2)
    assert events.calls[-1] == ("acc", 0, 11, 12)
    orderer.close()


async def test_gap_filled_in_time_is_not_reported() -> None:
    events = Events()
    orderer = PacketOrderer(events, timeout=0.1)
    started(orderer, 1, 1000)
    orderer.restore_order(packet(3, 1001))
    orderer.restore_order(packet(2, 1001))
    await asyncio.sleep(0.25)
    assert events.calls == []


async def test_waiting_before_any_session_is_not_reported() -> None:
    events = Events()
    orderer = PacketOrderer(events, timeout=0.05)
    orderer.restore_order(packet(5, 1000))
    await asyncio.sleep(0.2)
    assert events.calls == []
    orderer.close()


async def test_resets_forget_streams_and_their_timers() -> None:
    events = Events()
    orderer = PacketOrderer(events, timeout=0.05)
    started(orderer, 1, 1000)
    orderer.restore_order(packet(3, 1001))
    other = packet(1, 1000, "synchronizationStarted", "x", instance=1)
    orderer.restore_order(other)
    orderer.restore_order(packet(3, 1001, instance=1))
    orderer.reset_stream(("acc", 0, "ps-mpa-0"))
    orderer.reset_accounts({"acc"}, 1)
    await asyncio.sleep(0.2)
    assert events.calls == []
    # after a reset, a numbered packet waits for a new session again
    assert orderer.restore_order(packet(2, 1001)) == []
    orderer.close()
