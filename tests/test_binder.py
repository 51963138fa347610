"""The Binder path as repo2docker runs it: ``binder/start`` around a command that runs notebook 01 (issue 16 item 6).

The start hook runs a sandbox in the background and exports where it is; the notebook's ``mtdata.connect()``
must use that sandbox (the session's source says "sandbox at <url>"), not start one of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import mtdata
from mtdata import sandbox_env
from mtdata.errors import ValidationException

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"
RUNNER = r"""
import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
check = 'print(session._repr_html_())\nprint("EURUSD open:", session.symbols().loc["EURUSD", "market_open"])'
notebook.cells.insert(len(notebook.cells) - 1, nbformat.v4.new_code_cell(check))
NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
print(notebook.cells[-2].outputs[0]["text"])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.timeout(300)
def test_binder_start_runs_notebook_01_on_the_background_sandbox(tmp_path: Path):
    data_dir, port = tmp_path / "sandbox", free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MTDATA_")}
    env.update(HOME=str(tmp_path), MTDATA_SANDBOX_DIR=str(data_dir), MTDATA_SANDBOX_PORT=str(port),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")  # fmt: skip
    runner = tmp_path / "run_notebook.py"
    runner.write_text(RUNNER)
    try:
        done = subprocess.run(
            [str(ROOT / "binder" / "start"), sys.executable, str(runner), str(NOTEBOOK)],
            cwd=ROOT / "notebooks", env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        info = json.loads((data_dir / "sandbox.json").read_text())
        assert info["url"] == f"http://127.0.0.1:{port}"
        assert f"sandbox at {info['url']}" in done.stdout  # the notebook's session used the background sandbox
        assert "embedded sandbox" not in done.stdout and info["token"] not in done.stdout
        assert "EURUSD open: True" in done.stdout  # its clock pinned to a weekday, whatever day it is here
    finally:
        pid_file = data_dir / "sandbox.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)


def test_a_sandbox_url_without_its_token_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(sandbox_env.URL, "http://127.0.0.1:9")
    monkeypatch.delenv(sandbox_env.TOKEN, raising=False)
    with pytest.raises(ValidationException, match=sandbox_env.TOKEN):
        mtdata.connect(progress=False)
    monkeypatch.setenv(sandbox_env.TOKEN, "secret-token-0123456789")
    monkeypatch.delenv(sandbox_env.ACCOUNT_ID, raising=False)
    monkeypatch.delenv(sandbox_env.ACCOUNT_ID_FALLBACK, raising=False)
    with pytest.raises(ValidationException, match=sandbox_env.ACCOUNT_ID):
        mtdata.connect(progress=False)
    monkeypatch.setenv(sandbox_env.ACCOUNT_ID, "acc")
    assert "secret" not in repr(sandbox_env.from_environment())


def test_connect_uses_the_sandbox_the_environment_names(monkeypatch: pytest.MonkeyPatch, mtdata_sandbox):
    monkeypatch.setenv(sandbox_env.URL, mtdata_sandbox.url)
    monkeypatch.setenv(sandbox_env.TOKEN, mtdata_sandbox.token)
    monkeypatch.setenv(sandbox_env.ACCOUNT_ID, mtdata_sandbox.account_id)
    with mtdata.connect(progress=False, sandbox={"seed": 5}) as session:
        assert session.sandbox is None and session.metatrader_account.id == mtdata_sandbox.account_id
        page = session._repr_html_()
        assert f"sandbox at {mtdata_sandbox.url}" in page and mtdata_sandbox.token not in page + repr(session)
