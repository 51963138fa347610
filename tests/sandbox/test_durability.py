"""Nothing the sandbox acknowledged is lost when its process is killed (``kill -9``) and started again."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mtdata.cli import RawStream

ACCOUNTS = "/users/current/accounts"
PROFILES = "/users/current/provisioning-profiles"


class SandboxProcess:
    """``python -m mtdata sandbox`` as a child process; ``url`` is read from what it prints."""

    def __init__(self, data_dir: Path, port: int = 0, start: str | None = None) -> None:
        command = [sys.executable, "-m", "mtdata", "sandbox", "--port", str(port), "--data-dir", str(data_dir)]
        if start is not None:
            command += ["--start", start]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.proc.stdout], daemon=True).start()
        output = []
        while True:
            line = lines.get(timeout=30)
            output.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
            assert self.proc.poll() is None, "".join(output)
        self.port = int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator:
    """Start sandbox processes on ``tmp_path/data``; every one is killed after the test."""
    procs: list[SandboxProcess] = []

    def start(port: int = 0, start: str | None = None) -> SandboxProcess:
        procs.append(SandboxProcess(tmp_path / "data", port, start))
        return procs[-1]

    yield start
    for proc in procs:
        proc.kill()


def _client(proc: SandboxProcess, data_dir: Path) -> httpx.Client:
    token = json.loads((data_dir / "sandbox.json").read_text())["token"]
    return httpx.Client(base_url=proc.url, headers={"auth-token": token}, timeout=30)


def _new_account(i: int) -> dict:
    return {"name": f"durable {i}", "server": "Sandbox-Demo", "login": str(70000 + i), "password": "secret",
            "platform": "mt5", "magic": i, "region": "vint-hill", "type": "cloud-g2"}  # fmt: skip


def _require_rest(rest: httpx.Client) -> None:
    if rest.get(ACCOUNTS).status_code == 404:
        pytest.skip("the REST accounts endpoints have not landed yet")


def test_state_survives_kill_9(launch, tmp_path: Path) -> None:
    first = launch()
    with _client(first, tmp_path / "data") as rest:
        _require_rest(rest)
        demo_before = rest.get(ACCOUNTS).json()
        account_ids = [rest.post(ACCOUNTS, json=_new_account(i)).raise_for_status().json()["id"] for i in range(3)]
        profile = {"name": "durable profile", "version": 5, "brokerTimezone": "EET", "brokerDSTSwitchTimezone": "EET"}
        profile_id = rest.post(PROFILES, json=profile).raise_for_status().json()["id"]
    first.kill()
    second = launch(port=first.port)
    assert second.url == first.url
    with _client(second, tmp_path / "data") as rest:
        listed = {a["_id"] for a in rest.get(ACCOUNTS).json()}
        assert set(account_ids) | {a["_id"] for a in demo_before} == listed
        for i, account_id in enumerate(account_ids):
            assert rest.get(f"{ACCOUNTS}/{account_id}").json()["name"] == f"durable {i}"
        assert rest.get(f"{PROFILES}/{profile_id}").json()["name"] == "durable profile"


def test_every_acknowledged_post_survives_a_kill_under_load(launch, tmp_path: Path) -> None:
    first = launch()
    with _client(first, tmp_path / "data") as rest:
        _require_rest(rest)
        token = rest.headers["auth-token"]
    acknowledged: list[str] = []

    async def post_many(total: int = 400, kill_after: int = 60) -> None:
        async with httpx.AsyncClient(base_url=first.url, headers={"auth-token": token}, timeout=30) as client:
            gate = asyncio.Semaphore(16)

            async def post(i: int) -> None:
                async with gate:
                    try:
                        answer = await client.post(ACCOUNTS, json=_new_account(i))
                    except httpx.HTTPError:
                        return
                if answer.is_success and answer.status_code != 202:
                    acknowledged.append(answer.json()["id"])
                    if len(acknowledged) == kill_after:
                        first.kill()

            await asyncio.gather(*(post(i) for i in range(total)))

    asyncio.run(post_many())
    assert 60 <= len(acknowledged) < 400
    assert first.proc.returncode == -signal.SIGKILL
    second = launch(port=first.port)
    with _client(second, tmp_path / "data") as rest:
        stored = {a["_id"] for a in rest.get(ACCOUNTS, params={"limit": 1000}).json()}
        assert set(acknowledged) <= stored
        for account_id in acknowledged[-5:]:
            assert rest.get(f"{ACCOUNTS}/{account_id}").status_code == 200


def test_trades_survive_kill_9(launch, tmp_path: Path) -> None:
    first = launch(start="2026-11-18T09:00:00Z")  # a Wednesday: FX trades
    info = json.loads((tmp_path / "data" / "sandbox.json").read_text())

    async def trade() -> str:
        stream = RawStream(first.url, info["token"], info["accountId"])
        await stream.open()
        try:
            order = {"actionType": "ORDER_TYPE_BUY", "symbol": "EURUSD", "volume": 0.1}
            answer = await stream.request("trade", trade=order)
        finally:
            await stream.close()
        assert answer["response"]["stringCode"] == "TRADE_RETCODE_DONE"
        return answer["response"]["positionId"]

    async def positions(proc: SandboxProcess) -> set[str]:
        stream = RawStream(proc.url, info["token"], info["accountId"])
        await stream.open()
        try:
            return {p["id"] for p in (await stream.request("getPositions", application="RPC"))["positions"]}
        finally:
            await stream.close()

    position_id = asyncio.run(trade())
    first.kill()
    second = launch(port=first.port)
    assert position_id in asyncio.run(positions(second))


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mtdata-wal-checkpoint"]


def test_wal_checkpoints_run_on_their_own_thread_and_stop_with_the_sandbox(mtdata_sandbox_factory) -> None:
    before = _checkpoint_threads()
    box = mtdata_sandbox_factory(start="2026-11-18T09:00:00Z")
    running = [t for t in _checkpoint_threads() if t not in before]
    assert len(running) == 1
    assert box.server.store.execute("PRAGMA wal_autocheckpoint")[0][0] == 0  # trades' COMMITs never checkpoint
    box.restart()
    assert not running[0].is_alive() and len([t for t in _checkpoint_threads() if t not in before]) == 1
    box.stop()
    assert [t for t in _checkpoint_threads() if t not in before] == []
