"""The ``mtdata`` command line: ``sandbox`` (foreground server), ``demo``, and Binder's start hook."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mtdata.cli import SANDBOX_FILE, main

ROOT = Path(__file__).resolve().parents[1]
#: Seconds a request to a sandbox process may take (httpx's default, 5 s, is short for a loaded 2-core machine).
HTTP_TIMEOUT = 30


def _wait_for_file(path: Path, proc: subprocess.Popen | None = None, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        assert proc is None or proc.poll() is None, proc.communicate()[0]
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


def _env() -> dict[str, str]:
    """The environment with this interpreter's bin dir first on PATH (where the ``mtdata`` script lives)."""
    return {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}


def test_refuses_a_remote_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_rejects_a_malformed_replay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--replay", "EURUSD"]) == 2
    assert "SYMBOL=PATH" in capsys.readouterr().err


def test_rejects_a_replay_file_with_times_out_of_order(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,open,high,low,close\n2024-03-04T09:01:00Z,1.1,1.2,1.0,1.1\n2024-03-04T09:00:00Z,1.1,1.2,1.0,1.1\n")
    data = tmp_path / "data"
    data.mkdir()
    assert main(["sandbox", "--replay", f"EURUSD={bad}", "--data-dir", str(data)]) == 2
    assert "replay: " in (err := capsys.readouterr().err) and "row 2 is before row 1" in err
    assert list(data.iterdir()) == []  # the data dir was not opened


def test_rejects_a_malformed_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--start", "Wednesday"]) == 2
    assert "--start" in capsys.readouterr().err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_serves_until_signalled(tmp_path: Path, stop_signal: int) -> None:
    command = [sys.executable, "-m", "mtdata", "sandbox", "--data-dir", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        info = _wait_for_file(tmp_path / SANDBOX_FILE, proc)
        assert info["pid"] == proc.pid
        assert httpx.get(info["url"] + "/", timeout=HTTP_TIMEOUT).status_code == 200
        faults = httpx.get(info["url"] + "/sandbox/faults", headers={"auth-token": info["token"]}, timeout=HTTP_TIMEOUT)
        assert faults.json()["restartAvailable"] is True
        proc.send_signal(stop_signal)
        output, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, output
    assert f"export MTDATA_SANDBOX_TOKEN={info['token']}" in output
    assert f"export MTDATA_ACCOUNT_ID={info['accountId']}" in output
    assert not (tmp_path / SANDBOX_FILE).exists()


def test_restart_fault_restarts_the_cli_server(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mtdata", "sandbox", "--data-dir", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        info = _wait_for_file(tmp_path / SANDBOX_FILE, proc)
        (tmp_path / SANDBOX_FILE).unlink()
        answer = httpx.post(
            info["url"] + "/sandbox/faults/restart", headers={"auth-token": info["token"]}, timeout=HTTP_TIMEOUT
        )
        assert answer.status_code == 202
        again = _wait_for_file(tmp_path / SANDBOX_FILE, proc)
        assert again["url"] == info["url"]
        assert again["token"] == info["token"]
        assert httpx.get(again["url"] + "/", timeout=HTTP_TIMEOUT).status_code == 200
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "mtdata sandbox restarting" in output
    assert proc.returncode == 0


def test_binder_start_exports_the_sandbox_and_runs_the_command(tmp_path: Path) -> None:
    check = (
        "import os, httpx; url = os.environ['MTDATA_SANDBOX_URL']; "
        "assert httpx.get(url + '/', timeout=30).status_code == 200; "
        "h = {'auth-token': os.environ['MTDATA_SANDBOX_TOKEN']}; "
        "assert httpx.get(url + '/sandbox/faults', headers=h, timeout=30).status_code == 200; "
        "print('ready', os.environ['MTDATA_ACCOUNT_ID'])"
    )
    env = {**_env(), "MTDATA_SANDBOX_DIR": str(tmp_path), "MTDATA_SANDBOX_PORT": "0"}
    try:
        done = subprocess.run([str(ROOT / "binder" / "start"), sys.executable, "-c", check], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        info = json.loads((tmp_path / SANDBOX_FILE).read_text())
    finally:
        pid_file = tmp_path / SANDBOX_FILE
        pid = json.loads(pid_file.read_text())["pid"] if pid_file.exists() else None
        if pid:
            os.kill(pid, signal.SIGTERM)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ready {info['accountId']}"
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:  # removed by the sandbox on a clean stop
        time.sleep(0.05)
    assert not pid_file.exists()


def test_demo_runs_the_notebook_layer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0  # the full demo is tested in tests/notebook/test_demo.py
    assert "Parquet export" in capsys.readouterr().out
