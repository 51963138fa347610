"""The README's local route to the notebooks, followed in a fresh venv: its first command (run as written, in a
copy of the repository) installs mtdata with the jupyter extra and runs the demo; then ``jupyter lab notebooks/``
from that venv serves the tutorials, in JupyterLab and in Notebook 7's interface. Packages come from the package
index pip is configured with (see fresh_install.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from fresh_install import ROOT, copy_repository, free_port, outside_environment

pytestmark = pytest.mark.timeout(900)


def first_command() -> str:
    """The first line of the README's first ``bash`` block."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block is not None, "the README opens with a bash block of set-up commands"
    return block.group(1).splitlines()[0]


def test_the_first_command_then_jupyter_lab_serves_the_tutorials(tmp_path: Path):
    command = first_command()
    assert 'pip install -e ".[jupyter]"' in command and command.endswith("mtdata demo"), command
    repo = tmp_path / "mtdata"
    copy_repository(repo)
    env = outside_environment()
    installed = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=800)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "its sandbox have stopped" in installed.stdout  # the demo ran to its end

    port = free_port()
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), IPYTHONDIR=str(tmp_path / "ipython"))  # fmt: skip
    lab = subprocess.Popen(
        [".venv/bin/jupyter", "lab", "notebooks/", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--IdentityProvider.token=", "--allow-root", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly"],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 120
            while True:
                assert lab.poll() is None, "jupyter lab exited"
                assert time.monotonic() < deadline, "jupyter lab did not answer in 2 minutes"
                try:
                    contents = client.get("/api/contents")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            names = {item["name"] for item in contents.json()["content"]}
            assert {"01_quickstart.ipynb", "03_live_panels.ipynb", "04_trading_from_cells.ipynb"} <= names, names
            page = client.get("/lab/tree/01_quickstart.ipynb")
            assert page.status_code == 200 and "JupyterLab" in page.text
            extensions = client.get("/lab/api/extensions").text  # the panels' front ends came with the extra
            assert "@jupyter-widgets/jupyterlab-manager" in extensions and "@bokeh/jupyter_bokeh" in extensions
            notebook7 = client.get("/notebooks/01_quickstart.ipynb")  # and Notebook 7's interface, beside the Lab
            assert notebook7.status_code == 200 and "<title>Jupyter Notebook" in notebook7.text
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(30)
