"""The Binder path as repo2docker runs it (issue 16 items 6 and 7).

repo2docker copies the repository, installs ``binder/requirements.txt`` with pip from the repository's root
(the home folder of Binder's user), and starts every command through ``binder/start``, which runs a sandbox in
the background and exports where it is. Here: a fresh venv from a copy of the tracked files, ``binder/start``
around a command that runs notebook 01 with nbclient in that venv's kernel; the notebook's ``mtdata.connect()``
must use the background sandbox (the session's source says "sandbox at <url>"), not start one of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import tomllib
from pathlib import Path

import pytest
from fresh_install import ROOT, copy_repository, free_port, fresh_venv, outside_environment

import mtdata
from mtdata import sandbox_env
from mtdata.errors import ValidationException

RUNNER = r"""
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
check = (
    "import sys\n"
    'print("kernel:", sys.prefix, "mtdata:", mtdata.__file__)\n'
    "print(session._repr_html_())\n"
    'print("EURUSD open:", session.symbols().loc["EURUSD", "market_open"])'
)
notebook.cells.insert(len(notebook.cells) - 1, nbformat.v4.new_code_cell(check))
in_its_folder = {"metadata": {"path": str(path.parent)}}  # the kernel's cwd, as Jupyter's server sets it
NotebookClient(notebook, timeout=120, kernel_name="python3", resources=in_its_folder).execute()
print("runner:", sys.prefix)
print(notebook.cells[-2].outputs[0]["text"])
"""


@pytest.mark.timeout(900)
def test_binder_start_runs_notebook_01_on_the_background_sandbox_in_a_fresh_venv(tmp_path: Path):
    repo = tmp_path / "repo"
    copy_repository(repo)
    venv_bin = fresh_venv(tmp_path / "venv", repo / "binder" / "requirements.txt", cwd=repo)
    venv = venv_bin.parent.resolve()
    port = free_port()  # free now, just before the sandbox binds it (not before pip's minutes of connections)
    env = outside_environment()  # on Binder the repository is the home folder: the sandbox's data goes under it
    env.update(HOME=str(repo), MTDATA_SANDBOX_PORT=str(port), PATH=f"{venv_bin}{os.pathsep}{env['PATH']}")
    data_dir = repo / ".mtdata" / "sandbox"
    runner = tmp_path / "run_notebook.py"
    runner.write_text(RUNNER)
    try:
        done = subprocess.run(
            [str(repo / "binder" / "start"), "python", str(runner), str(repo / "notebooks" / "01_quickstart.ipynb")],
            cwd=repo, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        info = json.loads((data_dir / "sandbox.json").read_text())
        assert info["url"] == f"http://127.0.0.1:{port}"
        assert f"sandbox at {info['url']}" in done.stdout  # the notebook's session used the background sandbox
        assert "embedded sandbox" not in done.stdout and info["token"] not in done.stdout
        assert "EURUSD open: True" in done.stdout  # its clock pinned to a weekday, whatever day it is here
        # the notebook ran in the fresh venv's kernel, on the copy's mtdata (not the project's venv or checkout)
        kernel = re.search(r"^kernel: (\S+) mtdata: (\S+)$", done.stdout, re.M)
        runner_prefix = re.search(r"^runner: (\S+)$", done.stdout, re.M)  # the python binder/start found on PATH
        assert kernel is not None and runner_prefix is not None, done.stdout[-3000:]
        assert Path(kernel.group(1)).resolve() == Path(runner_prefix.group(1)).resolve() == venv, done.stdout[-3000:]
        assert Path(kernel.group(2)).resolve().is_relative_to(repo.resolve()), kernel.group(0)
    finally:
        pid_file = data_dir / "sandbox.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)


def test_binder_folder_has_what_repo2docker_reads():
    """repo2docker takes the Python version from runtime.txt, pip requirements from requirements.txt (this
    project, from the repository's root) and runs ``start`` (executable in git) around every command."""
    binder = ROOT / "binder"
    version = re.fullmatch(r"python-(\d+)\.(\d+)", (binder / "runtime.txt").read_text().strip())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"])
    assert version is not None and minimum is not None
    assert tuple(map(int, version.groups())) >= tuple(map(int, minimum.groups()))
    requirements = [line.strip() for line in (binder / "requirements.txt").read_text().splitlines()]
    assert "-e .[notebook,live]" in requirements and any(line.startswith("voila") for line in requirements)
    mode = subprocess.run(["git", "ls-files", "-s", "binder/start"], cwd=ROOT, capture_output=True, text=True).stdout
    assert mode.startswith("100755 "), mode
    assert (binder / "start").read_text().rstrip().endswith('exec "$@"')


def test_the_readme_binder_links_open_the_tutorial_and_the_voila_dashboard():
    """Every mybinder.org link of the README opens a file of the repository; the Voila ones the dashboard."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+\?urlpath=([^)\s]+)", readme)
    opened = [re.sub(r"%2F", "/", path) for path in paths]
    assert opened and all((ROOT / re.sub(r"^(lab/tree|voila/render)/", "", path)).is_file() for path in opened)
    voila = {path for path in opened if path.startswith("voila/")}
    assert voila == {"voila/render/notebooks/dashboard.ipynb"}, opened
    assert "lab/tree/notebooks/01_quickstart.ipynb" in opened, opened


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
