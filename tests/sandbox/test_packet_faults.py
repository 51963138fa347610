"""Packet faults (POST /sandbox/faults/packets): swapped, skipped and duplicated sequence numbers on a stream."""

from __future__ import annotations

import itertools

import httpx
import pytest
from test_realtime_helpers import Wire

from mtdata.sandbox import SandboxHandle

PATH = "/sandbox/faults/packets"


@pytest.fixture
def fast(mtdata_sandbox_factory) -> SandboxHandle:
    """A sandbox whose market runs fast from a Wednesday, so prices packets come every streaming step."""
    return mtdata_sandbox_factory(speed=1000, start="2026-11-18T09:00:00Z")


@pytest.fixture
async def wire(fast: SandboxHandle, sio_connect) -> Wire:
    """A raw client, subscribed, synchronized (numbering has begun) and streaming EURUSD quotes."""
    wire = await Wire.connect(sio_connect, fast)
    await wire.subscribe()
    await wire.synchronize()
    await wire.ok("subscribeToMarketData", symbol="EURUSD", instanceIndex=0)
    await wire.until(lambda: wire.of_type("prices"))
    return wire


def post(box: SandboxHandle, body: object) -> httpx.Response:
    return httpx.post(box.url + PATH, json=body, headers={"auth-token": box.token}, timeout=30)


def numbers(wire: Wire) -> list[int]:
    """Sequence numbers of every numbered packet received so far."""
    return [p["sequenceNumber"] for p in wire.packets if "sequenceNumber" in p]


def steps(wire: Wire) -> list[int]:
    """Differences between consecutive sequence numbers (1 everywhere on an undisturbed stream)."""
    got = numbers(wire)
    return [b - a for a, b in itertools.pairwise(got)]


async def test_swap_sends_pairs_in_reverse_order(fast: SandboxHandle, wire: Wire) -> None:
    assert set(steps(wire)) <= {1}
    answer = post(fast, {"accountId": fast.account_id, "action": "swap", "count": 2})
    assert answer.status_code == 201 and answer.json()["streams"] == 1
    await wire.until(lambda: steps(wire).count(-1) == 2 and steps(wire)[-3:] == [1, 1, 1])
    got = numbers(wire)
    assert sorted(got) == list(range(got[0], got[0] + len(got)))  # nothing lost, nothing repeated
    assert "packetFaults" not in httpx.get(fast.url + "/sandbox/faults", headers={"auth-token": fast.token}).json()


async def test_skip_leaves_a_gap(fast: SandboxHandle, wire: Wire) -> None:
    assert post(fast, {"accountId": fast.account_id, "action": "skip"}).status_code == 201
    await wire.until(lambda: 2 in steps(wire) and steps(wire)[-3:] == [1, 1, 1])
    assert steps(wire).count(2) == 1 and set(steps(wire)) == {1, 2}


async def test_duplicate_repeats_a_number(fast: SandboxHandle, wire: Wire) -> None:
    assert post(fast, {"accountId": fast.account_id, "action": "duplicate", "count": 2}).status_code == 201
    await wire.until(lambda: steps(wire).count(0) == 2 and steps(wire)[-3:] == [1, 1, 1])
    assert set(steps(wire)) == {0, 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"action": "swap"}, "accountId"), ({"accountId": "x"}, "action"),
     ({"accountId": "x", "action": "swap", "count": 0}, "count")],
)  # fmt: skip
def test_bad_bodies(fast: SandboxHandle, body: dict, field: str) -> None:
    answer = post(fast, body)
    assert answer.status_code == 400 and answer.json()["details"][0]["parameter"] == field


def test_unknown_action_and_account(fast: SandboxHandle) -> None:
    answer = post(fast, {"accountId": fast.account_id, "action": "shuffle"})
    assert answer.status_code == 400 and answer.json()["details"][0]["parameter"] == "action"
    assert post(fast, {"accountId": "nope", "action": "swap"}).status_code == 404


async def test_clearing_faults_removes_packet_faults(fast: SandboxHandle, wire: Wire) -> None:
    post(fast, {"accountId": fast.account_id, "action": "skip", "count": 1000})
    shown = httpx.get(fast.url + "/sandbox/faults", headers={"auth-token": fast.token}).json()["packetFaults"]
    assert shown[0]["action"] == "skip" and shown[0]["accountId"] == fast.account_id
    assert httpx.delete(fast.url + "/sandbox/faults", headers={"auth-token": fast.token}).status_code == 204
    await wire.until(lambda: steps(wire)[-3:] == [1, 1, 1])
